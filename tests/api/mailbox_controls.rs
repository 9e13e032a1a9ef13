//! Mailbox controls (PRODUCT.md section 7): delete_conversation in bounded
//! calls under a concurrent sender and fetcher, and blocking.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use futures::future::join;
use messenger_tools::stack::{app_at, stack_table};
use serde_json::{json, Value};
use shared::model::{Identifier, Message, Timestamp};
use shared::store::{MailboxRange, Store};
use shared::App;

use crate::helpers::{assert_mailbox_consistent, texts, TestApp, User};

fn id(user: &User) -> Identifier {
    Identifier::parse("login", &user.login).unwrap()
}

/// Every message `sender` has in `recipient`'s mailbox, oldest first.
async fn messages_between(store: &Store, recipient: &User, sender: &User) -> Vec<Message> {
    let (recipient, sender) = (id(recipient), id(sender));
    let range = MailboxRange { recipient: &recipient, group: None, sender: Some(&sender), from: None, to: None };
    store.read_mailbox(range, false, usize::MAX, usize::MAX).await.unwrap()
}

/// `count` messages from `sender` to `recipient`, stored directly (over
/// HTTP they would take minutes), a second apart from `first`.
async fn import(stack: &App, sender: &User, recipient: &User, first: Timestamp, count: i64) {
    for i in 0..count {
        let at = first.plus_seconds(i);
        stack.store.import_message(&id(sender), &id(recipient), &format!("old {i}"), at).await.unwrap();
    }
}

fn listed(rows: &Value, who: &User) -> bool {
    rows["conversations"].as_array().unwrap().iter().any(|row| row["with"] == who.login)
}

#[tokio::test]
async fn deleting_a_conversation_of_2500_messages_in_calls_of_1000_under_a_concurrent_sender() {
    let (app, [ada, ben]) = TestApp::with_users(["conv-ada", "conv-ben"]).await;
    let stack = app_at(None, &stack_table()).await;
    let start = Timestamp::parse("t", "2025-01-01T00:00:00Z").unwrap();
    join(import(&stack, &ben, &ada, start, 1300), import(&stack, &ada, &ben, start, 1200)).await;
    // Some of ben's messages are read, some still new: counters must follow.
    assert_eq!(app.fetch_new(&ada, json!({"limit": 300})).await["messages"].as_array().unwrap().len(), 300);

    let sending_done = AtomicBool::new(false);
    // Each concurrent send's text, when it was sent and when it returned.
    let sends = Mutex::new(Vec::<(String, Instant, Instant)>::new());
    let sending = async {
        for i in 0.. {
            if sending_done.load(Ordering::SeqCst) {
                break;
            }
            let text = format!("live {i}");
            let began = Instant::now();
            app.send_ok(&ben, &ada, &text).await;
            sends.lock().unwrap().push((text, began, Instant::now()));
        }
    };
    let fetching = async {
        let mut fetched = 0;
        while !sending_done.load(Ordering::SeqCst) {
            fetched += texts(&app.fetch_new(&ada, json!({"limit": 7})).await).len();
        }
        fetched
    };
    let deleting = async {
        let mut calls = Vec::new();
        loop {
            let began = Instant::now();
            let reply = app.call("DELETE", "/delete_conversation", Some(&ada.token), Some(json!({"with": ben.login})));
            let reply = reply.await;
            assert_eq!(reply.status, 200, "{:?}", reply.body);
            let deleted = reply.body["deleted"].as_u64().unwrap();
            assert!(deleted <= 1000, "one call deletes at most 1000: {deleted}");
            calls.push((began, deleted));
            if reply.body["more"] == false {
                sending_done.store(true, Ordering::SeqCst);
                return calls;
            }
        }
    };
    let ((calls, fetched), ()) = join(join(deleting, fetching), sending).await;
    // A counter that went wrong under the concurrent send and fetches stays
    // wrong: checked once they have stopped (a check while they run would
    // read the counter and the messages at different moments).
    assert_mailbox_consistent(&stack.store, &id(&ada)).await;
    assert_mailbox_consistent(&stack.store, &id(&ben)).await;
    let total: u64 = calls.iter().map(|(_, deleted)| deleted).sum();
    assert!(calls.len() >= 3, "2,500 messages take at least three calls: {calls:?}");
    assert!(total >= 2500, "every stored message was deleted, and some sent meanwhile: {total}");

    // What is left was sent by a request that had not returned when the
    // last call began; all else is gone.
    let last_began = calls.last().unwrap().0;
    let left: Vec<String> = messages_between(&stack.store, &ada, &ben).await.into_iter().map(|m| m.message).collect();
    let sends = sends.into_inner().unwrap();
    for text in &left {
        let (_, _, returned) = sends.iter().find(|(sent, ..)| sent == text).unwrap_or_else(|| panic!("{text} left"));
        assert!(*returned > last_began, "{text} returned before the last call began and was not deleted");
    }
    assert!(messages_between(&stack.store, &ben, &ada).await.is_empty(), "ada's messages to ben are gone");
    eprintln!(
        "{} calls deleted {total}; {} live sends, {fetched} fetched meanwhile, {} left",
        calls.len(),
        sends.len(),
        left.len()
    );
    if !left.is_empty() {
        assert!(listed(&app.conversations(&ada).await, &ben), "a message newer than the deletion shows the row");
    }

    // A call with nothing sent meanwhile clears the rest and the row; the
    // next message brings the row back, counted exactly.
    let last = app.call("DELETE", "/delete_conversation", Some(&ada.token), Some(json!({"with": ben.login}))).await;
    assert_eq!(last.body, json!({"deleted": left.len(), "more": false}));
    assert!(messages_between(&stack.store, &ada, &ben).await.is_empty());
    assert!(!listed(&app.conversations(&ada).await, &ben), "the row is cleared");
    assert!(listed(&app.conversations(&ben).await, &ada), "ben's own row of ada stays");
    app.send_ok(&ben, &ada, "after").await;
    let rows = app.conversations(&ada).await;
    let row = rows["conversations"].as_array().unwrap().iter().find(|row| row["with"] == ben.login).cloned();
    assert_eq!(row.expect("the row is back")["new_messages"], 1);
    assert_mailbox_consistent(&stack.store, &id(&ada)).await;
}

#[tokio::test]
async fn a_blocked_sender_gets_403_and_stores_nothing_until_unblocked() {
    let (app, [cy, dee, eli]) = TestApp::with_users(["block-cy", "block-dee", "block-eli"]).await;
    app.send_ok(&dee, &cy, "before").await;

    let block = |login: &str| app.call("POST", "/block", Some(&cy.token), Some(json!({"login": login})));
    assert_eq!(block(&dee.login).await.body, json!({"OK": format!("{} is blocked", dee.login), "login": dee.login}));
    let refused = app.send(&dee, &cy.login, "after the block").await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.error(), format!("{} does not accept messages from you", cy.login));
    app.send_ok(&eli, &cy, "from eli").await;
    app.send_ok(&cy, &dee, "cy may still write to dee").await;
    assert_eq!(texts(&app.fetch_new(&cy, json!({})).await), ["before", "from eli"]);

    // Blocking again keeps the first time; blocking someone who never
    // wrote refuses their first message.
    let first_listed = app.call("GET", "/blocked", Some(&cy.token), None).await.body;
    assert_eq!(block(&dee.login).await.status, 200);
    assert_eq!(block(&eli.login).await.status, 200);
    let stranger = app.register("block-stranger").await;
    assert_eq!(block(&stranger.login).await.status, 200);
    assert_eq!(app.send(&stranger, &cy.login, "hello?").await.status, 403);
    let now_listed = app.call("GET", "/blocked", Some(&cy.token), None).await.body;
    let logins: Vec<&Value> = now_listed["blocked"].as_array().unwrap().iter().map(|b| &b["login"]).collect();
    let mut expected = [&dee.login, &eli.login, &stranger.login];
    expected.sort();
    assert_eq!(logins, expected, "in login order");
    assert_eq!(now_listed["blocked"][0], first_listed["blocked"][0], "blocking again keeps blocked_at");
    assert!(!app.conversations(&cy).await.to_string().contains(&stranger.login), "a block is no conversation");

    let unblock = |login: &str| app.call("POST", "/unblock", Some(&cy.token), Some(json!({"login": login})));
    for user in [&dee, &stranger] {
        assert_eq!(unblock(&user.login).await.status, 200);
        app.send_ok(user, &cy, &format!("{} again", user.login)).await;
    }
    assert_eq!(unblock(&dee.login).await.status, 200, "unblocking again changes nothing");
    let rest = app.call("GET", "/blocked", Some(&cy.token), None).await.body;
    assert_eq!(rest["blocked"].as_array().unwrap().len(), 1);
    assert_eq!(rest["blocked"][0]["login"], eli.login);
    let fetched = texts(&app.fetch_new(&cy, json!({})).await);
    assert_eq!(fetched, [format!("{} again", dee.login), format!("{} again", stranger.login)]);
    let stack = app_at(None, &stack_table()).await;
    assert_mailbox_consistent(&stack.store, &id(&cy)).await;
}

#[tokio::test]
async fn a_block_racing_a_senders_burst_refuses_every_send_after_it() {
    let (app, [fay, gus]) = TestApp::with_users(["blockrace-f", "blockrace-g"]).await;
    let outcomes = Mutex::new(Vec::<(Instant, u16, String)>::new());
    let sending = async {
        for i in 0..40 {
            let began = Instant::now();
            let reply = app.send(&gus, &fay.login, &format!("burst {i}")).await;
            assert!(reply.status == 201 || reply.status == 403, "{}: {:?}", reply.status, reply.body);
            outcomes.lock().unwrap().push((began, reply.status, format!("burst {i}")));
        }
    };
    let blocking = async {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        let reply = app.call("POST", "/block", Some(&fay.token), Some(json!({"login": gus.login}))).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        Instant::now()
    };
    let ((), blocked_at) = join(sending, blocking).await;
    let outcomes = outcomes.into_inner().unwrap();
    let accepted: Vec<&String> = outcomes.iter().filter(|(_, status, _)| *status == 201).map(|(.., t)| t).collect();
    for (began, status, text) in &outcomes {
        if *began > blocked_at {
            assert_eq!(*status, 403, "{text} began after the block returned");
        }
    }
    assert!(outcomes.iter().any(|(_, status, _)| *status == 403), "the block took effect during the burst");
    let fetched = texts(&app.fetch_new(&fay, json!({"limit": 100})).await);
    assert_eq!(fetched.iter().collect::<Vec<_>>(), accepted, "exactly the accepted sends are stored");
    let stack = app_at(None, &stack_table()).await;
    assert_mailbox_consistent(&stack.store, &id(&fay)).await;
}
