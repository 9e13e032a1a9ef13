//! DynamoDB failing under the handlers: unreachable, stalled, losing or
//! holding back the answer of a committed transaction, cancelling
//! transactions with conflicts, and going away mid-run. Every failure must
//! be a 503 JSON with Retry-After well inside the function's 10 s timeout
//! that tells the truth (nothing was written, or the outcome is unknown and
//! how to retry safely), and the data must stay consistent: no duplicate or
//! lost message, no counter that disagrees.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::future::join_all;
use messenger_tools::handlers::{handler_request, WEBSOCKET_ROUTES};
use messenger_tools::stack::app_at;
use serde_json::json;
use shared::model::{Identifier, Timestamp};
use shared::store::MailboxRange;
use shared::App;

use crate::helpers::{
    assert_mailbox_consistent, call, event_files, function_of, handle, handle_route, mailbox_texts, texts, with_key,
    Answer, DemoApp, Fault, FaultProxy, EXPECTED,
};

/// The function timeout of template.yaml, less a margin for the runtime.
const WITHIN: Duration = Duration::from_secs(9);

/// A demo app whose DynamoDB calls pass through a fault proxy of its own.
async fn behind_a_proxy(label: &str) -> (FaultProxy, DemoApp) {
    let proxy = FaultProxy::start_before_dynamodb_local().await;
    let app = DemoApp::spawn_via(label, &proxy.url).await;
    (proxy, app)
}

/// Every sample HTTP event, at once, against `app`: each must answer 503
/// JSON with Retry-After, inside the function timeout. Of the WebSocket
/// routes', `$connect` refuses the socket with a 503 that says to retry,
/// `$disconnect` fails (API Gateway ignores its answer), and `$default`,
/// which reads nothing, still answers a ping.
async fn every_event_is_unavailable(app: &App) {
    let files = event_files();
    let calls = EXPECTED.iter().map(|(event, _)| {
        let json = &files[*event];
        async move {
            let started = Instant::now();
            let function = function_of(event);
            let answer = if WEBSOCKET_ROUTES.contains(&function) {
                handle_route(app, function, json).await
            } else {
                handle(app, lambda_http::request::from_str(json).expect("event")).await
            };
            (event, started.elapsed(), answer)
        }
    });
    for (event, elapsed, answer) in join_all(calls).await {
        assert!(elapsed < WITHIN, "{event} took {elapsed:?}");
        match *event {
            // Refused before any database call.
            "send_message-no-token" => assert_eq!(answer.status, 401),
            "realtime_default" => assert_eq!(answer.body, json!({"type": "pong"})),
            "realtime_disconnect" => assert_eq!(answer.status, 500),
            "realtime_connect-unknown-ticket" => {
                assert_eq!(answer.status, 503);
                assert!(answer.body["error"].as_str().unwrap().contains("retry"), "{event}: {}", answer.body);
            }
            _ => {
                assert_eq!(answer.status, 503, "{event}");
                assert_eq!(answer.headers["retry-after"], "1", "{event}");
                let body = answer.body;
                assert!(body["error"].as_str().unwrap().contains("retry"), "{event}: {body}");
            }
        }
    }
}

#[tokio::test]
async fn unreachable_dynamodb_gets_503_with_retry_after_on_every_endpoint() {
    // Nothing listens on port 9 of the loopback interface.
    let app = app_at(Some("http://127.0.0.1:9"), "unreachable").await;
    every_event_is_unavailable(&app).await;
}

#[tokio::test]
async fn stalled_dynamodb_gets_503_inside_the_function_timeout() {
    let (proxy, app) = behind_a_proxy("stalled").await;
    proxy.set(Fault::Stall);
    every_event_is_unavailable(&app).await;
}

fn alice() -> Identifier {
    Identifier::parse("login", "demo-alice").unwrap()
}

fn bob() -> Identifier {
    Identifier::parse("login", "demo-bob").unwrap()
}

#[tokio::test]
async fn a_lost_answer_after_commit_neither_duplicates_nor_loses() {
    let (proxy, app) = behind_a_proxy("lost-answer").await;

    proxy.set(Fault::LoseTransactAnswers(1));
    let before = proxy.transacts_seen();
    let Answer { status, body, .. } =
        call(&app, "send_message", "demo-token-alice", json!({"recipient": "demo-bob", "message": "once"})).await;
    assert_eq!(status, 201, "{body}");
    assert!(proxy.transacts_seen() >= before + 2, "the transaction was sent again");
    let texts = mailbox_texts(&app.store, &bob()).await;
    assert_eq!(texts.iter().filter(|t| *t == "once").count(), 1, "stored exactly once: {texts:?}");

    proxy.set(Fault::LoseTransactAnswers(1));
    let Answer { status, body, .. } = call(&app, "fetch_new_messages", "demo-token-alice", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["messages"].as_array().unwrap().len(), 2, "the batch is not lost: {body}");
    let Answer { body: again, .. } = call(&app, "fetch_new_messages", "demo-token-alice", json!({})).await;
    assert_eq!(again["messages"], json!([]), "and not delivered twice");
    assert_mailbox_consistent(&app.store, &alice()).await;
    assert_mailbox_consistent(&app.store, &bob()).await;
}

#[tokio::test]
async fn transaction_conflicts_are_retried_and_persistent_ones_change_nothing() {
    let (proxy, app) = behind_a_proxy("conflicts").await;

    proxy.set(Fault::CancelTransacts { n: 3, reason: "TransactionConflict" });
    let Answer { status, .. } =
        call(&app, "send_message", "demo-token-alice", json!({"recipient": "demo-bob", "message": "retried"})).await;
    assert_eq!(status, 201);
    proxy.set(Fault::CancelTransacts { n: 3, reason: "TransactionConflict" });
    let Answer { status, body, .. } = call(&app, "fetch_new_messages", "demo-token-bob", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(texts(&body), ["Noon is fine.", "retried"]);

    proxy.set(Fault::CancelTransacts { n: 1000, reason: "TransactionConflict" });
    let Answer { status, body, .. } =
        call(&app, "send_message", "demo-token-alice", json!({"recipient": "demo-bob", "message": "never"})).await;
    assert_eq!(status, 503, "{body}");
    let Answer { status, .. } = call(&app, "fetch_new_messages", "demo-token-alice", json!({})).await;
    assert_eq!(status, 503);
    proxy.set(Fault::None);
    assert!(!mailbox_texts(&app.store, &bob()).await.contains(&"never".to_owned()), "a 503 send stored nothing");
    let Answer { body, .. } = call(&app, "fetch_new_messages", "demo-token-alice", json!({})).await;
    assert_eq!(body["messages"].as_array().unwrap().len(), 2, "a 503 fetch consumed nothing");
    assert_mailbox_consistent(&app.store, &alice()).await;
    assert_mailbox_consistent(&app.store, &bob()).await;
}

#[tokio::test]
async fn dynamodb_going_away_mid_run_leaves_consistent_data() {
    let (proxy, app) = behind_a_proxy("mid-run").await;
    // The SDK's retries with random backoff can carry a request across a
    // short outage, so the outage lasts until it has refused a send (and at
    // least 700 ms), not for a fixed time that might refuse none.
    let refused_sends = &AtomicUsize::new(0);
    let outage = {
        let proxy = proxy.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            proxy.set(Fault::Refuse);
            let started = Instant::now();
            while refused_sends.load(Ordering::SeqCst) == 0 || started.elapsed() < Duration::from_millis(700) {
                assert!(started.elapsed() < Duration::from_secs(30), "no send was refused during the outage");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            proxy.set(Fault::None);
        }
    };
    let sends = (0..60).map(|i| {
        let app = &app;
        async move {
            tokio::time::sleep(Duration::from_millis(i * 25)).await;
            let text = format!("burst {i}");
            let Answer { status, .. } =
                call(app, "send_message", "demo-token-alice", json!({"recipient": "demo-bob", "message": text})).await;
            assert!(status == 201 || status == 503, "{status}");
            if status == 503 {
                refused_sends.fetch_add(1, Ordering::SeqCst);
            }
            (text, status)
        }
    });
    let fetches = (0..30).map(|i| {
        let app = &app;
        async move {
            tokio::time::sleep(Duration::from_millis(i * 50)).await;
            let key = format!("fetch-{i}");
            let request = handler_request("fetch_new_messages", "demo-token-bob", Some(json!({"limit": 7})));
            let Answer { status, body, .. } = handle(app, with_key(request, &key)).await;
            assert!(status == 200 || status == 503, "{status}");
            body["messages"].as_array().cloned().unwrap_or_default()
        }
    });
    let (sent, fetched, ()) = tokio::join!(join_all(sends), join_all(fetches), outage);
    let refused = sent.iter().filter(|(_, status)| *status == 503).count();
    assert!(refused > 0, "the outage hit some sends");
    assert!(refused < sent.len(), "the others went through");

    // Drain what is left, then every acknowledged message must have been
    // fetched exactly once.
    let Answer { status, body: rest, .. } =
        call(&app, "fetch_new_messages", "demo-token-bob", json!({"limit": 1000})).await;
    assert_eq!(status, 200);
    let mut delivered: Vec<String> = fetched
        .iter()
        .flatten()
        .chain(rest["messages"].as_array().unwrap())
        .map(|m| m["message"].as_str().unwrap().to_owned())
        .collect();
    let total = delivered.len();
    delivered.sort();
    delivered.dedup();
    assert_eq!(delivered.len(), total, "no message fetched twice");
    let stored = mailbox_texts(&app.store, &bob()).await;
    for (text, status) in &sent {
        let copies = stored.iter().filter(|t| *t == text).count();
        if *status == 201 {
            assert_eq!(copies, 1, "{text} was acknowledged");
            assert!(delivered.contains(text), "{text} was never fetched");
        }
        assert!(copies <= 1, "{text} stored twice");
    }
    assert_mailbox_consistent(&app.store, &bob()).await;
}

/// The SDK sends a request at most twice within its operation timeout, so
/// holding back two answers makes a transaction's first operation end with
/// its outcome unknown although it committed.
const HELD_ANSWERS: u32 = 2;

#[tokio::test]
async fn a_fetch_whose_answer_is_held_back_after_commit_skips_nothing() {
    let (proxy, app) = behind_a_proxy("held-fetch").await;

    proxy.set(Fault::StallTransactAnswers(HELD_ANSWERS));
    let started = Instant::now();
    let Answer { status, body, .. } = call(&app, "fetch_new_messages", "demo-token-alice", json!({})).await;
    assert!(started.elapsed() < WITHIN, "took {:?}", started.elapsed());
    assert_eq!(status, 200, "a fetch without a key learns its committed batch: {body}");
    assert_eq!(body["messages"].as_array().unwrap().len(), 2, "the batch is delivered: {body}");
    proxy.set(Fault::None);
    let Answer { body: again, .. } = call(&app, "fetch_new_messages", "demo-token-alice", json!({})).await;
    assert_eq!(again["messages"], json!([]), "and not delivered twice");
    assert_mailbox_consistent(&app.store, &alice()).await;
}

#[tokio::test]
async fn a_send_whose_answer_is_held_back_after_commit_is_stored_once() {
    let (proxy, app) = behind_a_proxy("held-send").await;

    proxy.set(Fault::StallTransactAnswers(HELD_ANSWERS));
    let before = proxy.transacts_seen();
    let Answer { status, body, .. } =
        call(&app, "send_message", "demo-token-alice", json!({"recipient": "demo-bob", "message": "held"})).await;
    assert_eq!(status, 201, "a send without a key learns that it committed: {body}");
    assert!(proxy.transacts_seen() > before + HELD_ANSWERS, "resent after the SDK gave up");
    let texts = mailbox_texts(&app.store, &bob()).await;
    assert_eq!(texts.iter().filter(|t| *t == "held").count(), 1, "stored exactly once: {texts:?}");
    assert_mailbox_consistent(&app.store, &bob()).await;
}

#[tokio::test]
async fn a_registration_whose_answer_is_held_back_after_commit_gets_its_token() {
    let (proxy, app) = behind_a_proxy("held-register").await;

    proxy.set(Fault::StallTransactAnswers(HELD_ANSWERS));
    let Answer { status, body, .. } = call(&app, "register", "", json!({"login": "carol"})).await;
    assert_eq!(status, 201, "a user without a password gets the token it was created with: {body}");
    proxy.set(Fault::None);
    let token = body["token"].as_str().unwrap();
    let Answer { status, body, .. } = call(&app, "conversations", token, json!({})).await;
    assert_eq!(status, 200, "the token works: {body}");
    let Answer { status, .. } = call(&app, "register", "", json!({"login": "carol"})).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn delete_messages_failing_after_its_first_transaction_says_the_outcome_is_unknown() {
    let (proxy, app) = behind_a_proxy("delete-parts").await;
    // 100 messages from bob to alice, all still new: the delete commits 99
    // with the pair's counter, then the last one.
    for i in 0..98 {
        let at = Timestamp::parse("timestamp", &format!("2026-01-02T00:{:02}:{:02}Z", i / 60, i % 60)).unwrap();
        app.store.import_message(&bob(), &alice(), &format!("extra {i}"), at).await.unwrap();
    }
    let timestamps: Vec<String> = app
        .store
        .read_mailbox(
            MailboxRange { recipient: &alice(), group: None, sender: None, from: None, to: None },
            false,
            usize::MAX,
            usize::MAX,
        )
        .await
        .unwrap()
        .iter()
        .map(|m| m.timestamp.to_string())
        .collect();
    assert_eq!(timestamps.len(), 100);
    let delete = json!({"sender": "demo-bob", "recipient": "demo-alice", "timestamps": timestamps});

    proxy.set(Fault::PassTransacts {
        n: 1,
        then: Box::new(Fault::CancelTransacts { n: 1000, reason: "TransactionConflict" }),
    });
    let Answer { status, body, .. } = call(&app, "delete_messages", "demo-token-alice", delete.clone()).await;
    assert_eq!(status, 503, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("outcome is unknown") && error.contains("not_found"), "{body}");
    assert!(!error.contains("nothing was changed"), "{body}");
    assert_eq!(mailbox_texts(&app.store, &alice()).await.len(), 1, "the first transaction committed");
    assert_mailbox_consistent(&app.store, &alice()).await;

    proxy.set(Fault::None);
    let Answer { status, body, .. } = call(&app, "delete_messages", "demo-token-alice", delete).await;
    assert_eq!(status, 201, "repeating the request is safe: {body}");
    assert_eq!(body["deleted"], 1);
    assert_eq!(body["not_found"].as_array().unwrap().len(), 99);
    assert_mailbox_consistent(&app.store, &alice()).await;
}

#[tokio::test]
async fn an_outcome_still_unknown_at_the_deadline_is_a_503_that_says_so() {
    let (proxy, app) = behind_a_proxy("unknown").await;
    let send = || {
        let body = json!({"recipient": "demo-bob", "message": "maybe"});
        handler_request("send_message", "demo-token-alice", Some(body))
    };

    proxy.set(Fault::StallTransactAnswers(u32::MAX));
    let started = Instant::now();
    let Answer { status, body, .. } = handle(&app, with_key(send(), "unknown-1")).await;
    assert!(started.elapsed() < WITHIN, "took {:?}", started.elapsed());
    assert_eq!(status, 503, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("outcome is unknown") && error.contains("same Idempotency-Key"), "{body}");
    let Answer { status, body, .. } = handle(&app, send()).await;
    assert_eq!(status, 503, "{body}");
    assert!(body["error"].as_str().unwrap().contains("fetch_messages"), "without a key: {body}");
    let Answer { status, body, .. } = call(&app, "fetch_new_messages", "demo-token-bob", json!({})).await;
    assert_eq!(status, 503, "{body}");
    assert!(body["error"].as_str().unwrap().contains("outcome is unknown"), "{body}");

    // Both sends committed; the key's retry answers the first one's
    // timestamp and stores nothing more.
    proxy.set(Fault::None);
    let Answer { status, body, .. } = handle(&app, with_key(send(), "unknown-1")).await;
    assert_eq!(status, 201, "{body}");
    let texts = mailbox_texts(&app.store, &bob()).await;
    assert_eq!(texts.iter().filter(|t| *t == "maybe").count(), 2, "one per request that was sent: {texts:?}");
    assert_mailbox_consistent(&app.store, &bob()).await;
}
