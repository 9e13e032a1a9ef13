//! Push over real sockets (PRODUCT.md section 6): tickets, frames, fan-out
//! to every connection of the recipient and no one else, the notifier's
//! clean-up of vanished connections, catch-up after being offline, and a
//! poison stream record. The sockets go through the dev bridge, which
//! invokes the real functions through `cargo lambda watch` and feeds them
//! DynamoDB Local's stream.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use messenger_tools::stack::{app_at, stack_table};
use serde_json::json;
use shared::auth::token_hash;
use shared::model::{Identifier, Timestamp};

use crate::helpers::{connect, open, texts, ticket, TestApp, User, PUSH_WITHIN};

fn identifier(user: &User) -> Identifier {
    Identifier::parse("login", &user.login).unwrap()
}

/// The frame `message` of `sender` to `recipient` at `timestamp` makes.
fn message_frame(sender: &User, recipient: &User, timestamp: &str, message: &str) -> serde_json::Value {
    json!({"type": "message", "message": {
        "sender": sender.login, "recipient": recipient.login, "timestamp": timestamp, "message": message,
    }})
}

#[tokio::test]
async fn a_message_is_pushed_with_its_fields_and_stays_new() {
    let (app, [kim, lou]) = TestApp::with_users(["push-k", "push-l"]).await;
    let mut socket = connect(&app, &kim).await;
    let timestamp = app.send_ok(&lou, &kim, "are you there?").await;
    assert_eq!(socket.frame(PUSH_WITHIN).await, message_frame(&lou, &kim, &timestamp, "are you there?"));

    socket.send(r#"{"type": "ping"}"#).await;
    assert_eq!(socket.frame(PUSH_WITHIN).await, json!({"type": "pong"}));
    socket.send("hello?").await;
    let error = socket.frame(PUSH_WITHIN).await;
    assert_eq!(error["type"], "error", "{error}");

    // A push is a notification, not the record: the message is still new.
    let batch = app.fetch_new(&kim, json!({})).await;
    assert_eq!(texts(&batch), ["are you there?"]);
    socket.close().await;
}

#[tokio::test]
async fn a_ticket_opens_one_socket_within_its_minute() {
    let (app, [kim]) = TestApp::with_users(["ticket-k"]).await;
    let fresh = ticket(&app, &kim).await;
    let socket = open(Some(&fresh)).await.expect("a fresh ticket opens a socket");
    assert_eq!(open(Some(&fresh)).await.err(), Some(401), "a used ticket");
    assert_eq!(open(Some(&"x".repeat(43))).await.err(), Some(401), "a made-up ticket");
    assert_eq!(open(None).await.err(), Some(401), "no ticket");

    let expired = "an-expired-ticket-for-the-realtime-suite-000";
    let stack = app_at(None, &stack_table()).await;
    stack.store.put_ticket(&token_hash(expired), &identifier(&kim), Timestamp::now().plus_seconds(-1)).await.unwrap();
    assert_eq!(open(Some(expired)).await.err(), Some(401), "an expired ticket");
    socket.close().await;
}

#[tokio::test]
async fn every_socket_of_the_recipient_receives_and_no_one_else() {
    let (app, [kim, lou, mo]) = TestApp::with_users(["fan-k", "fan-l", "fan-m"]).await;
    let (mut phone, mut laptop, mut other) =
        (connect(&app, &kim).await, connect(&app, &kim).await, connect(&app, &lou).await);
    let timestamp = app.send_ok(&mo, &kim, "for kim").await;
    let expected = message_frame(&mo, &kim, &timestamp, "for kim");
    assert_eq!(phone.frame(PUSH_WITHIN).await, expected);
    assert_eq!(laptop.frame(PUSH_WITHIN).await, expected);
    // Sent after kim's: if lou had been given kim's message, it would come first.
    let timestamp = app.send_ok(&mo, &lou, "for lou").await;
    assert_eq!(other.frame(PUSH_WITHIN).await, message_frame(&mo, &lou, &timestamp, "for lou"));
    for socket in [phone, laptop, other] {
        socket.close().await;
    }
}

#[tokio::test]
async fn a_connection_that_vanished_is_forgotten_when_a_push_finds_it_gone() {
    let (app, [kim, lou]) = TestApp::with_users(["gone-k", "gone-l"]).await;
    let stack = app_at(None, &stack_table()).await;
    // As API Gateway leaves a client that vanished without a $disconnect:
    // recorded, but no longer there.
    stack.store.add_connection(&identifier(&kim), "vanished-connection=").await.unwrap();
    let mut socket = connect(&app, &kim).await;
    assert_eq!(stack.store.connections(&identifier(&kim)).await.unwrap().len(), 2);

    let timestamp = app.send_ok(&lou, &kim, "anyone?").await;
    assert_eq!(socket.frame(PUSH_WITHIN).await, message_frame(&lou, &kim, &timestamp, "anyone?"));
    // The notifier forgets the gone connection after posting the frame.
    let mut checks = 0;
    let live = loop {
        let live = stack.store.connections(&identifier(&kim)).await.unwrap();
        checks += 1;
        if live.len() == 1 || checks == 50 {
            break live;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(live.len(), 1, "the vanished connection is forgotten: {live:?}");
    assert_ne!(live[0], "vanished-connection=");
    socket.close().await;
    // Closing runs $disconnect, which forgets the other one.
    let mut checks = 0;
    while !stack.store.connections(&identifier(&kim)).await.unwrap().is_empty() {
        checks += 1;
        assert!(checks < 50, "$disconnect forgets a closed socket's connection");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn messages_sent_while_offline_arrive_through_fetch_new_messages() {
    let (app, [kim, lou]) = TestApp::with_users(["offline-k", "offline-l"]).await;
    for text in ["one", "two", "three"] {
        app.send_ok(&lou, &kim, text).await;
    }
    let mut socket = connect(&app, &kim).await;
    let timestamp = app.send_ok(&lou, &kim, "four").await;
    // The stream may still be carrying the earlier ones when the socket
    // opens, and push them too: a client dedups, it never relies on that.
    loop {
        let frame = socket.frame(PUSH_WITHIN).await;
        if frame == message_frame(&lou, &kim, &timestamp, "four") {
            break;
        }
        let text = frame["message"]["message"].as_str().unwrap_or_default();
        assert!(["one", "two", "three"].contains(&text), "{frame}");
    }
    let batch = app.fetch_new(&kim, json!({})).await;
    assert_eq!(texts(&batch), ["one", "two", "three", "four"]);
    socket.close().await;
}

#[tokio::test]
async fn a_poison_record_does_not_hold_up_the_records_behind_it() {
    let (app, [kim, lou, pat]) = TestApp::with_users(["poison-k", "poison-l", "poison-p"]).await;
    let mut socket = connect(&app, &kim).await;
    // A message item that is not a message (no sender, a number for a
    // text), in another user's mailbox: the stream's filter admits it.
    let stack = app_at(None, &stack_table()).await;
    stack
        .store
        .client()
        .put_item()
        .table_name(stack.store.table())
        .item("pk", AttributeValue::S(format!("USER#{}", pat.login)))
        .item("sk", AttributeValue::S(format!("MSG#{}", Timestamp::now())))
        .item("recipient", AttributeValue::S(kim.login.clone()))
        .item("message", AttributeValue::N("7".into()))
        .send()
        .await
        .unwrap();
    let timestamp = app.send_ok(&lou, &kim, "after the poison").await;
    assert_eq!(socket.frame(PUSH_WITHIN).await, message_frame(&lou, &kim, &timestamp, "after the poison"));
    socket.close().await;
}
