//! The web client and the API reference page (`web/`, built into
//! `web/dist`). The `web` function serves them from files compiled into its
//! binary (its build script embeds them), so `sam build`, which packages
//! only the binary, carries them, and one `sam deploy` ships them.

use std::time::Instant;

use lambda_http::http::header::{CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use lambda_http::http::{HeaderMap, StatusCode};
use lambda_http::{service_fn, Body, Error, Request, RequestExt, Response};

use crate::app::init_logging;
use crate::error::ApiError;
use crate::http::error_response;

/// One file of `web/dist`, as built.
pub struct Asset {
    /// Its path under `web/dist`, e.g. `assets/index-B3lpMUHP.js`.
    pub path: &'static str,
    pub body: &'static [u8],
    /// The same bytes gzipped at build time, for the types that shrink.
    pub gzipped: Option<&'static [u8]>,
}

/// Hashed file names change with their content: cached for a year.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Pages name the hashed files of the current build: revalidated each time.
const REVALIDATE: &str = "no-cache";
/// Pages load only what the build made; the socket may be on another host
/// (the WebSocket API has an address of its own). Swagger UI sets inline
/// styles and shows images as data URLs.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The file a request path names: `/` the client, `/docs` the reference,
/// `/assets/<file>` a file of the build.
pub fn file_of(path: &str) -> Option<&str> {
    match path {
        "/" => Some("index.html"),
        "/docs" => Some("docs.html"),
        _ => path.strip_prefix('/').filter(|file| file.starts_with("assets/") && !file.contains("..")),
    }
}

fn content_type(file: &str) -> &'static str {
    match file.rsplit_once('.').map_or("", |(_, extension)| extension) {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "yaml" | "yml" => "application/yaml",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Whether the client takes gzip (`Accept-Encoding`, a `q=0` refusing it).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let Some(accepted) = headers.get("accept-encoding").and_then(|value| value.to_str().ok()) else {
        return false;
    };
    accepted.split(',').any(|coding| {
        let mut parts = coding.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let refused =
            parts.any(|parameter| parameter.strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()) == Some(0.0));
        (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
    })
}

/// The response to a GET of `path`: the file with its type and caching,
/// gzipped when the client takes it; a JSON 404 for any other path.
pub fn respond(assets: &[Asset], path: &str, headers: &HeaderMap) -> Response<Body> {
    let Some(asset) = file_of(path).and_then(|file| assets.iter().find(|asset| asset.path == file)) else {
        return error_response(&ApiError::NotFound(format!("there is no page at {path}")));
    };
    let page = asset.path.ends_with(".html");
    let mut response = Response::builder()
        .status(StatusCode::OK)
        .header(CONTENT_TYPE, content_type(asset.path))
        .header(CACHE_CONTROL, if page { REVALIDATE } else { IMMUTABLE })
        .header("x-content-type-options", "nosniff");
    if page {
        response = response
            .header("content-security-policy", CONTENT_SECURITY_POLICY)
            .header("referrer-policy", "no-referrer");
    }
    let body = match asset.gzipped {
        Some(gzipped) => {
            response = response.header(VARY, "accept-encoding");
            if accepts_gzip(headers) {
                response = response.header(CONTENT_ENCODING, "gzip");
                Body::Binary(gzipped.to_vec())
            } else {
                text_or_binary(asset.body)
            }
        }
        None => text_or_binary(asset.body),
    };
    response.body(body).expect("static response parts are valid")
}

/// Text goes out as it is; anything else base64-encoded, as Lambda requires.
fn text_or_binary(bytes: &'static [u8]) -> Body {
    match std::str::from_utf8(bytes) {
        Ok(text) => Body::Text(text.to_owned()),
        Err(_) => Body::Binary(bytes.to_vec()),
    }
}

/// Runs the `web` function: each GET answered from `assets`, one log line
/// per request as the API's functions write them.
pub async fn serve(assets: &'static [Asset]) -> Result<(), Error> {
    init_logging();
    lambda_http::run(service_fn(move |request: Request| async move {
        let request_id = request.lambda_context_ref().map(|c| c.request_id.clone()).unwrap_or_default();
        let started = Instant::now();
        let response = respond(assets, request.uri().path(), request.headers());
        let span = tracing::info_span!("request", request_id, endpoint = "web");
        span.in_scope(|| {
            tracing::info!(
                status = response.status().as_u16(),
                latency_ms = started.elapsed().as_secs_f64() * 1000.0,
                "request handled"
            )
        });
        Ok::<_, std::convert::Infallible>(response)
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::HeaderValue;

    const ASSETS: &[Asset] = &[
        Asset { path: "index.html", body: b"<!doctype html>client", gzipped: Some(b"\x1f\x8bclient") },
        Asset { path: "docs.html", body: b"<!doctype html>docs", gzipped: None },
        Asset { path: "assets/index-abc123.js", body: b"console.log(1)", gzipped: Some(b"\x1f\x8bjs") },
        Asset { path: "assets/logo-abc123.png", body: b"\x89PNG\xff", gzipped: None },
    ];

    fn get(path: &str, accept_encoding: Option<&'static str>) -> Response<Body> {
        let mut headers = HeaderMap::new();
        if let Some(value) = accept_encoding {
            headers.insert("accept-encoding", HeaderValue::from_static(value));
        }
        respond(ASSETS, path, &headers)
    }

    #[test]
    fn paths_name_files_of_the_build() {
        assert_eq!(file_of("/"), Some("index.html"));
        assert_eq!(file_of("/docs"), Some("docs.html"));
        assert_eq!(file_of("/assets/index-abc123.js"), Some("assets/index-abc123.js"));
        for outside in ["/index.html", "/docs/", "/assets/../Cargo.toml", "/register", "/favicon.ico"] {
            assert_eq!(file_of(outside), None, "{outside}");
        }
    }

    #[test]
    fn pages_revalidate_and_hashed_files_are_immutable() {
        let page = get("/", None);
        assert_eq!(page.status(), 200);
        assert_eq!(page.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(page.headers()[CACHE_CONTROL], "no-cache");
        assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'self'"));
        let script = get("/assets/index-abc123.js", None);
        assert_eq!(script.headers()[CONTENT_TYPE], "text/javascript; charset=utf-8");
        assert_eq!(script.headers()[CACHE_CONTROL], IMMUTABLE);
        assert_eq!(script.body().as_ref(), b"console.log(1)");
        assert!(script.headers().get("content-security-policy").is_none());
        let image = get("/assets/logo-abc123.png", Some("gzip"));
        assert_eq!(image.headers()[CONTENT_TYPE], "image/png");
        assert!(matches!(image.body(), Body::Binary(_)), "not text: base64 on the way out");
        assert!(image.headers().get(CONTENT_ENCODING).is_none());
    }

    #[test]
    fn gzip_only_for_clients_that_take_it() {
        for (accepted, gzipped) in [
            (None, false),
            (Some("gzip, deflate, br"), true),
            (Some("br;q=1.0, GZIP"), true),
            (Some("*"), true),
            (Some("gzip;q=0"), false),
            (Some("gzip; q=0.000, br"), false),
            (Some("gzip;q=0.5"), true),
            (Some("identity"), false),
        ] {
            let response = get("/", accepted);
            assert_eq!(response.headers().get(CONTENT_ENCODING).is_some(), gzipped, "{accepted:?}");
            assert_eq!(response.headers()[VARY], "accept-encoding");
            let expected: &[u8] = if gzipped { b"\x1f\x8bclient" } else { b"<!doctype html>client" };
            assert_eq!(response.body().as_ref(), expected, "{accepted:?}");
        }
        assert!(get("/docs", Some("gzip")).headers().get(CONTENT_ENCODING).is_none(), "no gzipped copy");
    }

    #[test]
    fn anything_else_is_a_json_404() {
        for path in ["/assets/missing.js", "/nowhere", "/assets/../index.html"] {
            let response = get(path, None);
            assert_eq!(response.status(), 404, "{path}");
            let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
            assert_eq!(body["error"], format!("there is no page at {path}"));
        }
    }
}
