//! A popular mailbox under AWS's conflict rules, which DynamoDB Local does
//! not apply: through the fault proxy's `ConflictRules`, a transaction that
//! touches an item another one holds in flight is cancelled, as on AWS.
//! Sends from different senders share no item and fetches write no item a
//! send writes, so none of these requests may fail; and each message
//! arrives once, in its sender's order, with every counter exact.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::join_all;
use messenger_tools::handlers::handler_request;
use serde_json::{json, Value};
use shared::model::{Identifier, Timestamp};
use shared::App;

use crate::helpers::{assert_mailbox_consistent, call, handle, texts, with_key, DemoApp, Fault, FaultProxy};

const ALICE: &str = "demo-alice";
const ALICE_TOKEN: &str = "demo-token-alice";
/// About what a commit takes on AWS: long enough for requests to overlap.
const TRANSACTION_TIME: Duration = Duration::from_millis(20);

fn alice() -> Identifier {
    Identifier::parse("login", ALICE).expect("identifier")
}

/// A user without a password (no password hash to wait for); their token.
async fn register(app: &App, login: &str) -> String {
    let answer = call(app, "register", "", json!({"login": login})).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.body["token"].as_str().expect("token").to_owned()
}

/// Fetches with `fetchers` concurrent callers until `expected` messages
/// came; each batch as it came. Any answer but 200 fails the test.
async fn drain(app: &App, fetchers: usize, expected: usize) -> Vec<Vec<String>> {
    let fetched = std::sync::atomic::AtomicUsize::new(0);
    let each = (0..fetchers).map(|fetcher| {
        let fetched = &fetched;
        async move {
            let mut batches = Vec::new();
            for round in 0.. {
                if fetched.load(std::sync::atomic::Ordering::SeqCst) >= expected {
                    break;
                }
                let request = handler_request("fetch_new_messages", ALICE_TOKEN, Some(json!({"limit": 10})));
                let answer = handle(app, with_key(request, &format!("fetcher-{fetcher}-{round}"))).await;
                assert_eq!(answer.status, 200, "fetch {round} of fetcher {fetcher}: {}", answer.body);
                let batch = texts(&answer.body);
                fetched.fetch_add(batch.len(), std::sync::atomic::Ordering::SeqCst);
                if batch.is_empty() {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                batches.push(batch);
            }
            batches
        }
    });
    join_all(each).await.into_iter().flatten().filter(|batch| !batch.is_empty()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_senders_and_two_fetchers_of_one_mailbox_never_fail() {
    const SENDERS: usize = 32;
    const EACH: usize = 4;
    let proxy = FaultProxy::start_before_dynamodb_local().await;
    let app = DemoApp::spawn_alone_via("hot-senders", &proxy.url).await;
    let mut tokens = Vec::new();
    for sender in 0..SENDERS {
        tokens.push(register(&app, &format!("hot-sender-{sender:02}")).await);
    }
    // The demo messages are fetched first, so the batches hold ours only.
    assert_eq!(call(&app, "fetch_new_messages", ALICE_TOKEN, json!({})).await.status, 200);
    proxy.set(Fault::ConflictRules(TRANSACTION_TIME));

    let sends = tokens.iter().enumerate().map(|(sender, token)| {
        let app = &app;
        async move {
            let mut stamps = Vec::new();
            for n in 0..EACH {
                let body = json!({"recipient": ALICE, "message": format!("hot-sender-{sender:02}/{n}")});
                let answer = call(app, "send_message", token, body).await;
                assert_eq!(answer.status, 201, "send {n} of sender {sender}: {}", answer.body);
                stamps.push(Timestamp::parse("timestamp", answer.body["timestamp"].as_str().unwrap()).unwrap());
            }
            stamps
        }
    });
    let (stamps, batches) = futures::join!(join_all(sends), drain(&app, 2, SENDERS * EACH));
    eprintln!("{} requests met a transaction in flight", proxy.conflicts());
    proxy.set(Fault::None);

    for (sender, stamps) in stamps.iter().enumerate() {
        assert!(stamps.windows(2).all(|pair| pair[0] < pair[1]), "sender {sender}'s messages are stored in order");
    }
    let mut all: Vec<&String> = batches.iter().flatten().collect();
    assert_eq!(all.len(), SENDERS * EACH, "as many fetched as sent");
    all.sort();
    all.dedup();
    assert_eq!(all.len(), SENDERS * EACH, "none fetched twice");
    for batch in &batches {
        let mut last_of: BTreeMap<&str, usize> = BTreeMap::new();
        for text in batch {
            let (sender, n) = text.rsplit_once('/').unwrap();
            let n: usize = n.parse().unwrap();
            assert!(last_of.insert(sender, n).is_none_or(|before| before < n), "{sender}'s order in {batch:?}");
        }
    }
    assert_mailbox_consistent(&app.store, &alice()).await;
    let rows = handle(&app, handler_request("conversations", ALICE_TOKEN, None)).await.body;
    let counted: Vec<&Value> =
        rows["conversations"].as_array().unwrap().iter().map(|row| &row["new_messages"]).collect();
    assert!(counted.iter().all(|count| **count == 0), "nothing is left new: {rows}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_sends_on_one_pair_never_fail() {
    let proxy = FaultProxy::start_before_dynamodb_local().await;
    let app = DemoApp::spawn_alone_via("hot-pair", &proxy.url).await;
    proxy.set(Fault::ConflictRules(TRANSACTION_TIME));
    let sends = (0..32).map(|n| {
        call(&app, "send_message", "demo-token-bob", json!({"recipient": ALICE, "message": format!("import {n}")}))
    });
    let answers = join_all(sends).await;
    let conflicts = proxy.conflicts();
    proxy.set(Fault::None);
    let failed: Vec<&Value> = answers.iter().filter(|a| a.status != 201).map(|a| &a.body).collect();
    assert!(failed.is_empty(), "{} of 32 sends failed: {failed:?}", failed.len());
    assert!(conflicts > 0, "the 32 sends met each other in flight");
    assert_mailbox_consistent(&app.store, &alice()).await;
    let fetched = call(&app, "fetch_new_messages", ALICE_TOKEN, json!({"sender": "demo-bob", "limit": 100})).await;
    assert_eq!(texts(&fetched.body).len(), 32 + 2, "the imports and bob's two demo messages, once each");
}

#[tokio::test]
async fn a_pair_leaves_the_pending_index_when_its_last_new_message_is_fetched_or_deleted() {
    let app = DemoApp::spawn("hot-tidy").await;
    let pending = |app: &DemoApp| {
        let store = app.store.clone();
        async move {
            let pairs = store.pairs(&alice()).await.expect("pairs");
            pairs
                .into_iter()
                .filter(|pair| pair.pending_since.is_some())
                .map(|pair| pair.sender.to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(pending(&app).await, ["demo-bob"], "the demo messages wait");
    assert_eq!(call(&app, "fetch_new_messages", ALICE_TOKEN, json!({"limit": 1})).await.status, 200);
    assert_eq!(pending(&app).await, ["demo-bob"], "one of two fetched");
    assert_eq!(call(&app, "fetch_new_messages", ALICE_TOKEN, json!({})).await.status, 200);
    assert!(pending(&app).await.is_empty(), "both fetched");

    let sent = call(&app, "send_message", "demo-token-bob", json!({"recipient": ALICE, "message": "again"})).await;
    assert_eq!(pending(&app).await, ["demo-bob"], "a new message");
    let body = json!({"sender": "demo-bob", "recipient": ALICE, "timestamp": sent.body["timestamp"]});
    assert_eq!(call(&app, "delete_message", ALICE_TOKEN, body).await.status, 201);
    assert!(pending(&app).await.is_empty(), "the new message deleted");
    assert_mailbox_consistent(&app.store, &alice()).await;
}
