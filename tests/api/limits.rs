//! The service at its limits, with handlers called in-process against
//! DynamoDB Local: replies that Lambda can carry, costs that grow with what
//! a request returns rather than with what an attacker piles up, and a
//! bulk sender on one pair. Each test loads DynamoDB Local hard (6.5 MB of
//! writes, 1,200 sends, 32 racing sends), so each has it to itself.

use std::time::Duration;

use futures::future::join_all;
use futures::{stream, StreamExt};
use messenger_tools::handlers::handler_request;
use serde_json::{json, Value};
use shared::model::{Identifier, Timestamp};
use shared::reply::MAX_REPLY_BYTES;
use shared::App;

use crate::helpers::{
    assert_mailbox_consistent, call, handle, mailbox_texts, texts, with_key, DemoApp, Fault, FaultProxy,
};

/// Lambda's limit on a synchronous invocation's response.
const LAMBDA_RESPONSE_BYTES: usize = 6_291_556;
const ALICE: &str = "demo-alice";
const ALICE_TOKEN: &str = "demo-token-alice";

fn id(login: &str) -> Identifier {
    Identifier::parse("login", login).expect("identifier")
}

/// Sends `count` messages from each sender to alice, the senders at once.
async fn fill_mailbox(app: &App, senders: &[String], count: usize, text: impl Fn(&str, usize) -> String) {
    let alice = id(ALICE);
    // Eight at a time: DynamoDB Local slows to a crawl under hundreds.
    stream::iter(senders)
        .for_each_concurrent(8, |sender| {
            let (sender, alice, text) = (id(sender), &alice, &text);
            async move {
                for n in 0..count {
                    app.store.send_message(&sender, alice, &text(sender.as_str(), n), None).await.expect("send");
                }
            }
        })
        .await;
}

/// Every reply fits Lambda's limit and the service's own reply budget
/// (plus the envelope around the message list).
fn assert_carried(bytes: usize, what: &str) {
    assert!(bytes <= LAMBDA_RESPONSE_BYTES, "{what}: {bytes} bytes is over Lambda's limit");
    assert!(bytes <= MAX_REPLY_BYTES + 1024, "{what}: {bytes} bytes is over the reply budget");
}

#[tokio::test]
async fn long_messages_come_in_batches_and_pages_a_reply_can_carry() {
    let app = DemoApp::spawn_alone("limits-size").await;
    // 400 messages of 4096 emoji (16 KB each): 6.5 MB in all.
    let senders: Vec<String> = (0..4).map(|i| format!("bulk-{i}")).collect();
    fill_mailbox(&app, &senders, 100, |sender, n| format!("{sender}/{n:03}/{}", "😀".repeat(4080))).await;
    let sent = 400 + 2; // and the two demo messages from bob

    let mut fetched: Vec<String> = Vec::new();
    let mut calls = 0;
    loop {
        calls += 1;
        let key = format!("size-fetch-{calls}");
        let request = || handler_request("fetch_new_messages", ALICE_TOKEN, Some(json!({"limit": 1000})));
        let answer = handle(&app, with_key(request(), &key)).await;
        let reply = answer.body;
        assert_eq!(answer.status, 200, "{reply}");
        assert_carried(answer.bytes, "fetch_new_messages");
        // The same key replays the same batch.
        let replay = handle(&app, with_key(request(), &key)).await.body;
        assert_eq!(texts(&replay), texts(&reply), "replay of batch {calls}");
        fetched.extend(texts(&reply));
        if reply["more"] == false {
            break;
        }
        assert!(!texts(&reply).is_empty(), "a batch with more to come is not empty");
    }
    assert!(calls >= 7, "6.5 MB cannot come in fewer than 7 batches of 1 MiB ({calls})");
    let mut unique = fetched.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), fetched.len(), "no message fetched twice");
    assert_eq!(fetched.len(), sent, "every message fetched");
    assert_mailbox_consistent(&app.store, &id(ALICE)).await;

    // History: period pages are cut by size with `next`, and walk it all.
    let mut request = json!({"period_start": "2000-01-01T00:00:00Z", "limit": 1000});
    let mut history = Vec::new();
    loop {
        let page = call(&app, "fetch_messages", ALICE_TOKEN, request.clone()).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert_carried(page.bytes, "a period page");
        history.extend(texts(&page.body));
        match page.body["next"].as_str() {
            Some(next) => request["next"] = json!(next),
            None => break,
        }
    }
    assert_eq!(history.len(), sent, "the pages hold every message once");

    // The recent view keeps the newest messages that fit.
    let recent = call(&app, "fetch_messages", ALICE_TOKEN, json!({"limit": 1000})).await;
    assert_carried(recent.bytes, "the recent view");
    let newest = texts(&recent.body);
    assert!(!newest.is_empty() && newest.len() < 400, "{} messages", newest.len());
    assert_eq!(newest.last(), history.last(), "the recent view ends with the newest message");

    // A slice has no `next`: one that cannot fit is refused, saying how
    // many of its positions fit.
    let slice = call(&app, "fetch_messages", ALICE_TOKEN, json!({"start": 0, "stop": 400})).await;
    assert_eq!(slice.status, 400, "{}", slice.body);
    let error = slice.body["error"].as_str().unwrap();
    assert!(error.contains("only its first") && error.contains("positions fit"), "{error}");
    let small = call(&app, "fetch_messages", ALICE_TOKEN, json!({"start": -10})).await;
    assert_eq!(small.status, 200);
    assert_eq!(texts(&small.body), history[history.len() - 10..].to_vec());
}

#[tokio::test]
async fn a_fetch_reads_what_it_returns_not_every_waiting_sender() {
    let app = DemoApp::spawn_alone("limits-senders").await;
    let one_sender = call(&app, "fetch_new_messages", ALICE_TOKEN, json!({"limit": 1})).await;
    assert_eq!(texts(&one_sender.body).len(), 1, "bob's oldest demo message");

    // 120 accounts each leave one message, then the victim fetches one.
    let crowd: Vec<String> = (0..120).map(|i| format!("crowd-{i:03}")).collect();
    fill_mailbox(&app, &crowd, 1, |sender, _| format!("from {sender}")).await;
    let crowded = call(&app, "fetch_new_messages", ALICE_TOKEN, json!({"limit": 1})).await;
    assert_eq!(texts(&crowded.body), vec!["Or one o'clock, if that suits you better.".to_owned()]);
    assert_eq!(crowded.body["more"], true);
    eprintln!("limit 1: {} read units with 1 sender waiting, {} with 121", one_sender.read_units, crowded.read_units);
    assert!(
        crowded.read_units <= one_sender.read_units + 1.0,
        "121 waiting senders cost {} read units against {} for one",
        crowded.read_units,
        one_sender.read_units
    );

    // The rest still come exactly once, oldest first.
    let mut rest = Vec::new();
    loop {
        let batch = call(&app, "fetch_new_messages", ALICE_TOKEN, json!({"limit": 7})).await;
        rest.extend(texts(&batch.body));
        if batch.body["more"] == false {
            break;
        }
    }
    let mut expected: Vec<String> = Vec::new();
    let history =
        call(&app, "fetch_messages", ALICE_TOKEN, json!({"period_start": "2026-02-01T00:00:00Z", "limit": 1000})).await;
    expected.extend(texts(&history.body));
    assert_eq!(expected.len(), 120);
    assert_eq!(rest, expected, "every crowd message once, in time order");
    assert_mailbox_consistent(&app.store, &id(ALICE)).await;
}

#[tokio::test]
async fn slices_skip_positions_as_keys_and_empty_slices_read_nothing() {
    let app = DemoApp::spawn_alone("limits-slices").await;
    // 1,200 messages of 1 KB from two senders, interleaved in time.
    let senders = vec!["slicer-a".to_owned(), "slicer-b".to_owned()];
    fill_mailbox(&app, &senders, 600, |sender, n| format!("{sender}/{n:04}/{}", "k".repeat(1000))).await;
    let all = mailbox_texts(&app.store, &id(ALICE)).await;
    assert_eq!(all.len(), 1202);
    let token_only = call(&app, "fetch_messages", ALICE_TOKEN, json!({"start": 0, "stop": 0})).await.read_units;

    let python = |start: i64, stop: Option<i64>| {
        let len = all.len() as i64;
        let bound = |i: i64| if i < 0 { (len + i).max(0) } else { i.min(len) } as usize;
        let (from, to) = (bound(start), stop.map_or(all.len(), bound));
        all.get(from..to.max(from)).unwrap_or(&[]).to_vec()
    };
    for (start, stop) in [(1100, Some(1110)), (-20, Some(-10)), (5, Some(-1190)), (-1195, Some(9)), (1190, None)] {
        let mut body = json!({"start": start});
        if let Some(stop) = stop {
            body["stop"] = json!(stop);
        }
        let slice = call(&app, "fetch_messages", ALICE_TOKEN, body).await;
        assert_eq!(slice.status, 200, "[{start}:{stop:?}] {}", slice.body);
        assert_eq!(texts(&slice.body), python(start, stop), "[{start}:{stop:?}]");
    }

    let skipping = call(&app, "fetch_messages", ALICE_TOKEN, json!({"start": 1100, "stop": 1110})).await;
    let window = call(&app, "fetch_messages", ALICE_TOKEN, json!({"start": 1190, "stop": 1200})).await;
    eprintln!(
        "slice of 10 after 1,100 skipped: {} read units; after 1,190: {}",
        skipping.read_units, window.read_units
    );
    // 1,100 index entries of about 100 bytes are about 30 read units; the
    // texts skipped would be 280 (325 in all before this test existed).
    assert!(skipping.read_units <= 60.0, "{} read units", skipping.read_units);

    let empty = call(&app, "fetch_messages", ALICE_TOKEN, json!({"start": 1_000_000_000_000i64, "stop": 0})).await;
    assert_eq!((empty.status, texts(&empty.body).len()), (200, 0));
    assert_eq!(empty.read_units, token_only, "an empty slice reads nothing but the token");
    let past_the_end = call(&app, "fetch_messages", ALICE_TOKEN, json!({"start": 5000, "stop": 5010})).await;
    assert_eq!(texts(&past_the_end.body).len(), 0);

    let too_wide = call(&app, "fetch_messages", ALICE_TOKEN, json!({"start": 0, "stop": -1})).await;
    assert_eq!(too_wide.status, 400, "{}", too_wide.body);
    assert!(too_wide.read_units <= token_only + 30.0, "counting the window read {} units", too_wide.read_units);

    let by_sender =
        call(&app, "fetch_messages", ALICE_TOKEN, json!({"sender": "slicer-b", "start": 590, "stop": 595})).await;
    let expected: Vec<String> = all.iter().filter(|t| t.starts_with("slicer-b/")).skip(590).take(5).cloned().collect();
    assert_eq!(texts(&by_sender.body), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_sends_on_one_pair_all_succeed() {
    // Transactions held 20 ms, about an AWS commit, so the 32 overlap.
    let proxy = FaultProxy::start_before_dynamodb_local().await;
    proxy.set(Fault::DelayTransacts(Duration::from_millis(20)));
    let app = DemoApp::spawn_alone_via("limits-pair-flood", &proxy.url).await;
    let sends = (0..32).map(|n| {
        let body = json!({"recipient": ALICE, "message": format!("import {n}")});
        call(&app, "send_message", "demo-token-bob", body)
    });
    let answers = join_all(sends).await;
    let failed: Vec<&Value> = answers.iter().filter(|a| a.status != 201).map(|a| &a.body).collect();
    assert!(failed.is_empty(), "{} of 32 sends failed: {failed:?}", failed.len());
    let mut stamps: Vec<Timestamp> =
        answers.iter().map(|a| Timestamp::parse("timestamp", a.body["timestamp"].as_str().unwrap()).unwrap()).collect();
    stamps.sort();
    stamps.dedup();
    assert_eq!(stamps.len(), 32, "32 distinct timestamps");
    assert_mailbox_consistent(&app.store, &id(ALICE)).await;
    let fetched = call(&app, "fetch_new_messages", ALICE_TOKEN, json!({"sender": "demo-bob", "limit": 100})).await;
    assert_eq!(texts(&fetched.body).len(), 32 + 2, "the imports and bob's two demo messages, once each");
}
