//! Many senders and several fetchers on one mailbox at once, over HTTP:
//! every message is fetched exactly once, none is lost, and each sender's
//! messages are stored in the order they were sent.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp, User};

const SENDERS: usize = 8;
/// Each sender writes from two concurrent streams, so one pair's sends
/// race each other and must still be stored in the order each stream sent.
const STREAMS_PER_SENDER: usize = 2;
const MESSAGES_PER_STREAM: usize = 65;
const FETCHERS: usize = 4;

/// Retries a request that the service asked to retry (503), as a client
/// would; with an Idempotency-Key the retry is safe.
async fn until_not_busy<F, Fut>(mut call: F) -> Reply
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Reply>,
{
    for _ in 0..20 {
        let reply = call().await;
        if reply.status != 503 {
            return reply;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the service stayed unavailable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_senders_and_fetchers_deliver_every_message_exactly_once() {
    let app = TestApp::spawn_alone().await;
    let recipient = app.register("crowd-recipient").await;
    let mut senders = Vec::new();
    for i in 0..SENDERS {
        senders.push(app.register(&format!("crowd-sender{i}")).await);
    }

    let sending_done = Arc::new(AtomicBool::new(false));
    let mut fetchers = Vec::new();
    for fetcher in 0..FETCHERS {
        let app = app.clone();
        let recipient: User = recipient.clone();
        let sending_done = sending_done.clone();
        fetchers.push(tokio::spawn(async move {
            let mut batches: Vec<Vec<Value>> = Vec::new();
            let mut call = 0;
            loop {
                // Checked before the fetch: an empty fetch after the last
                // send means the mailbox is drained.
                let done = sending_done.load(Ordering::SeqCst);
                call += 1;
                let key = format!("fetcher{fetcher}-call{call}");
                let body = json!({"limit": 1 + (call * 7 + fetcher * 13) % 40});
                let headers = [("idempotency-key", key.as_str())];
                let reply = until_not_busy(|| {
                    app.call_with("PUT", "/fetch_new_messages", Some(&recipient.token), &headers, Some(body.clone()))
                })
                .await;
                assert_eq!(reply.status, 200, "{:?}", reply.body);
                let messages = reply.body["messages"].as_array().unwrap().clone();
                let empty = messages.is_empty();
                batches.push(messages);
                if done && empty {
                    return batches;
                }
            }
        }));
    }

    let mut streams = Vec::new();
    for (s, sender) in senders.iter().enumerate() {
        for stream in 0..STREAMS_PER_SENDER {
            let app = app.clone();
            let sender = sender.clone();
            let to = recipient.login.clone();
            streams.push(tokio::spawn(async move {
                let mut sent = Vec::new();
                for n in 0..MESSAGES_PER_STREAM {
                    let text = format!("s{s}-t{stream}-n{n}");
                    let key = text.clone();
                    let body = json!({"recipient": to, "message": text});
                    let headers = [("idempotency-key", key.as_str())];
                    let reply = until_not_busy(|| {
                        app.call_with("POST", "/send_message", Some(&sender.token), &headers, Some(body.clone()))
                    })
                    .await;
                    assert_eq!(reply.status, 201, "{:?}", reply.body);
                    sent.push((text, reply.body["timestamp"].as_str().unwrap().to_owned()));
                }
                sent
            }));
        }
    }
    let mut sent: Vec<(String, String)> = Vec::new();
    for stream in streams {
        let stream_sent = stream.await.expect("sender task");
        // Sent one after another, so stored one after another.
        for pair in stream_sent.windows(2) {
            assert!(
                pair[0].1 < pair[1].1,
                "{} at {} is not before {} at {}",
                pair[0].0,
                pair[0].1,
                pair[1].0,
                pair[1].1
            );
        }
        sent.extend(stream_sent);
    }
    sending_done.store(true, Ordering::SeqCst);

    let mut fetched: HashMap<String, usize> = HashMap::new();
    let mut fetched_at: HashMap<String, String> = HashMap::new();
    let mut calls = 0;
    for fetcher in fetchers {
        for batch in fetcher.await.expect("fetcher task") {
            calls += 1;
            let stamps: Vec<&str> = batch.iter().map(|m| m["timestamp"].as_str().unwrap()).collect();
            assert!(stamps.windows(2).all(|w| w[0] < w[1]), "a batch is oldest first: {stamps:?}");
            for message in &batch {
                let text = message["message"].as_str().unwrap().to_owned();
                *fetched.entry(text.clone()).or_default() += 1;
                fetched_at.insert(text, message["timestamp"].as_str().unwrap().to_owned());
            }
        }
    }

    let total = SENDERS * STREAMS_PER_SENDER * MESSAGES_PER_STREAM;
    assert_eq!(sent.len(), total);
    assert!(total >= 1000);
    let twice: Vec<_> = fetched.iter().filter(|(_, count)| **count > 1).collect();
    assert!(twice.is_empty(), "fetched more than once: {twice:?}");
    let missing: Vec<_> = sent.iter().filter(|(text, _)| !fetched.contains_key(text)).collect();
    assert!(
        missing.is_empty(),
        "never fetched as new ({} of {total}): {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert_eq!(fetched.len(), total);
    for (text, timestamp) in &sent {
        assert_eq!(&fetched_at[text], timestamp, "{text} was fetched with the timestamp it was sent with");
    }
    eprintln!("{total} messages fetched exactly once in {calls} fetch calls by {FETCHERS} fetchers");

    // The stored history agrees: every message once, each stream in order,
    // and nothing left counted as new.
    let mut history: Vec<Value> = Vec::new();
    // Pages of 30 keep each reply under the size `cargo lambda watch` may
    // lose (see `TestApp::send_raw`), and walk `next` through 35 pages.
    let mut request = json!({"period_start": "2000-01-01T00:00:00Z", "limit": 30});
    loop {
        let page = app.call("PUT", "/fetch_messages", Some(&recipient.token), Some(request.clone())).await;
        assert_eq!(page.status, 200);
        history.extend(page.body["messages"].as_array().unwrap().iter().cloned());
        match page.body["next"].as_str() {
            Some(next) => request["next"] = json!(next),
            None => break,
        }
    }
    assert_eq!(history.len(), total);
    let mut per_stream: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for message in &history {
        let text = message["message"].as_str().unwrap();
        let (stream, n) = text.rsplit_once("-n").unwrap();
        per_stream.entry(stream.to_owned()).or_default().push(n.parse().unwrap());
    }
    for (stream, numbers) in per_stream {
        assert_eq!(numbers, (0..MESSAGES_PER_STREAM).collect::<Vec<_>>(), "{stream} is stored in sending order");
    }
    let rows = app.call("GET", "/conversations", Some(&recipient.token), None).await.body;
    let rows = rows["conversations"].as_array().unwrap();
    assert_eq!(rows.len(), SENDERS);
    assert!(rows.iter().all(|row| row["new_messages"] == 0), "{rows:?}");
}
