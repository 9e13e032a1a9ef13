//! Every sample event in `events/` through its function's handler,
//! in-process, against DynamoDB Local (a fresh demo table per event).

use crate::helpers::{assert_all_covered, event_files, function_of, handle, texts, Answer, DemoApp, EXPECTED};

async fn run_event(stem: &str, json: &str) -> (DemoApp, Answer) {
    let request =
        lambda_http::request::from_str(json).unwrap_or_else(|e| panic!("{stem}: not an API Gateway event: {e}"));
    assert_eq!(request.uri().path(), format!("/{}", function_of(stem)), "{stem} is for its function's route");
    let app = DemoApp::spawn(&format!("events-{stem}")).await;
    let answer = handle(&app, request).await;
    (app, answer)
}

#[tokio::test]
async fn every_event_gets_its_documented_status() {
    assert_all_covered();
    let files = event_files();
    for (stem, status) in EXPECTED {
        let (_, Answer { status: answered, body, .. }) = run_event(stem, &files[stem]).await;
        assert_eq!(answered, status, "{stem}: {body}");
        if status >= 400 {
            assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{stem}: {body}");
        }
    }
}

#[tokio::test]
async fn events_do_what_they_say() {
    let files = event_files();

    let (_, answer) = run_event("fetch_new_messages", &files["fetch_new_messages"]).await;
    assert_eq!(texts(&answer.body), ["Hi Alice, lunch at noon?", "Or one o'clock, if that suits you better."]);
    assert_eq!(answer.body["more"], false);

    let (app, answer) = run_event("delete_messages", &files["delete_messages"]).await;
    assert_eq!(answer.body["deleted"], 2);
    assert_eq!(answer.body["not_found"], serde_json::json!(["2020-01-01T00:00:00Z"]));
    let alice = shared::model::Identifier::parse("login", "demo-alice").unwrap();
    let pairs = app.store.pairs(&alice).await.unwrap();
    assert_eq!(pairs.len(), 1, "the conversation row stays");
    assert_eq!(pairs[0].new_messages, 0, "deleted messages no longer count as new");

    let (app, _) = run_event("logout", &files["logout"]).await;
    let bob_token = shared::auth::token_hash("demo-token-bob");
    assert_eq!(app.store.token(&bob_token).await.unwrap(), None, "logout revokes the token");
    let alice_token = shared::auth::token_hash("demo-token-alice");
    assert!(app.store.token(&alice_token).await.unwrap().is_some(), "other tokens keep working");
}
