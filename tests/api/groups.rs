//! Group conversations over HTTP: membership and its checks, and every
//! member receiving every message of their membership exactly once, in each
//! sender's order, while members send, fetch, join and leave at once.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::{json, Value};

use crate::helpers::{connect, texts, unique_login, Reply, TestApp, User, PUSH_WITHIN};

/// Creates a group of `admin` and `members`; returns its id.
async fn new_group(app: &TestApp, admin: &User, members: &[&User]) -> String {
    app.create_group(admin, "Team", members).await
}

async fn group_call(app: &TestApp, path: &str, user: &User, body: Value) -> Reply {
    let method = match path {
        "/group_members" | "/fetch_new_messages" | "/fetch_messages" => "PUT",
        _ => "POST",
    };
    app.call(method, path, Some(&user.token), Some(body)).await
}

async fn send_to_group(app: &TestApp, from: &User, group: &str, text: &str) -> Reply {
    app.send_to_group(from, group, text).await
}

/// Fetches a member's new messages of a group until none are left.
async fn drain_group(app: &TestApp, member: &User, group: &str) -> Vec<String> {
    let mut fetched = Vec::new();
    loop {
        let body = app.fetch_new(member, json!({"group": group, "limit": 50})).await;
        fetched.extend(texts(&body));
        if body["more"] == false {
            return fetched;
        }
    }
}

/// The caller's row of a group in GET /groups.
async fn group_row(app: &TestApp, user: &User, group: &str) -> Option<Value> {
    let rows = app.groups(user).await;
    rows["groups"].as_array().expect("groups").iter().find(|row| row["group"] == group).cloned()
}

async fn member_logins(app: &TestApp, user: &User, group: &str) -> (String, Vec<String>) {
    let view = app.group_members(user, group).await;
    let logins = view["members"].as_array().unwrap().iter().map(|m| m["login"].as_str().unwrap().to_owned());
    (view["admin"].as_str().unwrap().to_owned(), logins.collect())
}

#[tokio::test]
async fn members_send_and_fetch_and_the_admin_changes_membership() {
    let (app, [ann, bob, cat, dan, eve]) = TestApp::with_users(["g-ann", "g-bob", "g-cat", "g-dan", "g-eve"]).await;
    let group = new_group(&app, &ann, &[&bob, &cat, &bob]).await;
    let (admin, members) = member_logins(&app, &bob, &group).await;
    assert_eq!(admin, ann.login);
    let mut expected = vec![ann.login.clone(), bob.login.clone(), cat.login.clone()];
    expected.sort();
    assert_eq!(members, expected, "the creator and the named members, once each");

    // A stranger learns nothing: the same answer as for no group at all.
    let nowhere = "0".repeat(32);
    for id in [group.as_str(), nowhere.as_str()] {
        let stranger = group_call(&app, "/group_members", &dan, json!({"group": id})).await;
        assert_eq!(stranger.status, 404);
        assert_eq!(stranger.error(), format!("group {id} is not one of your groups"));
        assert_eq!(send_to_group(&app, &dan, id, "let me in").await.status, 404);
        let fetch = group_call(&app, "/fetch_new_messages", &dan, json!({"group": id})).await;
        assert_eq!(fetch.status, 404);
    }

    for (from, text) in [(&bob, "b1"), (&cat, "c1"), (&bob, "b2")] {
        let reply = send_to_group(&app, from, &group, text).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
    }
    let row = group_row(&app, &ann, &group).await.expect("ann's row");
    assert_eq!((row["name"].as_str(), row["new_messages"].as_u64()), (Some("Team"), Some(3)));
    assert_eq!(group_row(&app, &bob, &group).await.unwrap()["new_messages"], 1, "bob's own are never new");

    let batch = app.fetch_new(&ann, json!({"group": group})).await;
    assert_eq!(texts(&batch), ["b1", "c1", "b2"]);
    let first = &batch["messages"][0];
    assert_eq!((first["group"].as_str(), first["recipient"].as_str()), (Some(group.as_str()), Some(&*ann.login)));
    assert_eq!(app.fetch_new(&ann, json!({"group": group})).await["messages"], json!([]), "each once");
    assert_eq!(drain_group(&app, &bob, &group).await, ["c1"]);
    assert_eq!(group_row(&app, &ann, &group).await.unwrap()["new_messages"], 0);

    // One sender's messages ahead of the others', then the rest.
    for (from, text) in [(&cat, "c2"), (&bob, "b3"), (&cat, "c3"), (&bob, "b4")] {
        assert_eq!(send_to_group(&app, from, &group, text).await.status, 201);
    }
    let ahead = app.fetch_new(&ann, json!({"group": group, "sender": bob.login})).await;
    assert_eq!((texts(&ahead), ahead["more"].as_bool()), (vec!["b3".to_owned(), "b4".to_owned()], Some(false)));
    assert_eq!(group_row(&app, &ann, &group).await.unwrap()["new_messages"], 2);
    let rest = app.fetch_new(&ann, json!({"group": group, "limit": 1})).await;
    assert_eq!((texts(&rest), rest["more"].as_bool()), (vec!["c2".to_owned()], Some(true)));
    assert_eq!(drain_group(&app, &ann, &group).await, ["c3"]);

    // Only the admin changes membership; a new member starts at their join.
    let refused = group_call(&app, "/add_members", &bob, json!({"group": group, "members": [dan.login]})).await;
    assert_eq!((refused.status, refused.error()), (403, "only the group's admin may add members"));
    let added =
        group_call(&app, "/add_members", &ann, json!({"group": group, "members": [dan.login, bob.login]})).await;
    assert_eq!(added.status, 200, "{:?}", added.body);
    assert_eq!((added.body["added"].clone(), added.body["members"].as_u64()), (json!([dan.login]), Some(4)));
    assert_eq!(drain_group(&app, &dan, &group).await, Vec::<String>::new(), "nothing from before the join");
    assert_eq!(send_to_group(&app, &cat, &group, "c4").await.status, 201);
    assert_eq!(drain_group(&app, &dan, &group).await, ["c4"]);

    // A removed member keeps nothing new and can no longer send.
    let removed = group_call(&app, "/remove_member", &ann, json!({"group": group, "member": cat.login})).await;
    assert_eq!(removed.status, 200, "{:?}", removed.body);
    assert_eq!(group_call(&app, "/fetch_new_messages", &cat, json!({"group": group})).await.status, 404);
    assert_eq!(send_to_group(&app, &cat, &group, "still here?").await.status, 404);
    assert!(group_row(&app, &cat, &group).await.is_none());
    let again = group_call(&app, "/remove_member", &ann, json!({"group": group, "member": cat.login})).await;
    assert_eq!((again.status, again.error()), (404, format!("{} is not a member of this group", cat.login).as_str()));
    let outsider = group_call(&app, "/add_members", &ann, json!({"group": group, "members": [eve.login]})).await;
    assert_eq!(outsider.status, 200);

    // The admin leaves: the first to join after them takes over.
    assert_eq!(group_call(&app, "/leave_group", &ann, json!({"group": group})).await.status, 200);
    let (admin, members) = member_logins(&app, &dan, &group).await;
    assert_eq!(admin, bob.login, "bob joined with the group");
    assert!(!members.contains(&ann.login) && members.contains(&eve.login));
    assert_eq!(group_call(&app, "/leave_group", &ann, json!({"group": group})).await.status, 404, "left already");
    let bob_removes = group_call(&app, "/remove_member", &bob, json!({"group": group, "member": dan.login})).await;
    assert_eq!(bob_removes.status, 200, "the new admin administers: {:?}", bob_removes.body);
}

#[tokio::test]
async fn a_group_message_goes_to_a_group_or_a_recipient_never_both() {
    let (app, [ann, bob]) = TestApp::with_users(["g2-ann", "g2-bob"]).await;
    let group = new_group(&app, &ann, &[&bob]).await;
    let both = json!({"recipient": bob.login, "group": group, "message": "hi"});
    let reply = app.call("POST", "/send_message", Some(&ann.token), Some(both)).await;
    assert_eq!((reply.status, reply.error()), (400, "give either recipient or group, not both"));
    let neither = app.call("POST", "/send_message", Some(&ann.token), Some(json!({"message": "hi"}))).await;
    assert_eq!(neither.status, 400);
    let bad = app.call("POST", "/send_message", Some(&ann.token), Some(json!({"group": "g1", "message": "hi"}))).await;
    assert_eq!(bad.status, 400);
    assert!(bad.error().starts_with("group must be a group id"), "{}", bad.error());
    assert_eq!(send_to_group(&app, &ann, &group, "to the group").await.status, 201);
    assert_eq!(drain_group(&app, &bob, &group).await, ["to the group"]);
}

/// Fetches `user`'s whole mailbox in batches of `limit` until `count`
/// messages came: group messages reach it once the table's stream has
/// noted them, a moment after their send. Returns the batches.
async fn mailbox_until(app: &TestApp, user: &User, limit: usize, count: usize) -> Vec<Vec<String>> {
    let mut batches = Vec::new();
    let deadline = Instant::now() + PUSH_WITHIN;
    while batches.iter().map(Vec::len).sum::<usize>() < count {
        assert!(Instant::now() < deadline, "only {batches:?} of {count} messages came");
        let batch = texts(&app.fetch_new(user, json!({"limit": limit})).await);
        if batch.is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        batches.push(batch);
    }
    batches.retain(|batch| !batch.is_empty());
    batches
}

#[tokio::test]
async fn a_fetch_of_the_whole_mailbox_returns_group_messages_too_each_once() {
    let (app, [ann, bob, cat]) = TestApp::with_users(["gm-ann", "gm-bob", "gm-cat"]).await;
    let group = new_group(&app, &ann, &[&bob, &cat]).await;
    // Direct and group messages from two senders, in turns.
    app.send_ok(&bob, &ann, "1/0").await;
    assert_eq!(send_to_group(&app, &bob, &group, "1/1").await.status, 201);
    assert_eq!(send_to_group(&app, &cat, &group, "2/0").await.status, 201);
    app.send_ok(&cat, &ann, "2/1").await;
    assert_eq!(send_to_group(&app, &bob, &group, "1/2").await.status, 201);
    let batches = mailbox_until(&app, &ann, 2, 5).await;
    assert_sender_order(&batches);
    let expected: BTreeSet<String> = ["1/0", "1/1", "1/2", "2/0", "2/1"].map(String::from).into();
    assert_eq!(exactly_once("ann", &batches), expected);
    let group_fetch = app.fetch_new(&ann, json!({"group": group})).await;
    assert_eq!(group_fetch["messages"], json!([]), "fetched through the mailbox");
    assert_eq!(group_row(&app, &ann, &group).await.unwrap()["new_messages"], 0);

    // A fetch repeated with its key gets the same batch, group message too.
    assert_eq!(send_to_group(&app, &bob, &group, "1/3").await.status, 201);
    let fetch = |key: String| {
        let (app, token) = (&app, &ann.token);
        async move {
            let headers = [("idempotency-key", key.as_str())];
            app.call_with("PUT", "/fetch_new_messages", Some(token), &headers, Some(json!({}))).await.body
        }
    };
    for attempt in 0.. {
        assert!(attempt < 100, "the group message never reached the mailbox");
        let batch = fetch(format!("mailbox-{attempt}")).await;
        if texts(&batch).is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        assert_eq!(texts(&batch), ["1/3"]);
        assert_eq!(batch["messages"][0]["group"], group.as_str());
        assert_eq!(fetch(format!("mailbox-{attempt}")).await, batch, "the same batch again");
        break;
    }
}

#[tokio::test]
async fn every_connected_member_but_the_sender_is_pushed_a_group_message_and_its_receipts() {
    let (app, [ann, bob, cat]) = TestApp::with_users(["gp-ann", "gp-bob", "gp-cat"]).await;
    let group = new_group(&app, &ann, &[&bob, &cat]).await;
    let (mut ann_socket, mut bob_socket) = (connect(&app, &ann).await, connect(&app, &bob).await);
    let sent = send_to_group(&app, &bob, &group, "hello, group").await;
    assert_eq!(sent.status, 201, "{:?}", sent.body);
    let frame = ann_socket.frame(PUSH_WITHIN).await;
    let expected = json!({"type": "message", "message": {"sender": bob.login, "recipient": ann.login,
        "group": group, "timestamp": sent.body["timestamp"], "message": "hello, group"}});
    assert_eq!(frame, expected);
    // Bob's next frame is cat's message, not his own.
    assert_eq!(send_to_group(&app, &cat, &group, "hi bob").await.status, 201);
    assert_eq!(bob_socket.frame(PUSH_WITHIN).await["message"]["message"], "hi bob");
    assert_eq!(ann_socket.frame(PUSH_WITHIN).await["message"]["message"], "hi bob");
    // A push is a notification: the messages are still new.
    assert_eq!(drain_group(&app, &ann, &group).await, ["hello, group", "hi bob"]);
    // Ann's fetch is a read receipt for bob (and for cat, who is not connected).
    let receipt =
        |by: &User| json!({"type": "read", "by": by.login, "group": group, "through": sent.body["timestamp"]});
    assert_eq!(bob_socket.frame(PUSH_WITHIN).await, receipt(&ann));
    // So is a fetch of the whole mailbox that returns the group's messages.
    let mailbox = app.fetch_new(&cat, json!({})).await;
    assert_eq!(texts(&mailbox), ["hello, group"]);
    assert_eq!(bob_socket.frame(PUSH_WITHIN).await, receipt(&cat));

    // A sender who left is told nothing more of the group: cat's fetch of
    // bob's message and ann's, after bob's removal, is a receipt for ann
    // alone. Once ann has it, that record is done: bob's next frame is then
    // the one of a later record.
    let bye = send_to_group(&app, &bob, &group, "bye").await;
    assert_eq!(ann_socket.frame(PUSH_WITHIN).await["message"]["message"], "bye");
    app.remove_member(&ann, &group, &bob).await;
    let reply = send_to_group(&app, &ann, &group, "bye, bob").await;
    assert_eq!(drain_group(&app, &cat, &group).await, ["bye", "bye, bob"]);
    let to_ann = json!({"type": "read", "by": cat.login, "group": group, "through": reply.body["timestamp"]});
    assert_eq!(ann_socket.frame(PUSH_WITHIN).await, to_ann);
    assert!(bye.body["timestamp"].as_str() < reply.body["timestamp"].as_str());
    app.send_ok(&ann, &bob, "still there?").await;
    assert_eq!(bob_socket.frame(PUSH_WITHIN).await["message"]["message"], "still there?");
    ann_socket.close().await;
    bob_socket.close().await;
}

/// The texts and read flags of a history reply.
fn history(body: &Value) -> Vec<(String, bool)> {
    let messages = body["messages"].as_array().expect("messages");
    messages.iter().map(|m| (m["message"].as_str().unwrap().to_owned(), m["read"].as_bool().unwrap())).collect()
}

#[tokio::test]
async fn a_member_reads_the_groups_history_since_their_join_with_read_flags() {
    let (app, [ann, bob, cat]) = TestApp::with_users(["gh-ann", "gh-bob", "gh-cat"]).await;
    let group = new_group(&app, &ann, &[&bob]).await;
    for (from, text) in [(&bob, "b1"), (&ann, "a1"), (&bob, "b2")] {
        assert_eq!(send_to_group(&app, from, &group, text).await.status, 201);
    }
    let added = group_call(&app, "/add_members", &ann, json!({"group": group, "members": [cat.login]})).await;
    assert_eq!(added.status, 200);
    assert_eq!(send_to_group(&app, &bob, &group, "b3").await.status, 201);
    assert_eq!(texts(&app.fetch_new(&ann, json!({"group": group, "limit": 1})).await), ["b1"]);

    // Own messages are read; the position and nothing beyond it.
    let expected = [("b1", true), ("a1", true), ("b2", false), ("b3", false)].map(|(t, r)| (t.to_owned(), r));
    assert_eq!(history(&app.fetch(&ann, json!({"group": group})).await), expected);
    let sliced = app.fetch(&ann, json!({"group": group, "start": -2})).await;
    assert_eq!(history(&sliced), expected[2..]);
    let bobs = app.fetch(&ann, json!({"group": group, "sender": bob.login})).await;
    assert_eq!(texts(&bobs), ["b1", "b2", "b3"]);
    // Pages of a period, through `next`.
    let mut paged = Vec::new();
    let mut body = json!({"group": group, "period_start": "2000-01-01T00:00:00Z", "limit": 3});
    loop {
        let page = app.fetch(&ann, body.clone()).await;
        paged.extend(history(&page));
        match page["next"].as_str() {
            Some(next) => body["next"] = json!(next),
            None => break,
        }
    }
    assert_eq!(paged, expected);

    // A member added later sees from their join on; a stranger nothing.
    assert_eq!(history(&app.fetch(&cat, json!({"group": group})).await), [("b3".to_owned(), false)]);
    let stranger = app.register("gh-dan").await;
    let refused = group_call(&app, "/fetch_messages", &stranger, json!({"group": group})).await;
    assert_eq!(refused.status, 404);

    // `read` filters by the same state, in every view.
    let filtered = |read: bool, extra: Value| {
        let mut body = json!({"group": group, "read": read});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let app = &app;
        let ann = &ann;
        async move { history(&app.fetch(ann, body).await) }
    };
    let none = json!({});
    assert_eq!(filtered(false, none.clone()).await, expected[2..]);
    assert_eq!(filtered(true, none.clone()).await, expected[..2]);
    assert_eq!(filtered(false, json!({"start": -1})).await, expected[3..]);
    assert_eq!(filtered(true, json!({"period_start": "2000-01-01T00:00:00Z", "limit": 1})).await, expected[..1]);
    // A fetch of bob's alone marks b2 read, ahead of ann's position.
    assert_eq!(texts(&app.fetch_new(&ann, json!({"group": group, "sender": bob.login, "limit": 1})).await), ["b2"]);
    let read = |texts: &[&str], read: bool| texts.iter().map(|t| (t.to_string(), read)).collect::<Vec<_>>();
    assert_eq!(filtered(false, none.clone()).await, read(&["b3"], false));
    assert_eq!(filtered(true, none).await, read(&["b1", "a1", "b2"], true));
    assert_eq!(filtered(false, json!({"sender": bob.login})).await, read(&["b3"], false));
    assert_eq!(filtered(false, json!({"sender": ann.login})).await, read(&[], false), "own are never unread");
    assert_eq!(filtered(true, json!({"sender": ann.login})).await, read(&["a1"], true));
    let cats = app.fetch(&cat, json!({"group": group, "read": false})).await;
    assert_eq!(history(&cats), read(&["b3"], false));
}

#[tokio::test]
async fn the_sender_deletes_their_group_message_and_the_admin_anyones() {
    let (app, [ann, bob, cat, dan]) = TestApp::with_users(["gd-ann", "gd-bob", "gd-cat", "gd-dan"]).await;
    let group = new_group(&app, &ann, &[&bob, &cat]).await;
    let mut stamps = Vec::new();
    for (from, text) in [(&bob, "b1"), (&cat, "c1"), (&bob, "b2")] {
        let sent = send_to_group(&app, from, &group, text).await;
        stamps.push(sent.body["timestamp"].as_str().unwrap().to_owned());
    }
    let delete = |caller: &User, sender: &User, timestamp: &str| {
        let body = json!({"sender": sender.login, "group": group, "timestamp": timestamp});
        let (app, token) = (app.clone(), caller.token.clone());
        async move { app.call("DELETE", "/delete_message", Some(&token), Some(body)).await }
    };
    let refused = delete(&cat, &bob, &stamps[0]).await;
    assert_eq!((refused.status, refused.error()), (403, "only the group's admin may delete other members' messages"));
    assert_eq!(delete(&dan, &bob, &stamps[0]).await.status, 404, "a stranger learns nothing");
    assert_eq!(delete(&bob, &bob, &stamps[0]).await.status, 201, "the sender");
    assert_eq!(delete(&bob, &bob, &stamps[0]).await.status, 404, "gone");
    assert_eq!(delete(&ann, &cat, &stamps[1]).await.status, 201, "the admin");
    let many = json!({"sender": bob.login, "group": group, "timestamps": [stamps[2], stamps[0]]});
    let reply = app.call("DELETE", "/delete_messages", Some(&bob.token), Some(many)).await;
    assert_eq!((reply.body["deleted"].as_u64(), reply.body["not_found"].clone()), (Some(1), json!([stamps[0]])));

    // Nothing is left, to read or to count as new.
    assert_eq!(app.fetch(&ann, json!({"group": group})).await["messages"], json!([]));
    assert_eq!(group_row(&app, &ann, &group).await.unwrap()["new_messages"], 0);
    assert_eq!(drain_group(&app, &cat, &group).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_member_waiting_on_a_group_gets_the_next_message_of_another() {
    let (app, [ann, bob, dan]) = TestApp::with_users(["gw-ann", "gw-bob", "gw-dan"]).await;
    let group = new_group(&app, &ann, &[&bob]).await;
    let stranger = group_call(&app, "/fetch_new_messages", &dan, json!({"group": group, "wait": 20})).await;
    assert_eq!(stranger.status, 404, "a stranger is refused at once, not after the wait");
    let waiting = {
        let (app, ann, group) = (app.clone(), ann.clone(), group.clone());
        tokio::spawn(async move { app.fetch_new(&ann, json!({"group": group, "wait": 20})).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(send_to_group(&app, &bob, &group, "are you there?").await.status, 201);
    let batch = waiting.await.expect("the waiting fetch");
    assert_eq!(texts(&batch), ["are you there?"]);
    let empty = app.fetch_new(&ann, json!({"group": group, "wait": 1})).await;
    assert_eq!((texts(&empty), empty["more"].as_bool()), (Vec::<String>::new(), Some(false)));
}

const MEMBERS: usize = 20;
const SENDERS: usize = 8;
const EACH: usize = 20;
/// Members who fetch while the senders send, each from two loops at once.
const FETCHING_MEMBERS: usize = 3;

/// A message's text: its sender's index and its number.
fn text_of(sender: usize, n: usize) -> String {
    format!("{sender}/{n}")
}

/// Fetches a member's new messages of a group until `stop` is set, then
/// until nothing is left; returns the batches. Every fourth call fetches
/// one sender's messages ahead of the rest. A 404 (removed meanwhile) ends
/// it; any other answer but 200 fails the test.
async fn keep_fetching(
    app: &TestApp,
    member: &User,
    group: &str,
    senders: &[String],
    stop: &AtomicBool,
) -> Vec<Vec<String>> {
    let mut batches = Vec::new();
    for call in 0usize.. {
        let done = stop.load(Ordering::SeqCst);
        let ahead = call % 4 == 3;
        let body = match ahead {
            true => json!({"group": group, "sender": senders[call % senders.len()], "limit": 3}),
            false => json!({"group": group, "limit": 1 + call * 7 % 12}),
        };
        let key = unique_login("fetch");
        let headers = [("idempotency-key", key.as_str())];
        let reply = app.call_with("PUT", "/fetch_new_messages", Some(&member.token), &headers, Some(body)).await;
        if reply.status == 404 {
            break;
        }
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        batches.push(texts(&reply.body));
        if done && !ahead && reply.body["more"] == false {
            break;
        }
    }
    batches
}

/// Each sender's messages come in the order they were sent, in each batch.
fn assert_sender_order(batches: &[Vec<String>]) {
    for batch in batches {
        let mut last: BTreeMap<&str, usize> = BTreeMap::new();
        for text in batch {
            let (sender, n) = text.split_once('/').expect("a test message");
            let n: usize = n.parse().expect("a number");
            assert!(last.insert(sender, n).is_none_or(|before| before < n), "{sender}'s order in {batch:?}");
        }
    }
}

/// The texts of all batches, each once, or the test fails.
fn exactly_once(who: &str, batches: &[Vec<String>]) -> BTreeSet<String> {
    let all: Vec<&String> = batches.iter().flatten().collect();
    let once: BTreeSet<String> = all.iter().map(|text| (*text).clone()).collect();
    assert_eq!(once.len(), all.len(), "{who} got a message twice");
    once
}

/// When a send began and returned, relative to the test's start.
struct Sent {
    text: String,
    began: Instant,
    returned: Instant,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_members_sending_and_fetching_at_once_each_get_their_membership_exactly_once() {
    let app = TestApp::spawn_alone().await;
    let mut users = Vec::new();
    for i in 0..MEMBERS {
        users.push(app.register(&format!("crowd-g{i:02}")).await);
    }
    let newcomer = app.register("crowd-gnew").await;
    let admin = &users[0];
    let group = new_group(&app, admin, &users[1..].iter().collect::<Vec<_>>()).await;
    let senders = &users[1..=SENDERS];
    let sender_logins: Vec<String> = senders.iter().map(|s| s.login.clone()).collect();
    let fetchers = &users[SENDERS + 1..SENDERS + 1 + FETCHING_MEMBERS];
    let leaver = &users[SENDERS + 1 + FETCHING_MEMBERS];

    let stop = AtomicBool::new(false);
    let progress = AtomicUsize::new(0);
    let sending = join_all(senders.iter().enumerate().map(|(s, sender)| {
        let (app, group, progress) = (&app, &group, &progress);
        async move {
            let mut sent = Vec::new();
            for n in 0..EACH {
                let began = Instant::now();
                let reply = send_to_group(app, sender, group, &text_of(s, n)).await;
                assert_eq!(reply.status, 201, "{:?}", reply.body);
                sent.push(Sent { text: text_of(s, n), began, returned: Instant::now() });
                progress.fetch_add(1, Ordering::SeqCst);
            }
            sent
        }
    }));
    let fetching = join_all(
        fetchers
            .iter()
            .chain(fetchers)
            .chain([leaver])
            .map(|member| keep_fetching(&app, member, &group, &sender_logins, &stop)),
    );
    let changing = async {
        let total = SENDERS * EACH;
        while progress.load(Ordering::SeqCst) < total / 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let adding = Instant::now();
        let body = json!({"group": group, "members": [newcomer.login]});
        assert_eq!(group_call(&app, "/add_members", admin, body).await.status, 200);
        let added = (adding, Instant::now());
        while progress.load(Ordering::SeqCst) < 2 * total / 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let removing = Instant::now();
        let body = json!({"group": group, "member": leaver.login});
        assert_eq!(group_call(&app, "/remove_member", admin, body).await.status, 200);
        (added, (removing, Instant::now()))
    };
    let stopping = async {
        // The fetchers stop once the senders are done (and have drained).
        let sent = sending.await;
        stop.store(true, Ordering::SeqCst);
        sent
    };
    let (sent, batches, (added, removed)) = tokio::join!(stopping, fetching, changing);
    let sent: Vec<Sent> = sent.into_iter().flatten().collect();
    let by_text: BTreeMap<&str, &Sent> = sent.iter().map(|s| (s.text.as_str(), s)).collect();
    let (fetcher_batches, leaver_batches) = batches.split_at(2 * FETCHING_MEMBERS);

    // Members throughout: every message of the others once, the counters
    // exact before the rest is fetched.
    // Sender s is user s + 1.
    let others_of = |user: usize| -> BTreeSet<String> {
        let own = (1..=SENDERS).contains(&user).then(|| format!("{}/", user - 1));
        let theirs = |s: &&Sent| own.as_ref().is_none_or(|own| !s.text.starts_with(own.as_str()));
        sent.iter().filter(theirs).map(|s| s.text.clone()).collect()
    };
    for (index, member) in users.iter().enumerate() {
        if member.login == leaver.login {
            continue;
        }
        let mut batches: Vec<Vec<String>> = Vec::new();
        if let Some(f) = fetchers.iter().position(|f| f.login == member.login) {
            batches.extend(fetcher_batches[f].iter().cloned());
            batches.extend(fetcher_batches[f + FETCHING_MEMBERS].iter().cloned());
        }
        let expected = others_of(index);
        let so_far = batches.iter().map(Vec::len).sum::<usize>();
        let row = group_row(&app, member, &group).await.expect("a member's row");
        assert_eq!(row["new_messages"].as_u64(), Some((expected.len() - so_far) as u64), "{}'s count", member.login);
        batches.push(drain_group(&app, member, &group).await);
        assert_sender_order(&batches);
        assert_eq!(exactly_once(&member.login, &batches), expected, "{} got every message of the others", member.login);
    }

    // The newcomer: all sent after the join, nothing sent before it.
    let newcomer_got = exactly_once("the newcomer", &[drain_group(&app, &newcomer, &group).await]);
    for s in &sent {
        if s.began > added.1 {
            assert!(newcomer_got.contains(&s.text), "the newcomer missed {}", s.text);
        }
        if s.returned < added.0 {
            assert!(!newcomer_got.contains(&s.text), "the newcomer got {} from before the join", s.text);
        }
    }
    // The removed member: nothing sent after the removal, and nothing now.
    let leaver_got = exactly_once("the removed member", &leaver_batches[0]);
    assert_sender_order(&leaver_batches[0]);
    for text in &leaver_got {
        assert!(by_text[text.as_str()].began < removed.1, "the removed member got {text} from after the removal");
    }
    assert_eq!(group_call(&app, "/fetch_new_messages", leaver, json!({"group": group})).await.status, 404);
    assert!(leaver_got.len() < sent.len(), "the removal came before the end");
}
