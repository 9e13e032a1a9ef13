//! fetch_messages' `read` filter (PRODUCT.md section 7): `"read": false`
//! holds only the unread messages and `"read": true` only the read ones,
//! in every view, for the recipient and for the sender, changing nothing.

use serde_json::{json, Value};

use crate::helpers::{texts, TestApp, User};

/// One message of the mailbox under test.
struct Sent {
    text: String,
    sender: String,
    timestamp: String,
    read: bool,
}

/// A recipient's mailbox from two senders, written in turns (`a1`, `b1`,
/// `a2`, ... `b5`), some fetched by fetch_new_messages (`a1`, `b1`, `a2`),
/// some covered by mark_read (`a3`, `a4`) and the rest still new.
struct Mailbox {
    app: TestApp,
    recipient: User,
    senders: [User; 2],
    /// Every message, oldest first.
    sent: Vec<Sent>,
}

const UNREAD: [&str; 5] = ["b2", "b3", "b4", "a5", "b5"];

async fn mailbox(prefixes: [&str; 3]) -> Mailbox {
    let (app, [recipient, a, b]) = TestApp::with_users(prefixes).await;
    let mut sent = Vec::new();
    for i in 1..=5 {
        for (name, sender) in [("a", &a), ("b", &b)] {
            let text = format!("{name}{i}");
            let timestamp = app.send_ok(sender, &recipient, &text).await;
            let read = !UNREAD.contains(&text.as_str());
            sent.push(Sent { text, sender: sender.login.clone(), timestamp, read });
        }
    }
    assert_eq!(texts(&app.fetch_new(&recipient, json!({"limit": 3})).await), ["a1", "b1", "a2"]);
    assert_eq!(app.mark_read(&recipient, &a, &sent[6].timestamp).await, 2, "a3 and a4");
    Mailbox { app, recipient, senders: [a, b], sent }
}

/// `base` with the fields of `more` added.
fn with(base: &Value, more: Value) -> Value {
    let mut body = base.clone();
    body.as_object_mut().expect("object").extend(more.as_object().expect("object").clone());
    body
}

/// Python's `items[start:stop]`.
fn python_slice(items: &[String], start: i64, stop: Option<i64>) -> Vec<String> {
    let len = i64::try_from(items.len()).expect("a short list");
    let resolve = |index: i64| {
        let resolved = if index < 0 { (len + index).max(0) } else { index.min(len) };
        usize::try_from(resolved).expect("resolved within the list")
    };
    let (from, to) = (resolve(start), stop.map_or(items.len(), resolve));
    items.get(from..to.max(from)).unwrap_or(&[]).to_vec()
}

impl Mailbox {
    /// The texts of a fetch_messages reply, whose every flag must be `read`.
    async fn fetch(&self, caller: &User, body: Value, read: bool) -> (Vec<String>, Value) {
        let reply = self.app.fetch(caller, body.clone()).await;
        for message in reply["messages"].as_array().expect("messages") {
            assert_eq!(message["read"], read, "{body}: {message}");
        }
        (texts(&reply), reply["next"].clone())
    }

    /// Every page of a period, followed through `next`.
    async fn pages(&self, caller: &User, body: Value, read: bool) -> Vec<String> {
        let (mut all, mut next) = self.fetch(caller, body.clone(), read).await;
        let mut pages = 1;
        while !next.is_null() {
            let page;
            (page, next) = self.fetch(caller, with(&body, json!({"next": next})), read).await;
            all.extend(page);
            pages += 1;
        }
        assert!(pages > 1 || all.len() <= 2, "{body}: {all:?} in one page of 2");
        all
    }

    /// The texts of the messages with flag `read` (from `sender`, if given)
    /// among `self.sent[window]`, oldest first.
    fn expected(&self, read: bool, sender: Option<&User>, window: std::ops::RangeInclusive<usize>) -> Vec<String> {
        let in_scope = |m: &&Sent| m.read == read && sender.is_none_or(|s| s.login == m.sender);
        self.sent[window].iter().filter(in_scope).map(|m| m.text.clone()).collect()
    }

    /// Every view, with either filter, of the messages `caller` reads with
    /// `scope` (recipient and sender fields).
    async fn check_every_view(&self, caller: &User, scope: Value, sender: Option<&User>) {
        let last = self.sent.len() - 1;
        for read in [false, true] {
            let body = |view: Value| with(&with(&scope, view), json!({"read": read}));
            let all = self.expected(read, sender, 0..=last);
            assert!(!all.is_empty(), "{scope}: no message with read {read}");
            let case = format!("{scope} read {read}");

            assert_eq!(self.fetch(caller, body(json!({})), read).await.0, all, "recent, {case}");
            let newest = python_slice(&all, -2, None);
            assert_eq!(self.fetch(caller, body(json!({"limit": 2})), read).await.0, newest, "recent 2, {case}");

            let period = json!({"period_start": self.sent[0].timestamp, "limit": 2});
            assert_eq!(self.pages(caller, body(period), read).await, all, "period pages, {case}");
            let inner =
                json!({"period_start": self.sent[1].timestamp, "period_end": self.sent[8].timestamp, "limit": 2});
            let inner_expected = self.expected(read, sender, 1..=8);
            assert_eq!(self.pages(caller, body(inner), read).await, inner_expected, "inner period, {case}");

            for (start, stop) in [(1, Some(3)), (0, Some(2)), (-2, None), (-3, Some(-1)), (1, Some(-1)), (-2, Some(9))]
            {
                let view = json!({"start": start, "stop": stop});
                let sliced = self.fetch(caller, body(view.clone()), read).await.0;
                assert_eq!(sliced, python_slice(&all, start, stop), "slice {view}, {case}");
            }
            let window =
                json!({"start": -2, "period_start": self.sent[1].timestamp, "period_end": self.sent[8].timestamp});
            let sliced = self.fetch(caller, body(window), read).await.0;
            assert_eq!(sliced, python_slice(&inner_expected, -2, None), "slice of a period, {case}");
        }
    }
}

#[tokio::test]
async fn read_and_unread_filters_hold_in_every_view_of_the_mailbox() {
    let mailbox = mailbox(["rf-view-r", "rf-view-a", "rf-view-b"]).await;
    let [a, b] = &mailbox.senders;
    let recipient = &mailbox.recipient;
    mailbox.check_every_view(recipient, json!({}), None).await;
    mailbox.check_every_view(recipient, json!({"sender": a.login}), Some(a)).await;
    mailbox.check_every_view(recipient, json!({"recipient": recipient.login, "sender": b.login}), Some(b)).await;

    // None of it changed what is new.
    let rest = mailbox.app.fetch_new(recipient, json!({})).await;
    assert_eq!(texts(&rest), UNREAD);
}

#[tokio::test]
async fn the_sender_sees_what_they_sent_filtered_by_the_recipients_read_state() {
    let mailbox = mailbox(["rf-sent-r", "rf-sent-a", "rf-sent-b"]).await;
    let [a, b] = &mailbox.senders;
    for sender in [a, b] {
        let scope = json!({"recipient": mailbox.recipient.login, "sender": sender.login});
        mailbox.check_every_view(sender, scope, Some(sender)).await;
    }
    let rest = mailbox.app.fetch_new(&mailbox.recipient, json!({})).await;
    assert_eq!(texts(&rest), UNREAD);
}

#[tokio::test]
async fn a_next_token_pages_only_its_own_filter_and_read_is_a_boolean() {
    let (app, [kim, lou]) = TestApp::with_users(["rf-token-k", "rf-token-l"]).await;
    let stamps = app.send_all(&lou, &kim, (1..=3).map(|i| format!("m{i}"))).await;
    let unread = json!({"period_start": stamps[0], "limit": 1, "read": false});
    let first = app.fetch(&kim, unread.clone()).await;
    assert_eq!(texts(&first), ["m1"]);
    let next = first["next"].as_str().expect("a next page");
    for read in [json!(true), Value::Null] {
        let body = with(&unread, json!({"read": read, "next": next}));
        let reply = app.call("PUT", "/fetch_messages", Some(&kim.token), Some(body)).await;
        assert_eq!(reply.status, 400, "read {read}: {:?}", reply.body);
        assert!(reply.error().contains("next"), "{}", reply.error());
    }
    let second = app.fetch(&kim, with(&unread, json!({"next": next}))).await;
    assert_eq!(texts(&second), ["m2"]);

    for read in [json!("no"), json!(0), json!(["false"])] {
        let reply = app.call("PUT", "/fetch_messages", Some(&kim.token), Some(json!({"read": read}))).await;
        assert_eq!(reply.status, 400, "read {read}: {:?}", reply.body);
        assert!(reply.error().contains("expected a boolean"), "{}", reply.error());
    }
    // A filtered slice reads what it skips, so it may not reach far.
    for slice in
        [json!({"start": -1, "stop": i64::MAX}), json!({"start": 2001}), json!({"start": -2001, "stop": -1995})]
    {
        let reply =
            app.call("PUT", "/fetch_messages", Some(&kim.token), Some(with(&slice, json!({"read": true})))).await;
        assert_eq!(reply.status, 400, "{slice}: {:?}", reply.body);
        assert!(reply.error().contains("within ±2000"), "{}", reply.error());
        let unfiltered = app.call("PUT", "/fetch_messages", Some(&kim.token), Some(slice.clone())).await;
        assert_eq!(unfiltered.status, 200, "{slice} without read: {:?}", unfiltered.body);
    }
}
