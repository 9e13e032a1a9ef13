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
use messenger_tests::events::{dispatch, event_files, function_of, EXPECTED};
use messenger_tests::faults::{Fault, FaultProxy};
use messenger_tests::local::{app_at, assert_mailbox_consistent, demo_app_via};
use serde_json::{json, Value};
use shared::model::{Identifier, Timestamp};
use shared::store::MailboxRange;
use shared::App;

/// The function timeout of template.yaml, less a margin for the runtime.
const WITHIN: Duration = Duration::from_secs(9);

fn request(function: &str, token: &str, body: Value) -> lambda_http::Request {
    let method = match function {
        "register" | "send_message" => "POST",
        "fetch_new_messages" => "PUT",
        "delete_messages" => "DELETE",
        "conversations" => "GET",
        _ => panic!("no request builder for {function}"),
    };
    lambda_http::http::Request::builder()
        .method(method)
        .uri(format!("/{function}"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(lambda_http::Body::from(body.to_string()))
        .expect("request")
}

async fn call(app: &App, function: &str, token: &str, body: Value) -> (u16, Value) {
    call_with(app, request(function, token, body)).await
}

async fn call_with(app: &App, request: lambda_http::Request) -> (u16, Value) {
    let function = request.uri().path().trim_start_matches('/').to_owned();
    let response = dispatch(&function, app, request).await;
    let status = response.status().as_u16();
    if status == 503 {
        assert_eq!(response.headers()["retry-after"], "1", "{function}");
    }
    (status, serde_json::from_slice(response.body().as_ref()).expect("JSON"))
}

fn with_key(mut request: lambda_http::Request, key: &str) -> lambda_http::Request {
    request.headers_mut().insert("idempotency-key", key.parse().unwrap());
    request
}

/// Every sample event, at once, against `app`: each must answer 503 JSON
/// with Retry-After, inside the function timeout.
async fn every_event_is_unavailable(app: &App) {
    let files = event_files();
    let calls = EXPECTED.iter().map(|(event, _)| {
        let request = lambda_http::request::from_str(&files[*event]).expect("event");
        async move {
            let started = Instant::now();
            let response = dispatch(function_of(event), app, request).await;
            (event, started.elapsed(), response)
        }
    });
    for (event, elapsed, response) in join_all(calls).await {
        if *event == "send_message-no-token" {
            // Refused before any database call.
            assert_eq!(response.status(), 401);
            continue;
        }
        assert_eq!(response.status(), 503, "{event}");
        assert_eq!(response.headers()["retry-after"], "1", "{event}");
        let body: Value = serde_json::from_slice(response.body().as_ref()).expect("JSON");
        assert!(body["error"].as_str().unwrap().contains("retry"), "{event}: {body}");
        assert!(elapsed < WITHIN, "{event} took {elapsed:?}");
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
    let proxy = FaultProxy::start(&std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("DynamoDB Local")).await;
    let app = demo_app_via("stalled", Some(&proxy.url)).await;
    proxy.set(Fault::Stall);
    every_event_is_unavailable(&app).await;
}

fn alice() -> Identifier {
    Identifier::parse("login", "demo-alice").unwrap()
}

fn bob() -> Identifier {
    Identifier::parse("login", "demo-bob").unwrap()
}

async fn mailbox_texts(app: &App, recipient: &Identifier) -> Vec<String> {
    let range = MailboxRange { recipient, sender: None, from: None, to: None };
    app.store.read_mailbox(range, false, usize::MAX).await.unwrap().into_iter().map(|m| m.message).collect()
}

#[tokio::test]
async fn a_lost_answer_after_commit_neither_duplicates_nor_loses() {
    let proxy = FaultProxy::start(&std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("DynamoDB Local")).await;
    let app = demo_app_via("lost-answer", Some(&proxy.url)).await;

    proxy.set(Fault::LoseTransactAnswers(1));
    let before = proxy.transacts_seen();
    let (status, body) =
        call(&app, "send_message", "demo-token-alice", json!({"recipient": "demo-bob", "message": "once"})).await;
    assert_eq!(status, 201, "{body}");
    assert!(proxy.transacts_seen() >= before + 2, "the transaction was sent again");
    let texts = mailbox_texts(&app, &bob()).await;
    assert_eq!(texts.iter().filter(|t| *t == "once").count(), 1, "stored exactly once: {texts:?}");

    proxy.set(Fault::LoseTransactAnswers(1));
    let (status, body) = call(&app, "fetch_new_messages", "demo-token-alice", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["messages"].as_array().unwrap().len(), 2, "the batch is not lost: {body}");
    let (_, again) = call(&app, "fetch_new_messages", "demo-token-alice", json!({})).await;
    assert_eq!(again["messages"], json!([]), "and not delivered twice");
    assert_mailbox_consistent(&app.store, &alice()).await;
    assert_mailbox_consistent(&app.store, &bob()).await;
}

#[tokio::test]
async fn transaction_conflicts_are_retried_and_persistent_ones_change_nothing() {
    let proxy = FaultProxy::start(&std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("DynamoDB Local")).await;
    let app = demo_app_via("conflicts", Some(&proxy.url)).await;

    proxy.set(Fault::CancelTransacts { n: 3, reason: "TransactionConflict" });
    let (status, _) =
        call(&app, "send_message", "demo-token-alice", json!({"recipient": "demo-bob", "message": "retried"})).await;
    assert_eq!(status, 201);
    proxy.set(Fault::CancelTransacts { n: 3, reason: "TransactionConflict" });
    let (status, body) = call(&app, "fetch_new_messages", "demo-token-bob", json!({})).await;
    assert_eq!(status, 200);
    let texts: Vec<&str> =
        body["messages"].as_array().unwrap().iter().map(|m| m["message"].as_str().unwrap()).collect();
    assert_eq!(texts, ["Noon is fine.", "retried"]);

    proxy.set(Fault::CancelTransacts { n: 1000, reason: "TransactionConflict" });
    let (status, body) =
        call(&app, "send_message", "demo-token-alice", json!({"recipient": "demo-bob", "message": "never"})).await;
    assert_eq!(status, 503, "{body}");
    let (status, _) = call(&app, "fetch_new_messages", "demo-token-alice", json!({})).await;
    assert_eq!(status, 503);
    proxy.set(Fault::None);
    assert!(!mailbox_texts(&app, &bob()).await.contains(&"never".to_owned()), "a 503 send stored nothing");
    let (_, body) = call(&app, "fetch_new_messages", "demo-token-alice", json!({})).await;
    assert_eq!(body["messages"].as_array().unwrap().len(), 2, "a 503 fetch consumed nothing");
    assert_mailbox_consistent(&app.store, &alice()).await;
    assert_mailbox_consistent(&app.store, &bob()).await;
}

#[tokio::test]
async fn dynamodb_going_away_mid_run_leaves_consistent_data() {
    let proxy = FaultProxy::start(&std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("DynamoDB Local")).await;
    let app = demo_app_via("mid-run", Some(&proxy.url)).await;
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
            let (status, _) =
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
            let mut request = request("fetch_new_messages", "demo-token-bob", json!({"limit": 7}));
            request.headers_mut().insert("idempotency-key", key.parse().unwrap());
            let response = dispatch("fetch_new_messages", app, request).await;
            let status = response.status().as_u16();
            assert!(status == 200 || status == 503, "{status}");
            let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
            body["messages"].as_array().cloned().unwrap_or_default()
        }
    });
    let (sent, fetched, ()) = tokio::join!(join_all(sends), join_all(fetches), outage);
    let refused = sent.iter().filter(|(_, status)| *status == 503).count();
    assert!(refused > 0, "the outage hit some sends");
    assert!(refused < sent.len(), "the others went through");

    // Drain what is left, then every acknowledged message must have been
    // fetched exactly once.
    let (status, rest) = call(&app, "fetch_new_messages", "demo-token-bob", json!({"limit": 1000})).await;
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
    let stored = mailbox_texts(&app, &bob()).await;
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
    let proxy = FaultProxy::start(&std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("DynamoDB Local")).await;
    let app = demo_app_via("held-fetch", Some(&proxy.url)).await;

    proxy.set(Fault::StallTransactAnswers(HELD_ANSWERS));
    let started = Instant::now();
    let (status, body) = call(&app, "fetch_new_messages", "demo-token-alice", json!({})).await;
    assert!(started.elapsed() < WITHIN, "took {:?}", started.elapsed());
    assert_eq!(status, 200, "a fetch without a key learns its committed batch: {body}");
    assert_eq!(body["messages"].as_array().unwrap().len(), 2, "the batch is delivered: {body}");
    proxy.set(Fault::None);
    let (_, again) = call(&app, "fetch_new_messages", "demo-token-alice", json!({})).await;
    assert_eq!(again["messages"], json!([]), "and not delivered twice");
    assert_mailbox_consistent(&app.store, &alice()).await;
}

#[tokio::test]
async fn a_send_whose_answer_is_held_back_after_commit_is_stored_once() {
    let proxy = FaultProxy::start(&std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("DynamoDB Local")).await;
    let app = demo_app_via("held-send", Some(&proxy.url)).await;

    proxy.set(Fault::StallTransactAnswers(HELD_ANSWERS));
    let before = proxy.transacts_seen();
    let (status, body) =
        call(&app, "send_message", "demo-token-alice", json!({"recipient": "demo-bob", "message": "held"})).await;
    assert_eq!(status, 201, "a send without a key learns that it committed: {body}");
    assert!(proxy.transacts_seen() > before + HELD_ANSWERS, "resent after the SDK gave up");
    let texts = mailbox_texts(&app, &bob()).await;
    assert_eq!(texts.iter().filter(|t| *t == "held").count(), 1, "stored exactly once: {texts:?}");
    assert_mailbox_consistent(&app.store, &bob()).await;
}

#[tokio::test]
async fn a_registration_whose_answer_is_held_back_after_commit_gets_its_token() {
    let proxy = FaultProxy::start(&std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("DynamoDB Local")).await;
    let app = demo_app_via("held-register", Some(&proxy.url)).await;

    proxy.set(Fault::StallTransactAnswers(HELD_ANSWERS));
    let (status, body) = call(&app, "register", "", json!({"login": "carol"})).await;
    assert_eq!(status, 201, "a user without a password gets the token it was created with: {body}");
    proxy.set(Fault::None);
    let token = body["token"].as_str().unwrap();
    let (status, body) = call(&app, "conversations", token, json!({})).await;
    assert_eq!(status, 200, "the token works: {body}");
    let (status, _) = call(&app, "register", "", json!({"login": "carol"})).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn delete_messages_failing_after_its_first_transaction_says_the_outcome_is_unknown() {
    let proxy = FaultProxy::start(&std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("DynamoDB Local")).await;
    let app = demo_app_via("delete-parts", Some(&proxy.url)).await;
    // 100 messages from bob to alice, all still new: the delete commits 99
    // with the pair's counter, then the last one.
    for i in 0..98 {
        let at = Timestamp::parse("timestamp", &format!("2026-01-02T00:{:02}:{:02}Z", i / 60, i % 60)).unwrap();
        app.store.import_message(&bob(), &alice(), &format!("extra {i}"), at).await.unwrap();
    }
    let timestamps: Vec<String> = app
        .store
        .read_mailbox(MailboxRange { recipient: &alice(), sender: None, from: None, to: None }, false, usize::MAX)
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
    let (status, body) = call(&app, "delete_messages", "demo-token-alice", delete.clone()).await;
    assert_eq!(status, 503, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("outcome is unknown") && error.contains("not_found"), "{body}");
    assert!(!error.contains("nothing was changed"), "{body}");
    assert_eq!(mailbox_texts(&app, &alice()).await.len(), 1, "the first transaction committed");
    assert_mailbox_consistent(&app.store, &alice()).await;

    proxy.set(Fault::None);
    let (status, body) = call(&app, "delete_messages", "demo-token-alice", delete).await;
    assert_eq!(status, 201, "repeating the request is safe: {body}");
    assert_eq!(body["deleted"], 1);
    assert_eq!(body["not_found"].as_array().unwrap().len(), 99);
    assert_mailbox_consistent(&app.store, &alice()).await;
}

#[tokio::test]
async fn an_outcome_still_unknown_at_the_deadline_is_a_503_that_says_so() {
    let proxy = FaultProxy::start(&std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("DynamoDB Local")).await;
    let app = demo_app_via("unknown", Some(&proxy.url)).await;
    let send = || request("send_message", "demo-token-alice", json!({"recipient": "demo-bob", "message": "maybe"}));

    proxy.set(Fault::StallTransactAnswers(u32::MAX));
    let started = Instant::now();
    let (status, body) = call_with(&app, with_key(send(), "unknown-1")).await;
    assert!(started.elapsed() < WITHIN, "took {:?}", started.elapsed());
    assert_eq!(status, 503, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("outcome is unknown") && error.contains("same Idempotency-Key"), "{body}");
    let (status, body) = call_with(&app, send()).await;
    assert_eq!(status, 503, "{body}");
    assert!(body["error"].as_str().unwrap().contains("fetch_messages"), "without a key: {body}");
    let (status, body) = call(&app, "fetch_new_messages", "demo-token-bob", json!({})).await;
    assert_eq!(status, 503, "{body}");
    assert!(body["error"].as_str().unwrap().contains("outcome is unknown"), "{body}");

    // Both sends committed; the key's retry answers the first one's
    // timestamp and stores nothing more.
    proxy.set(Fault::None);
    let (status, body) = call_with(&app, with_key(send(), "unknown-1")).await;
    assert_eq!(status, 201, "{body}");
    let texts = mailbox_texts(&app, &bob()).await;
    assert_eq!(texts.iter().filter(|t| *t == "maybe").count(), 2, "one per request that was sent: {texts:?}");
    assert_mailbox_consistent(&app.store, &bob()).await;
}
