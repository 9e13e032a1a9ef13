//! Every sample event in `events/` through its function's handler,
//! in-process, against DynamoDB Local (a fresh demo table per event).

use messenger_tests::events::{assert_all_covered, dispatch, event_files, function_of, EXPECTED};
use messenger_tests::local::demo_app;
use serde_json::Value;
use shared::App;

async fn run_event(stem: &str, json: &str) -> (App, u16, Value) {
    let function = function_of(stem);
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
    assert_all_covered();
    let files = event_files();
    for (stem, status) in EXPECTED {
        let (_, answered, body) = run_event(stem, &files[stem]).await;
        assert_eq!(answered, status, "{stem}: {body}");
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
    let alice = shared::model::Identifier::parse("login", "demo-alice").unwrap();
    let pairs = app.store.pairs(&alice).await.unwrap();
    assert_eq!(pairs.len(), 1, "the conversation row stays");
    assert_eq!(pairs[0].new_messages, 0, "deleted messages no longer count as new");

    let (app, _, _) = run_event("logout", &files["logout"]).await;
    let bob_token = shared::auth::token_hash("demo-token-bob");
    assert_eq!(app.store.token(&bob_token).await.unwrap(), None, "logout revokes the token");
    let alice_token = shared::auth::token_hash("demo-token-alice");
    assert!(app.store.token(&alice_token).await.unwrap().is_some(), "other tokens keep working");
}
