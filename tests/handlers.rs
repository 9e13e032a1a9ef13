//! Every sample event in `events/` through its function's handler,
//! in-process, against DynamoDB Local (a fresh demo table per event).

use std::collections::BTreeMap;

use lambda_http::{Body, Request, Response};
use messenger_tests::local::demo_app;
use messenger_tests::template::repo_root;
use serde_json::Value;
use shared::endpoints;
use shared::http::respond;
use shared::App;

/// The status each event must get on fresh demo data.
const EXPECTED: [(&str, u16); 15] = [
    ("register", 201),
    ("register-taken", 409),
    ("login", 200),
    ("login-wrong-password", 401),
    ("logout", 200),
    ("send_message", 201),
    ("send_message-unknown-recipient", 404),
    ("send_message-no-token", 401),
    ("fetch_new_messages", 200),
    ("fetch_messages", 200),
    ("fetch_messages-forbidden", 403),
    ("delete_message", 201),
    ("delete_message-not-found", 404),
    ("delete_messages", 201),
    ("conversations", 200),
];

async fn dispatch(function: &str, app: &App, request: Request) -> Response<Body> {
    respond(match function {
        "register" => endpoints::register::handle(app, request).await,
        "login" => endpoints::login::handle(app, request).await,
        "logout" => endpoints::logout::handle(app, request).await,
        "send_message" => endpoints::send_message::handle(app, request).await,
        "fetch_new_messages" => endpoints::fetch_new_messages::handle(app, request).await,
        "fetch_messages" => endpoints::fetch_messages::handle(app, request).await,
        "delete_message" => endpoints::delete_message::handle(app, request).await,
        "delete_messages" => endpoints::delete_messages::handle(app, request).await,
        "conversations" => endpoints::conversations::handle(app, request).await,
        other => panic!("no function {other}"),
    })
}

fn event_files() -> BTreeMap<String, String> {
    std::fs::read_dir(repo_root().join("events"))
        .expect("events/ exists")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json") && path.file_name().unwrap() != "env.json")
        .map(|path| {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, std::fs::read_to_string(&path).expect("readable event"))
        })
        .collect()
}

async fn run_event(stem: &str, json: &str) -> (App, u16, Value) {
    let function = stem.split('-').next().unwrap();
    let request =
        lambda_http::request::from_str(json).unwrap_or_else(|e| panic!("{stem}: not an API Gateway event: {e}"));
    let app = demo_app(&format!("events-{stem}")).await;
    let response = dispatch(function, &app, request).await;
    let status = response.status().as_u16();
    let body: Value = serde_json::from_slice(response.body().as_ref()).expect("JSON response");
    (app, status, body)
}

#[tokio::test]
async fn every_event_gets_its_documented_status() {
    let files = event_files();
    let expected: BTreeMap<String, u16> = EXPECTED.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    assert_eq!(files.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>(), "every event has an expectation");
    for (stem, json) in &files {
        let (_, status, body) = run_event(stem, json).await;
        assert_eq!(status, expected[stem], "{stem}: {body}");
        if status >= 400 {
            assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{stem}: {body}");
        }
    }
}

#[tokio::test]
async fn events_do_what_they_say() {
    let files = event_files();

    let (_, _, body) = run_event("fetch_new_messages", &files["fetch_new_messages"]).await;
    let texts: Vec<&str> =
        body["messages"].as_array().unwrap().iter().map(|m| m["message"].as_str().unwrap()).collect();
    assert_eq!(texts, ["Hi Alice, lunch at noon?", "Or one o'clock, if that suits you better."]);
    assert_eq!(body["more"], false);

    let (app, _, body) = run_event("delete_messages", &files["delete_messages"]).await;
    assert_eq!(body["deleted"], 2);
    assert_eq!(body["not_found"], serde_json::json!(["2020-01-01T00:00:00Z"]));
    let alice = shared::model::Identifier::parse("login", "alice").unwrap();
    let pairs = app.store.pairs(&alice).await.unwrap();
    assert_eq!(pairs.len(), 1, "the conversation row stays");
    assert_eq!(pairs[0].new_messages, 0, "deleted messages no longer count as new");

    let (app, _, _) = run_event("logout", &files["logout"]).await;
    let bob_token = shared::auth::token_hash("demo-token-bob");
    assert_eq!(app.store.token(&bob_token).await.unwrap(), None, "logout revokes the token");
    let alice_token = shared::auth::token_hash("demo-token-alice");
    assert!(app.store.token(&alice_token).await.unwrap().is_some(), "other tokens keep working");
}
