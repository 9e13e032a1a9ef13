//! Read state (PRODUCT.md section 7): the read flags fetch_messages shows
//! both parties, mark_read's horizon, read receipts on the sender's
//! sockets, and mark_read racing fetches, sends and deletes on one pair.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Instant;

use messenger_tools::stack::{app_at, stack_table};
use serde_json::{json, Value};
use shared::model::Identifier;

use crate::helpers::{assert_mailbox_consistent, connect, texts, TestApp, User, PUSH_WITHIN};

/// The `read` flags of a fetch_messages reply, in its order.
fn flags(reply: &Value) -> Vec<bool> {
    reply["messages"].as_array().expect("messages").iter().map(|m| m["read"].as_bool().expect("read")).collect()
}

#[tokio::test]
async fn both_parties_see_what_was_fetched_or_marked_read_in_every_view() {
    let (app, [kim, lou]) = TestApp::with_users(["flags-k", "flags-l"]).await;
    let stamps = app.send_all(&lou, &kim, (1..=5).map(|i| format!("m{i}"))).await;
    assert_eq!(texts(&app.fetch_new(&kim, json!({"limit": 2})).await), ["m1", "m2"]);
    assert_eq!(app.mark_read(&kim, &lou, &stamps[2]).await, 1);

    let expected = [true, true, true, false, false];
    let views = [json!({}), json!({"start": -5}), json!({"period_start": stamps[0], "period_end": stamps[4]})];
    for view in views {
        assert_eq!(flags(&app.fetch(&kim, view.clone()).await), expected, "kim's mailbox, {view}");
        let sent = json!({"recipient": kim.login, "sender": lou.login});
        let mut sent_view = view.clone();
        sent_view.as_object_mut().unwrap().extend(sent.as_object().unwrap().clone());
        assert_eq!(flags(&app.fetch(&lou, sent_view).await), expected, "what lou sent, {view}");
    }
    // A page cut in two shows the same flags on each side of the cut.
    let first = app.fetch(&kim, json!({"period_start": stamps[0], "limit": 3})).await;
    let second = app.fetch(&kim, json!({"period_start": stamps[0], "limit": 3, "next": first["next"]})).await;
    assert_eq!([flags(&first), flags(&second)].concat(), expected);
}

#[tokio::test]
async fn mark_read_is_a_horizon_that_only_moves_forward() {
    let (app, [kim, lou, mo]) = TestApp::with_users(["mark-k", "mark-l", "mark-m"]).await;
    let stamps = app.send_all(&lou, &kim, (1..=5).map(|i| format!("m{i}"))).await;
    app.send_ok(&mo, &kim, "from mo").await;

    assert_eq!(app.mark_read(&kim, &lou, &stamps[2]).await, 3, "through the third: the first three");
    assert_eq!(app.mark_read(&kim, &lou, &stamps[0]).await, 0, "behind the horizon: nothing");
    assert_eq!(app.mark_read(&kim, &lou, &stamps[2]).await, 0, "again: nothing");
    let rows = app.conversations(&kim).await;
    let row = |who: &User| rows["conversations"].as_array().unwrap().iter().find(|r| r["with"] == who.login).cloned();
    assert_eq!(row(&lou).unwrap()["new_messages"], 2);
    assert_eq!(row(&mo).unwrap()["new_messages"], 1, "another sender's messages stay new");
    assert_eq!(texts(&app.fetch_new(&kim, json!({})).await), ["m4", "m5", "from mo"]);

    // A horizon in the future covers what exists, not what comes later.
    assert_eq!(app.mark_read(&kim, &lou, "9999-12-31T23:59:59Z").await, 0);
    app.send_ok(&lou, &kim, "m6").await;
    assert_eq!(app.mark_read(&kim, &lou, "9999-12-31T23:59:59Z").await, 1);
    app.send_ok(&lou, &kim, "m7").await;
    assert_eq!(texts(&app.fetch_new(&kim, json!({})).await), ["m7"]);

    let stack = app_at(None, &stack_table()).await;
    assert_mailbox_consistent(&stack.store, &Identifier::parse("login", &kim.login).unwrap()).await;
}

#[tokio::test]
async fn the_sender_gets_a_read_receipt_when_the_cursor_moves() {
    let (app, [kim, lou]) = TestApp::with_users(["receipt-k", "receipt-l"]).await;
    let mut socket = connect(&app, &lou).await;
    let stamps = app.send_all(&lou, &kim, (1..=3).map(|i| format!("m{i}"))).await;
    app.fetch_new(&kim, json!({"limit": 2})).await;
    let receipt = |through: &str| json!({"type": "read", "by": kim.login, "through": through});
    assert_eq!(socket.frame(PUSH_WITHIN).await, receipt(&stamps[1]));
    assert_eq!(app.mark_read(&kim, &lou, &stamps[2]).await, 1);
    assert_eq!(socket.frame(PUSH_WITHIN).await, receipt(&stamps[2]));
    // A delete settles a new message without moving the cursor: no receipt.
    // The next frame is the one of a later move.
    let later = app.send_ok(&lou, &kim, "m4").await;
    let doomed = app.send_ok(&lou, &kim, "m5").await;
    let body = json!({"sender": lou.login, "recipient": kim.login, "timestamp": doomed});
    assert_eq!(app.call("DELETE", "/delete_message", Some(&lou.token), Some(body)).await.status, 201);
    app.fetch_new(&kim, json!({})).await;
    assert_eq!(socket.frame(PUSH_WITHIN).await, receipt(&later));
    socket.close().await;
}

#[tokio::test]
async fn mark_read_racing_fetches_sends_and_deletes_on_one_pair_keeps_every_count() {
    let (app, [kim, lou]) = TestApp::with_users(["race-k", "race-l"]).await;
    const MESSAGES: usize = 60;
    let sent = Mutex::new(Vec::<String>::new());
    // (when a mark_read returned, the horizon it set at least)
    let marked = Mutex::new(Vec::<(Instant, String)>::new());
    let fetched = Mutex::new(Vec::<(Instant, Vec<String>)>::new());
    let sending = async {
        for i in 0..MESSAGES {
            let stamp = app.send_ok(&lou, &kim, &format!("race {i}")).await;
            sent.lock().unwrap().push(stamp);
        }
    };
    let marking = async {
        for _ in 0..20 {
            let through = sent.lock().unwrap().last().cloned();
            if let Some(through) = through {
                app.mark_read(&kim, &lou, &through).await;
                marked.lock().unwrap().push((Instant::now(), through));
            }
            tokio::task::yield_now().await;
        }
    };
    let fetching = async {
        for _ in 0..20 {
            let started = Instant::now();
            let batch = app.fetch_new(&kim, json!({"limit": 5})).await;
            let stamps =
                batch["messages"].as_array().unwrap().iter().map(|m| m["timestamp"].as_str().unwrap().to_owned());
            fetched.lock().unwrap().push((started, stamps.collect()));
        }
    };
    let deleting = async {
        for _ in 0..10 {
            let victim = sent.lock().unwrap().iter().rev().nth(1).cloned();
            if let Some(victim) = victim {
                let body = json!({"sender": lou.login, "recipient": kim.login, "timestamp": victim});
                let status = app.call("DELETE", "/delete_message", Some(&kim.token), Some(body)).await.status;
                assert!(status == 201 || status == 404, "a delete answers {status}");
            }
            tokio::task::yield_now().await;
        }
    };
    tokio::join!(sending, marking, fetching, deleting);

    let fetched = fetched.into_inner().unwrap();
    let mut seen = HashSet::new();
    for (_, stamps) in &fetched {
        for stamp in stamps {
            assert!(seen.insert(stamp.clone()), "{stamp} was fetched twice");
        }
    }
    for (mark_returned, through) in marked.into_inner().unwrap() {
        for (started, stamps) in fetched.iter().filter(|(started, _)| *started > mark_returned) {
            for stamp in stamps {
                assert!(stamp > &through, "fetched {stamp} at {started:?}, after a mark_read through {through}");
            }
        }
    }
    let stack = app_at(None, &stack_table()).await;
    assert_mailbox_consistent(&stack.store, &Identifier::parse("login", &kim.login).unwrap()).await;
    // What is left unread is exactly what was neither fetched nor marked.
    let rest = app.fetch_new(&kim, json!({"limit": 1000})).await;
    for message in rest["messages"].as_array().unwrap() {
        assert!(!seen.contains(message["timestamp"].as_str().unwrap()), "{message} came twice");
    }
}
