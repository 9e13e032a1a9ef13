//! fetch_new_messages' `wait`: over HTTP, a waiting call answers soon after
//! a message arrives and otherwise at the end of its wait; in-process, what
//! an empty wait reads and how it goes with an Idempotency-Key. Timing
//! asserts hold only what the feature promises, with generous margins.

use std::time::{Duration, Instant};

use messenger_tools::handlers::handler_request;
use serde_json::json;

use crate::helpers::{call, handle, texts, with_key, DemoApp, TestApp};

const ALICE_TOKEN: &str = "demo-token-alice";
const BOB_TOKEN: &str = "demo-token-bob";

#[tokio::test]
async fn a_waiting_fetch_answers_soon_after_a_message_arrives() {
    let (app, [kim, lou]) = TestApp::with_users(["poll-k", "poll-l"]).await;
    let started = Instant::now();
    let waiting = app.fetch_new(&kim, json!({"wait": 10}));
    let sending = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        app.send_ok(&lou, &kim, "hello").await;
        Instant::now()
    };
    let (batch, sent) = tokio::join!(waiting, sending);
    let answered = started.elapsed();
    assert_eq!(texts(&batch), ["hello"]);
    let after_send = answered.saturating_sub(sent - started);
    eprintln!("answered {after_send:?} after the send");
    // Checks are a second apart; the rest is slack for a loaded machine.
    assert!(after_send < Duration::from_secs(2), "answered {after_send:?} after the send");
}

#[tokio::test]
async fn a_waiting_fetch_with_nothing_new_answers_empty_at_the_end_of_its_wait() {
    let (app, [mia, ned]) = TestApp::with_users(["poll-m", "poll-n"]).await;
    let started = Instant::now();
    let batch = app.fetch_new(&mia, json!({"wait": 10, "sender": ned.login})).await;
    let took = started.elapsed();
    assert_eq!(batch, json!({"messages": [], "more": false}));
    assert!(took >= Duration::from_millis(9500), "answered after {took:?}");
    assert!(took < Duration::from_secs(15), "answered after {took:?}");
}

#[tokio::test]
async fn an_empty_wait_reads_a_unit_a_second() {
    let app = DemoApp::spawn("poll-units").await;
    drain(&app).await;
    let token_only = call(&app, "fetch_messages", ALICE_TOKEN, json!({"start": 0, "stop": 0})).await.read_units;
    for body in [json!({"wait": 3}), json!({"wait": 3, "sender": "demo-bob"})] {
        let waited = call(&app, "fetch_new_messages", ALICE_TOKEN, body.clone()).await;
        assert_eq!(waited.status, 200);
        assert_eq!(waited.body["messages"], json!([]));
        eprintln!("{body}: {} read units, {token_only} of them the token's", waited.read_units);
        // Three checks of one unit each, a second apart.
        assert!(waited.read_units <= token_only + 3.0, "{body}: {} read units", waited.read_units);
        assert_eq!(waited.write_units, 0.0, "a wait writes nothing");
    }
}

#[tokio::test]
async fn an_empty_wait_records_nothing_under_its_key_and_a_batch_is_replayed() {
    let app = DemoApp::spawn("poll-key").await;
    drain(&app).await;
    let keyed = |body| with_key(handler_request("fetch_new_messages", ALICE_TOKEN, Some(body)), "poll-key-1");
    let empty = handle(&app, keyed(json!({"wait": 1}))).await;
    assert_eq!((empty.status, empty.body["messages"].clone()), (200, json!([])));
    assert_eq!(empty.write_units, 0.0, "an empty wait records nothing");

    // The same key waits again, and its batch is recorded this time.
    let sending = async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(
            call(&app, "send_message", BOB_TOKEN, json!({"recipient": "demo-alice", "message": "ping"})).await.status,
            201
        );
    };
    let (batch, ()) = tokio::join!(handle(&app, keyed(json!({"wait": 5}))), sending);
    assert_eq!(texts(&batch.body), ["ping"]);
    let replay = handle(&app, keyed(json!({"wait": 5}))).await;
    assert_eq!(replay.body, batch.body, "a retry with the key returns the batch at once");
    let other = handle(&app, keyed(json!({"wait": 5, "limit": 3}))).await;
    assert_eq!(other.status, 409);
}

/// Fetches the demo messages waiting for alice, so a wait finds nothing.
async fn drain(app: &DemoApp) {
    while call(app, "fetch_new_messages", ALICE_TOKEN, json!({"limit": 1000})).await.body["more"] == true {}
}
