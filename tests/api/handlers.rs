//! Every sample event in `events/` through its function's handler,
//! in-process, against DynamoDB Local (a fresh demo table per event).

use messenger_tools::demo::DEMO_GROUP;
use messenger_tools::handlers::WEBSOCKET_ROUTES;
use messenger_tools::stack::notifier_at;
use serde_json::json;
use shared::model::Identifier;

use crate::helpers::{
    assert_all_covered, event_files, function_of, handle, handle_route, texts, Answer, DemoApp, EXPECTED, STREAM_EVENT,
};

async fn run_event(stem: &str, json: &str) -> (DemoApp, Answer) {
    let app = DemoApp::spawn(&format!("events-{stem}")).await;
    let function = function_of(stem);
    if WEBSOCKET_ROUTES.contains(&function) {
        let answer = handle_route(&app, function, json).await;
        return (app, answer);
    }
    let request =
        lambda_http::request::from_str(json).unwrap_or_else(|e| panic!("{stem}: not an API Gateway event: {e}"));
    assert_eq!(request.uri().path(), format!("/{function}"), "{stem} is for its function's route");
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
        if stem.ends_with("-unknown-group") {
            // The same answer as to a member of no such group.
            let error = body["error"].as_str().unwrap_or_default();
            assert!(error.ends_with("is not one of your groups"), "{stem}: {body}");
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
    let alice = Identifier::parse("login", "demo-alice").unwrap();
    let pairs = app.store.pairs(&alice).await.unwrap();
    assert_eq!(pairs.len(), 1, "the conversation row stays");
    assert_eq!(pairs[0].new_messages, 0, "deleted messages no longer count as new");

    let (app, answer) = run_event("mark_read", &files["mark_read"]).await;
    assert_eq!(answer.body["marked"], 1, "bob's first message to alice");
    let Answer { body, .. } =
        crate::helpers::call(&app, "fetch_new_messages", "demo-token-alice", serde_json::json!({})).await;
    assert_eq!(texts(&body), ["Or one o'clock, if that suits you better."], "only the later one is still new");

    // Each app holds one of the stack's four turns (helpers/turn.rs) until
    // it is dropped: these are dropped before the next is spawned.
    {
        let (app, answer) = run_event("block", &files["block"]).await;
        assert_eq!(answer.body["login"], "demo-bob");
        let to_alice = serde_json::json!({"recipient": "demo-alice", "message": "Still there?"});
        let Answer { status, body, .. } = crate::helpers::call(&app, "send_message", "demo-token-bob", to_alice).await;
        assert_eq!(status, 403, "bob's sends to alice are refused: {body}");
    }
    {
        let (app, answer) = run_event("delete_conversation", &files["delete_conversation"]).await;
        assert_eq!(answer.body, serde_json::json!({"deleted": 3, "more": false}), "both directions");
        let pairs = app.store.pairs(&alice).await.unwrap();
        assert!(pairs.iter().all(|pair| !pair.is_listed()), "alice's row of bob is cleared");
    }

    let (app, answer) = run_event("realtime_ticket", &files["realtime_ticket"]).await;
    let ticket = answer.body["ticket"].as_str().expect("a ticket");
    assert_eq!(answer.body["url"], "ws://127.0.0.1:9001");
    let hash = shared::auth::token_hash(ticket);
    assert_eq!(app.store.take_ticket(&hash).await.unwrap(), Some(alice.clone()), "the ticket is alice's");
    assert_eq!(app.store.take_ticket(&hash).await.unwrap(), None, "and opens one socket only");

    let (_, answer) = run_event("realtime_default", &files["realtime_default"]).await;
    assert_eq!(answer.body, serde_json::json!({"type": "pong"}));

    let (app, _) = run_event("logout", &files["logout"]).await;
    let bob_token = shared::auth::token_hash("demo-token-bob");
    assert_eq!(app.store.token(&bob_token).await.unwrap(), None, "logout revokes the token");
    let alice_token = shared::auth::token_hash("demo-token-alice");
    assert!(app.store.token(&alice_token).await.unwrap().is_some(), "other tokens keep working");
}

/// The ids of the groups of the user whose token is given, newest first.
async fn groups_of(app: &DemoApp, token: &str) -> Vec<serde_json::Value> {
    let Answer { body, .. } = crate::helpers::call(app, "groups", token, json!({})).await;
    body["groups"].as_array().expect("groups").iter().map(|row| row["group"].clone()).collect()
}

/// The group events: one creates a group of alice and bob, one names a
/// user who does not exist and creates nothing, and alice fetches bob's
/// message in the demo group.
#[tokio::test]
async fn group_events_do_what_they_say() {
    let files = event_files();
    {
        let (app, answer) = run_event("create_group", &files["create_group"]).await;
        assert_eq!(answer.body["members"], json!(["demo-alice", "demo-bob"]), "the creator is a member");
        assert_eq!(answer.body["admin"], "demo-alice");
        assert!(groups_of(&app, "demo-token-bob").await.contains(&answer.body["group"]), "bob is in the group");
    }
    {
        let (app, answer) = run_event("create_group-unknown-member", &files["create_group-unknown-member"]).await;
        assert_eq!(answer.body["error"], "nobody is not a registered user");
        assert_eq!(groups_of(&app, "demo-token-alice").await, [json!(DEMO_GROUP.0)], "only the demo group");
    }
    {
        let (_app, answer) = run_event("fetch_new_messages-group", &files["fetch_new_messages-group"]).await;
        let message = &answer.body["messages"][0];
        assert_eq!((&message["message"], &message["group"]), (&json!("Noon on Friday?"), &json!(DEMO_GROUP.0)));
    }
}

/// The stream batch through the notifier: alice holds no connection, so
/// nothing is posted (the Management API's address is never called) and
/// no record is reported for a retry.
#[tokio::test]
async fn the_stream_event_is_notified_without_failures() {
    let app = DemoApp::spawn("events-stream").await;
    let notifier = notifier_at("http://127.0.0.1:9", app.store.table()).await;
    let event = serde_json::from_str(&event_files()[STREAM_EVENT]).expect("a DynamoDB stream event");
    let response = shared::realtime::notifier::handle(&notifier, event).await.unwrap();
    assert_eq!(response.batch_item_failures, []);
}
