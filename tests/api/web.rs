//! The web client and the API reference over HTTP (functions/web): pages
//! revalidated on every load, the hashed files they name cached for good,
//! gzip only when asked for, and a JSON 404 for any other path.

use crate::helpers::{FileReply, TestApp};

/// The `/assets/...` files a page names.
fn assets_named_by(page: &FileReply) -> Vec<String> {
    let html = String::from_utf8(page.body.clone()).expect("a UTF-8 page");
    html.split("\"/assets/").skip(1).map(|rest| format!("/assets/{}", rest.split('"').next().unwrap())).collect()
}

async fn page(app: &TestApp, path: &str, marker: &str) -> FileReply {
    let page = app.get_file(path, &[]).await;
    assert_eq!(page.status, 200, "{path}");
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8", "{path}");
    assert_eq!(page.header("cache-control"), "no-cache", "{path}: a new build is seen at once");
    assert!(page.header("content-security-policy").contains("default-src 'self'"), "{path}");
    assert!(String::from_utf8_lossy(&page.body).contains(marker), "{path} is the page it should be");
    page
}

#[tokio::test]
async fn the_client_and_the_reference_with_their_files() {
    let app = TestApp::spawn().await;
    let client = page(&app, "/", r#"<div id="app">"#).await;
    let reference = page(&app, "/docs", r#"<main id="reference">"#).await;
    let files = [assets_named_by(&client), assets_named_by(&reference)].concat();
    assert!(files.iter().any(|file| file.ends_with(".js")) && files.iter().any(|file| file.ends_with(".css")));
    for file in files {
        let gzipped = app.get_file(&file, &[("accept-encoding", "gzip, deflate, br")]).await;
        assert_eq!(gzipped.status, 200, "{file}");
        assert_eq!(gzipped.header("cache-control"), "public, max-age=31536000, immutable", "{file}");
        assert_eq!(gzipped.header("content-encoding"), "gzip", "{file}");
        assert!(gzipped.body.starts_with(&[0x1f, 0x8b]), "{file} is gzip");
        let expected_type = if file.ends_with(".js") { "text/javascript" } else { "text/css" };
        assert!(gzipped.header("content-type").starts_with(expected_type), "{file}");
        let plain = app.get_file(&file, &[]).await;
        assert_eq!(plain.header("content-encoding"), "", "{file}: no gzip unless asked for");
        assert!(plain.body.len() > gzipped.body.len(), "{file}");
    }
}

#[tokio::test]
async fn any_other_path_of_the_web_routes_is_a_json_404() {
    let app = TestApp::spawn().await;
    let missing = app.get_file("/assets/no-such-file.js", &[]).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("content-type"), "application/json");
    let body: serde_json::Value = serde_json::from_slice(&missing.body).expect("JSON");
    assert_eq!(body, serde_json::json!({"error": "there is no page at /assets/no-such-file.js"}));
}
