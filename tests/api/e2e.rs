//! End-to-end tests over HTTP: every endpoint's success path and each of
//! its documented errors. The base URL comes from MESSENGER_API_URL, so
//! the suite runs unchanged against `cargo lambda watch` or a deployed API.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use crate::helpers::{protected_routes, texts, unique_login, TestApp};

#[tokio::test]
async fn register_validates_and_refuses_taken_logins() {
    let app = TestApp::spawn().await;
    let login = unique_login("reg");
    let reply = app.call("POST", "/register", None, Some(json!({"login": login}))).await;
    assert_eq!(reply.status, 201);
    assert_eq!(reply.body["OK"], format!("created user with login {login}"));
    assert_eq!(reply.body["login"], login);
    assert!(reply.body["token"].as_str().unwrap().len() >= 22);

    let again = app.call("POST", "/register", None, Some(json!({"login": login, "password": "whatever-1"}))).await;
    assert_eq!(again.status, 409);
    assert!(again.error().contains("taken"));

    for bad in [
        json!({"login": "ab"}),
        json!({"login": "x".repeat(129)}),
        json!({"login": "bob smith"}),
        json!({"login": 42}),
        json!({}),
        json!({"login": unique_login("r"), "passwrd": "typo-typo"}),
        json!({"login": unique_login("r"), "password": "short"}),
    ] {
        let reply = app.call("POST", "/register", None, Some(bad.clone())).await;
        assert_eq!(reply.status, 400, "{bad}: {:?}", reply.body);
        assert!(!reply.error().is_empty());
    }
    let typo = app.call("POST", "/register", None, Some(json!({"login": unique_login("r"), "passwrd": "x"}))).await;
    assert!(typo.error().contains("passwrd"), "{}", typo.error());

    let wrong_type =
        app.send_raw("POST", "/register", &[("content-type", "text/plain")], br#"{"login":"someone"}"#.to_vec()).await;
    assert_eq!(wrong_type.status, 415);
    let huge = format!(r#"{{"login":"{}"}}"#, "x".repeat(70 * 1024));
    let too_big = app.send_raw("POST", "/register", &[("content-type", "application/json")], huge.into_bytes()).await;
    assert_eq!(too_big.status, 413);
}

#[tokio::test]
async fn login_issues_tokens_and_hides_which_part_was_wrong() {
    let (app, [user]) = TestApp::with_users(["login"]).await;
    let reply = app.login(&user.login).await;
    assert_eq!(reply.status, 200);
    let token = reply.body["token"].as_str().unwrap();
    assert_ne!(token, user.token);
    assert!(reply.body["expires_at"].as_str().unwrap().ends_with('Z'));
    let with_new_token = app.call("GET", "/conversations", Some(token), None).await;
    assert_eq!(with_new_token.status, 200);

    let passwordless = unique_login("nopw");
    assert_eq!(app.call("POST", "/register", None, Some(json!({"login": passwordless}))).await.status, 201);
    let mut messages = Vec::new();
    for (login, password) in [
        (user.login.as_str(), "wrong-password"),
        ("no-such-user-anywhere", "whatever-password"),
        ("x", "whatever-password"),
        (passwordless.as_str(), "any-password"),
    ] {
        let reply = app.call("POST", "/login", None, Some(json!({"login": login, "password": password}))).await;
        assert_eq!(reply.status, 401, "{login}");
        messages.push(reply.error().to_owned());
    }
    messages.dedup();
    assert_eq!(messages.len(), 1, "one message for every wrong login or password: {messages:?}");

    let missing = app.call("POST", "/login", None, Some(json!({"login": user.login}))).await;
    assert_eq!(missing.status, 400);
}

#[tokio::test]
async fn logout_revokes_only_the_presented_token() {
    let (app, [user]) = TestApp::with_users(["logout"]).await;
    let second = app.fresh_token(&user.login).await;

    let reply = app.call("POST", "/logout", Some(&user.token), None).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(app.call("GET", "/conversations", Some(&user.token), None).await.status, 401);
    assert_eq!(app.call("POST", "/logout", Some(&user.token), None).await.status, 401);
    assert_eq!(app.call("GET", "/conversations", Some(&second), None).await.status, 200);
    assert_eq!(app.call("POST", "/logout", None, None).await.status, 401);
}

#[tokio::test]
async fn every_protected_endpoint_needs_a_valid_token() {
    let app = TestApp::spawn().await;
    for (method, path) in protected_routes() {
        let (method, path) = (method.as_str(), path.as_str());
        let none = app.call(method, path, None, Some(json!({}))).await;
        assert_eq!(none.status, 401, "{path} without token");
        let unknown = app.call(method, path, Some("not-a-token-we-issued"), Some(json!({}))).await;
        assert_eq!(unknown.status, 401, "{path} with unknown token");
        let basic = app.call_with(method, path, None, &[("authorization", "Basic YWxpY2U6cHc=")], None).await;
        assert_eq!(basic.status, 401, "{path} with basic auth");
        // Authentication comes before the body's checks.
        let bad_body = app.send_raw(method, path, &[("content-type", "application/json")], b"{oops".to_vec()).await;
        assert_eq!(bad_body.status, 401, "{path}: 401 before 400");
    }
}

#[tokio::test]
async fn send_message_checks_sender_recipient_and_text() {
    let (app, [alice, bob]) = TestApp::with_users(["send-a", "send-b"]).await;

    let timestamp = app.send_ok(&alice, &bob, "hello bob").await;
    assert_eq!(timestamp.len(), "2026-11-21T10:15:30.123456Z".len());
    let implicit = app
        .call(
            "POST",
            "/send_message",
            Some(&alice.token),
            Some(json!({"recipient": bob.login, "message": "no sender field"})),
        )
        .await;
    assert_eq!(implicit.status, 201);
    assert_eq!(implicit.body["OK"], "message sent successfully");

    let forged = app
        .call(
            "POST",
            "/send_message",
            Some(&alice.token),
            Some(json!({"sender": bob.login, "recipient": alice.login, "message": "x"})),
        )
        .await;
    assert_eq!(forged.status, 403);
    let unknown = app.send(&alice, &unique_login("ghost"), "anyone there?").await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.error().contains("not a registered user"));

    for bad in [
        json!({"recipient": bob.login, "message": ""}),
        json!({"recipient": bob.login, "message": "x".repeat(4097)}),
        json!({"recipient": bob.login, "message": "bell\u{7}"}),
        json!({"recipient": bob.login}),
        json!({"recipent": bob.login, "message": "typo"}),
        json!({"recipient": "b", "message": "short recipient"}),
        json!({"recipient": bob.login, "message": 5}),
    ] {
        let reply = app.call("POST", "/send_message", Some(&alice.token), Some(bad.clone())).await;
        assert_eq!(reply.status, 400, "{bad}: {:?}", reply.body);
    }
    // 400 comes before 403: a bad body from someone forging a sender.
    let both = app
        .call(
            "POST",
            "/send_message",
            Some(&alice.token),
            Some(json!({"sender": bob.login, "recipient": "b", "message": "x"})),
        )
        .await;
    assert_eq!(both.status, 400);

    let fetched = app.fetch(&bob, json!({})).await;
    assert_eq!(texts(&fetched), ["hello bob", "no sender field"], "rejected requests stored nothing");
}

#[tokio::test]
async fn send_message_is_idempotent_with_a_key() {
    let (app, [alice, bob]) = TestApp::with_users(["idem-a", "idem-b"]).await;
    let body = json!({"recipient": bob.login, "message": "exactly once"});
    let key = [("idempotency-key", "send-1")];
    let first = app.call_with("POST", "/send_message", Some(&alice.token), &key, Some(body.clone())).await;
    let second = app.call_with("POST", "/send_message", Some(&alice.token), &key, Some(body.clone())).await;
    assert_eq!(first.status, 201);
    assert_eq!(second.status, 201);
    assert_eq!(first.body, second.body, "the retry gets the first response");

    let other_body = json!({"recipient": bob.login, "message": "something else"});
    let conflict = app.call_with("POST", "/send_message", Some(&alice.token), &key, Some(other_body)).await;
    assert_eq!(conflict.status, 409);

    // Keys belong to one caller: bob's "send-1" is his own.
    let bobs = app
        .call_with(
            "POST",
            "/send_message",
            Some(&bob.token),
            &key,
            Some(json!({"recipient": alice.login, "message": "hi"})),
        )
        .await;
    assert_eq!(bobs.status, 201);

    let bad_key = [("idempotency-key", "k".repeat(129))];
    let bad_key: Vec<(&str, &str)> = bad_key.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let rejected = app.call_with("POST", "/send_message", Some(&alice.token), &bad_key, Some(body)).await;
    assert_eq!(rejected.status, 400);

    assert_eq!(texts(&app.fetch(&bob, json!({})).await), ["exactly once"]);
}

#[tokio::test]
async fn fetch_new_messages_returns_each_message_once_oldest_first() {
    let (app, [carol, dave, erin]) = TestApp::with_users(["new-c", "new-d", "new-e"]).await;
    for i in 0..3 {
        app.send_ok(&dave, &carol, &format!("dave {i}")).await;
        app.send_ok(&erin, &carol, &format!("erin {i}")).await;
    }

    let from_dave = app.fetch_new(&carol, json!({"sender": dave.login, "limit": 2})).await;
    assert_eq!(texts(&from_dave), ["dave 0", "dave 1"]);
    assert_eq!(from_dave["more"], true);
    let conversations = app.conversations(&carol).await;
    let rows = conversations["conversations"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["with"], erin.login.as_str(), "newest first");
    assert_eq!(rows[0]["new_messages"], 3);
    assert_eq!(rows[1]["new_messages"], 1);

    let rest = app.fetch_new(&carol, json!({})).await;
    assert_eq!(texts(&rest), ["erin 0", "erin 1", "dave 2", "erin 2"]);
    assert_eq!(rest["more"], false);
    for message in rest["messages"].as_array().unwrap() {
        assert_eq!(message["recipient"], carol.login.as_str());
        assert!(message["timestamp"].as_str().unwrap().ends_with('Z'));
    }
    assert!(texts(&app.fetch_new(&carol, json!({"recipient": carol.login})).await).is_empty());

    let forbidden =
        app.call("PUT", "/fetch_new_messages", Some(&dave.token), Some(json!({"recipient": carol.login}))).await;
    assert_eq!(forbidden.status, 403);
    for bad in [
        json!({"limit": 0}),
        json!({"limit": 1001}),
        json!({"limit": "ten"}),
        json!({"sender": "x"}),
        json!({"since": 1}),
    ] {
        let reply = app.call("PUT", "/fetch_new_messages", Some(&carol.token), Some(bad.clone())).await;
        assert_eq!(reply.status, 400, "{bad}");
    }
    // fetch_messages still shows everything, and never changes what is new.
    app.send_ok(&dave, &carol, "dave 3").await;
    assert_eq!(app.fetch(&carol, json!({})).await["messages"].as_array().unwrap().len(), 7);
    assert_eq!(texts(&app.fetch_new(&carol, json!({})).await), ["dave 3"]);
}

#[tokio::test]
async fn fetch_new_messages_merges_many_senders_in_send_order() {
    let (app, [reader]) = TestApp::with_users(["merge-r"]).await;
    let mut senders = Vec::new();
    for tag in ["a", "b", "c", "d"] {
        senders.push(app.register(&format!("merge-{tag}")).await);
    }
    // One sender far ahead, then the others interleaved, then the first
    // again: small batches must still come out in the order of sending.
    let mut order = Vec::new();
    let plan = [0, 0, 0, 0, 0, 0, 1, 2, 3, 1, 2, 3, 3, 0, 2, 0];
    for (i, from) in plan.into_iter().enumerate() {
        let text = format!("{i} from {from}");
        app.send_ok(&senders[from], &reader, &text).await;
        order.push(text);
    }
    let mut fetched = Vec::new();
    loop {
        let batch = app.fetch_new(&reader, json!({"limit": 3})).await;
        let texts = texts(&batch);
        assert!(texts.len() <= 3);
        fetched.extend(texts);
        if batch["more"] == false {
            break;
        }
        assert!(fetched.len() < order.len(), "more = true with nothing left: {fetched:?}");
    }
    assert_eq!(fetched, order);
}

#[tokio::test]
async fn fetch_new_messages_replays_a_batch_for_the_same_key() {
    let (app, [frank, gina]) = TestApp::with_users(["replay-f", "replay-g"]).await;
    app.send_ok(&gina, &frank, "one").await;
    app.send_ok(&gina, &frank, "two").await;
    let key = [("idempotency-key", "fetch-1")];
    let first = app.call_with("PUT", "/fetch_new_messages", Some(&frank.token), &key, Some(json!({}))).await;
    assert_eq!(texts(&first.body), ["one", "two"]);
    app.send_ok(&gina, &frank, "three").await;
    let retry = app.call_with("PUT", "/fetch_new_messages", Some(&frank.token), &key, Some(json!({}))).await;
    assert_eq!(retry.body, first.body, "a lost response can be fetched again");
    let other = app.call_with("PUT", "/fetch_new_messages", Some(&frank.token), &key, Some(json!({"limit": 5}))).await;
    assert_eq!(other.status, 409);
    assert_eq!(texts(&app.fetch_new(&frank, json!({})).await), ["three"]);
}

#[tokio::test]
async fn fetch_messages_slices_pages_and_recent_view() {
    let (app, [hal, ivy, jon]) = TestApp::with_users(["hist-h", "hist-i", "hist-j"]).await;
    let mut stamps = Vec::new();
    for i in 0..7 {
        let from = if i % 2 == 0 { &ivy } else { &jon };
        stamps.push(app.send_ok(from, &hal, &format!("m{i}")).await);
    }
    let all: Vec<String> = (0..7).map(|i| format!("m{i}")).collect();

    // Python slices over the time-ordered list.
    assert_eq!(texts(&app.fetch(&hal, json!({"start": -2})).await), all[5..]);
    assert_eq!(texts(&app.fetch(&hal, json!({"start": 1, "stop": 3})).await), all[1..3]);
    assert_eq!(texts(&app.fetch(&hal, json!({"start": 2, "stop": -2})).await), all[2..5]);
    assert_eq!(texts(&app.fetch(&hal, json!({"start": -3, "stop": -1})).await), all[4..6]);
    assert_eq!(texts(&app.fetch(&hal, json!({"start": 5, "stop": 2})).await), Vec::<String>::new());
    let sliced = app.fetch(&hal, json!({"stop": 2})).await;
    assert_eq!(texts(&sliced), all[..2]);
    assert_eq!(sliced["next"], Value::Null);
    assert_eq!(texts(&app.fetch(&hal, json!({"sender": ivy.login, "start": -1})).await), ["m6"]);

    // A period, paged by `next`, both ends inclusive.
    let period = json!({"period_start": stamps[1], "period_end": stamps[5], "limit": 2});
    let mut pages = Vec::new();
    let mut request = period.clone();
    loop {
        let page = app.fetch(&hal, request.clone()).await;
        pages.push(texts(&page));
        match page["next"].as_str() {
            Some(next) => request["next"] = json!(next),
            None => break,
        }
    }
    assert_eq!(pages, [vec!["m1", "m2"], vec!["m3", "m4"], vec!["m5"]]);
    let from_jon = app.fetch(&hal, json!({"sender": jon.login, "period_start": stamps[0]})).await;
    assert_eq!(texts(&from_jon), ["m1", "m3", "m5"]);
    // Offsets and fractions are normalised.
    let no_zone = stamps[3].trim_end_matches('Z');
    assert_eq!(texts(&app.fetch(&hal, json!({"period_start": no_zone, "period_end": no_zone})).await), ["m3"]);

    // The recent view: newest `limit` of the last 30 days, oldest first.
    assert_eq!(texts(&app.fetch(&hal, json!({"limit": 3})).await), all[4..]);
    assert_eq!(texts(&app.fetch(&hal, json!({})).await), all);

    // A sender sees what they sent to that recipient, and nothing else.
    assert_eq!(
        texts(&app.fetch(&ivy, json!({"recipient": hal.login, "sender": ivy.login})).await),
        ["m0", "m2", "m4", "m6"]
    );
    for forbidden in [json!({"recipient": hal.login}), json!({"recipient": hal.login, "sender": jon.login})] {
        let reply = app.call("PUT", "/fetch_messages", Some(&ivy.token), Some(forbidden)).await;
        assert_eq!(reply.status, 403);
    }
    // The request's own faults come before the right to make it.
    for bad in
        [json!({"recipient": hal.login, "next": "garbage"}), json!({"recipient": hal.login, "start": 0, "stop": 5000})]
    {
        let reply = app.call("PUT", "/fetch_messages", Some(&ivy.token), Some(bad)).await;
        assert_eq!(reply.status, 400);
    }

    for bad in [
        json!({"period_start": "yesterday"}),
        json!({"period_start": stamps[5], "period_end": stamps[1]}),
        json!({"start": 0, "stop": 1001}),
        json!({"start": -1001}),
        json!({"start": 1, "next": "abc"}),
        json!({"start": 1, "limit": 5}),
        json!({"period_start": stamps[0], "next": "not-a-token"}),
        json!({"limit": 0}),
        json!({"start": "1"}),
        json!({"recipient": "no"}),
    ] {
        let reply = app.call("PUT", "/fetch_messages", Some(&hal.token), Some(bad.clone())).await;
        assert_eq!(reply.status, 400, "{bad}: {:?}", reply.body);
    }
    // A token from one query does not page another.
    let first = app.fetch(&hal, period).await;
    let foreign = json!({"period_start": stamps[0], "limit": 2, "next": first["next"]});
    assert_eq!(app.call("PUT", "/fetch_messages", Some(&hal.token), Some(foreign)).await.status, 400);
}

/// A `next` token with its `after` rewritten, as any client can do: the
/// token is readable JSON in base64.
fn rewrite_after(next: &str, after: &str) -> String {
    let mut token: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(next).expect("base64")).expect("JSON");
    token["after"] = json!(after);
    URL_SAFE_NO_PAD.encode(token.to_string())
}

#[tokio::test]
async fn fetch_messages_next_cannot_be_forged_outside_its_query() {
    let (app, [pia, quin]) = TestApp::with_users(["forge-p", "forge-q"]).await;
    let stamps = app.send_all(&quin, &pia, (0..4).map(|i| format!("f{i}"))).await;
    let period = json!({"period_start": stamps[2], "limit": 1});
    let first = app.fetch(&pia, period.clone()).await;
    assert_eq!(texts(&first), ["f2"]);
    let next = first["next"].as_str().expect("a next page");
    let paging = |next: String, limit: i64| {
        let mut request = period.clone();
        request["next"] = json!(next);
        request["limit"] = json!(limit);
        request
    };

    for (forged, why) in [
        // Year 10000 would sort before every real timestamp.
        (paging(rewrite_after(next, "9999-12-31T23:59:59.999999Z"), 1), "after the latest instant"),
        (paging(rewrite_after(next, "+10000-01-01T00:00:00.000000Z"), 1), "after the year 9999"),
        (paging(rewrite_after(next, &stamps[0]), 1), "before period_start"),
        (paging(next.to_owned(), 3), "with another limit"),
    ] {
        let reply = app.call("PUT", "/fetch_messages", Some(&pia.token), Some(forged)).await;
        assert_eq!(reply.status, 400, "a token {why}: {:?}", reply.body);
    }
    assert_eq!(texts(&app.fetch(&pia, paging(next.to_owned(), 1)).await), ["f3"], "the genuine token pages on");
}

#[tokio::test]
async fn timestamps_past_the_year_9999_are_refused_everywhere() {
    let (app, [rae]) = TestApp::with_users(["y10k-r"]).await;
    let me = rae.login.as_str();
    for late in ["+10000-01-01T00:00:00Z", "10000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999-00:01"] {
        for (method, path, body) in [
            ("PUT", "/fetch_messages", json!({"period_start": late})),
            ("PUT", "/fetch_messages", json!({"period_end": late})),
            ("DELETE", "/delete_message", json!({"sender": me, "recipient": me, "timestamp": late})),
            ("DELETE", "/delete_messages", json!({"sender": me, "recipient": me, "timestamps": [late]})),
        ] {
            let reply = app.call(method, path, Some(&rae.token), Some(body.clone())).await;
            assert_eq!(reply.status, 400, "{path} {body}: {:?}", reply.body);
            assert!(reply.error().contains("9999-12-31T23:59:59.999999Z"), "{path} {body}: {:?}", reply.body);
        }
    }
}

#[tokio::test]
async fn delete_message_by_either_party_and_only_by_them() {
    let (app, [kim, lee, mia]) = TestApp::with_users(["del-k", "del-l", "del-m"]).await;
    let first = app.send_ok(&kim, &lee, "first").await;
    let second = app.send_ok(&kim, &lee, "second").await;
    let third = app.send_ok(&kim, &lee, "third").await;
    let from_mia = app.send_ok(&mia, &lee, "from mia").await;

    let delete = |token: &str, sender: &str, timestamp: &str| {
        let body = json!({"sender": sender, "recipient": lee.login, "timestamp": timestamp});
        let app = app.clone();
        let token = token.to_owned();
        async move { app.call("DELETE", "/delete_message", Some(&token), Some(body)).await }
    };
    let outsider = delete(&mia.token, &kim.login, &first).await;
    assert_eq!(outsider.status, 403);
    let by_recipient = delete(&lee.token, &kim.login, &first).await;
    assert_eq!(by_recipient.status, 201);
    assert_eq!(by_recipient.body, json!({"OK": "message deleted"}));
    assert_eq!(delete(&lee.token, &kim.login, &first).await.status, 404);
    assert_eq!(delete(&kim.token, &kim.login, &second).await.status, 201, "the sender may delete");
    // Kim names herself as sender of mia's message: no such message.
    assert_eq!(delete(&kim.token, &kim.login, &from_mia).await.status, 404);
    assert_eq!(delete(&lee.token, &kim.login, "not a time").await.status, 400);

    assert_eq!(texts(&app.fetch(&lee, json!({})).await), ["third", "from mia"]);
    assert_eq!(texts(&app.fetch_new(&lee, json!({})).await), ["third", "from mia"]);
    assert_eq!(delete(&lee.token, &kim.login, &third).await.status, 201, "fetched messages can be deleted");
    let rows = app.conversations(&lee).await;
    let with: Vec<&str> =
        rows["conversations"].as_array().unwrap().iter().map(|r| r["with"].as_str().unwrap()).collect();
    assert_eq!(with, [mia.login.as_str(), kim.login.as_str()], "rows stay when messages go");
}

#[tokio::test]
async fn delete_messages_reports_what_it_did_not_find() {
    let (app, [nia, oz]) = TestApp::with_users(["dels-n", "dels-o"]).await;
    let stamps = app.send_all(&oz, &nia, (0..4).map(|i| format!("m{i}"))).await;
    let absent = "2001-01-01T00:00:00+02:00";
    let body =
        json!({"sender": oz.login, "recipient": nia.login, "timestamps": [stamps[0], stamps[2], stamps[0], absent]});
    let reply = app.call("DELETE", "/delete_messages", Some(&nia.token), Some(body)).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    assert_eq!(reply.body, json!({"OK": "messages deleted", "deleted": 2, "not_found": [absent]}));
    assert_eq!(texts(&app.fetch_new(&nia, json!({})).await), ["m1", "m3"]);

    let outsider = app.register("dels-x").await;
    let body = json!({"sender": oz.login, "recipient": nia.login, "timestamps": [stamps[1]]});
    assert_eq!(app.call("DELETE", "/delete_messages", Some(&outsider.token), Some(body)).await.status, 403);
    let too_many: Vec<String> = (0..101).map(|i| format!("2020-01-01T00:00:{:02}Z", i % 60)).collect();
    for bad in [
        json!({"sender": oz.login, "recipient": nia.login, "timestamps": []}),
        json!({"sender": oz.login, "recipient": nia.login, "timestamps": too_many}),
        json!({"sender": oz.login, "recipient": nia.login, "timestamps": ["soon"]}),
        json!({"sender": oz.login, "recipient": nia.login, "timestamp": stamps[1]}),
    ] {
        let reply = app.call("DELETE", "/delete_messages", Some(&nia.token), Some(bad.clone())).await;
        assert_eq!(reply.status, 400, "{bad}");
    }
    assert_eq!(texts(&app.fetch(&nia, json!({})).await), ["m1", "m3"], "rejected deletes changed nothing");
}

#[tokio::test]
async fn conversations_lists_senders_newest_first_with_new_counts() {
    let (app, [pat, quin, rae]) = TestApp::with_users(["conv-p", "conv-q", "conv-r"]).await;
    let empty = app.call("GET", "/conversations", Some(&pat.token), None).await;
    assert_eq!(empty.body, json!({"conversations": []}));
    app.send_ok(&quin, &pat, "q1").await;
    app.send_ok(&rae, &pat, "r1").await;
    let last = app.send_ok(&quin, &pat, "q2").await;
    let rows = app.conversations(&pat).await;
    assert_eq!(rows["conversations"][0], json!({"with": quin.login, "last_message_at": last, "new_messages": 2}));
    assert_eq!(rows["conversations"][1]["with"], rae.login.as_str());
    assert_eq!(rows["conversations"][1]["new_messages"], 1);
    app.fetch_new(&pat, json!({"sender": rae.login})).await;
    let rows = app.conversations(&pat).await;
    assert_eq!(rows["conversations"][1]["new_messages"], 0);
    let bad = app.call("GET", "/conversations", Some(&pat.token), Some(json!({"with": "x"}))).await;
    assert_eq!(bad.status, 400);
}
