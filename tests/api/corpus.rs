//! A corpus of bad requests over HTTP: broken JSON, wrong types, missing
//! and unknown fields, out-of-range numbers, bad timestamps, odd
//! identifiers and group ids, control characters, huge and deeply nested
//! bodies, wrong content types, groups one is not in or does not
//! administer. Each must get a 4xx JSON error a developer can act on,
//! never a 5xx, and the table must be exactly as before.

use std::time::Duration;

use messenger_tools::stack::stack_table;
use serde_json::{json, Value};

use crate::helpers::{routes, table_snapshot, TestApp, User};

/// One bad request: method, path, headers beyond the token, raw body.
struct Case {
    method: String,
    path: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    headers: Vec<(&'static str, String)>,
}

fn json_case(method: &str, path: &str, body: Value) -> Case {
    raw_case(method, path, Some("application/json"), body.to_string().as_bytes())
}

fn raw_case(method: &str, path: &str, content_type: Option<&'static str>, body: &[u8]) -> Case {
    Case { method: method.into(), path: path.into(), content_type, body: body.to_vec(), headers: vec![] }
}

const BAD_IDENTIFIERS: [&str; 9] =
    ["ab", "", "has space", "tab\there", "nul\u{0}byte", "ålice", "<script>", "a#b", "../../etc/passwd"];

const BAD_TIMESTAMPS: [&str; 10] = [
    "yesterday",
    "",
    "2026-13-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-11-21T25:00:00Z",
    "2026-11-21",
    "10000-01-01T00:00:00Z",
    "1637029963",
    "2026-11-21T10:15:30+25:00",
    "2026-11-21T10:15:30.123Z garbage",
];

/// Anything but 32 lowercase hex digits.
const BAD_GROUP_IDS: [&str; 9] = [
    "",
    "abc",
    "0123456789ABCDEF0123456789ABCDEF",
    "g0000000000000000000000000000000",
    "0000000000000000000000000000000",
    "000000000000000000000000000000000",
    " 0000000000000000000000000000000",
    "00000000-0000-0000-0000-000000000000",
    "../../GROUP#00000000000000000000000",
];

/// Alice's groups: `own` she administers, with bob; `theirs` is bob's,
/// with her.
struct Groups {
    own: String,
    theirs: String,
}

fn corpus(alice: &User, bob: &User, groups: &Groups) -> Vec<Case> {
    let (a, b) = (alice.login.as_str(), bob.login.as_str());
    let (own, theirs) = (groups.own.as_str(), groups.theirs.as_str());
    let mut cases = Vec::new();

    // Broken JSON and non-objects, on every route.
    for (method, path) in routes() {
        let (method, path) = (method.as_str(), path.as_str());
        // (Bodies that are not UTF-8 are left to the unit tests of
        // shared/src/http.rs: `cargo lambda watch` answers them with its own
        // 500 before any function runs, where API Gateway would pass them on
        // base64-encoded.)
        for body in [&b"{"[..], b"nul", b"[1,2", b"{\"a\":}", b"[]", b"\"text\"", b"42", b"{}}", b"{\"a\" 1}"] {
            cases.push(raw_case(method, path, Some("application/json"), body));
        }
        // Wrong content types.
        for content_type in ["text/plain", "application/x-www-form-urlencoded", "application/jsonx"] {
            cases.push(raw_case(method, path, Some(content_type), b"{}"));
        }
        cases.push(raw_case(method, path, None, b"{}"));
        // Unknown fields.
        cases.push(json_case(method, path, json!({"unexpected": 1})));
        // Huge and deeply nested bodies.
        let huge = format!(r#"{{"login":"{}"}}"#, "x".repeat(65 * 1024));
        cases.push(raw_case(method, path, Some("application/json"), huge.as_bytes()));
        let nested = format!("{{\"a\":{}{}}}", "[".repeat(5000), "]".repeat(5000));
        cases.push(raw_case(method, path, Some("application/json"), nested.as_bytes()));
    }

    // Identifiers: too short, too long, odd characters.
    let long = "x".repeat(129);
    let very_long = "y".repeat(10_000);
    for id in BAD_IDENTIFIERS.iter().copied().chain([long.as_str(), very_long.as_str()]) {
        cases.push(json_case("POST", "/register", json!({"login": id})));
        cases.push(json_case("POST", "/send_message", json!({"recipient": id, "message": "hi"})));
        cases.push(json_case("PUT", "/fetch_new_messages", json!({"sender": id})));
        cases.push(json_case("PUT", "/fetch_messages", json!({"recipient": id})));
        cases.push(json_case("POST", "/block", json!({"login": id})));
        cases.push(json_case("POST", "/unblock", json!({"login": id})));
        cases.push(json_case("DELETE", "/delete_conversation", json!({"with": id})));
        cases.push(json_case(
            "DELETE",
            "/delete_message",
            json!({"sender": id, "recipient": a, "timestamp": "2026-01-01T00:00:00Z"}),
        ));
        cases.push(json_case("POST", "/create_group", json!({"name": "Team", "members": [b, id]})));
        cases.push(json_case("POST", "/add_members", json!({"group": own, "members": [id]})));
        cases.push(json_case("POST", "/remove_member", json!({"group": own, "member": id})));
        cases.push(json_case("PUT", "/fetch_new_messages", json!({"group": own, "sender": id})));
    }

    // Group ids, in every field that takes one.
    let long_group = "a".repeat(10_000);
    for id in BAD_GROUP_IDS.iter().copied().chain([long_group.as_str()]) {
        cases.extend(group_named(id));
        cases.push(json_case("POST", "/add_members", json!({"group": id, "members": [b]})));
        cases.push(json_case("POST", "/remove_member", json!({"group": id, "member": b})));
    }

    // Wrong types.
    for wrong in [json!(5), json!(true), json!(["x"]), json!({"x": 1}), json!(1.5)] {
        cases.push(json_case("POST", "/register", json!({"login": wrong})));
        cases.push(json_case("POST", "/login", json!({"login": a, "password": wrong})));
        cases.push(json_case("POST", "/send_message", json!({"recipient": b, "message": wrong})));
        cases.push(json_case("POST", "/block", json!({"login": wrong})));
        cases.push(json_case("DELETE", "/delete_conversation", json!({"with": wrong})));
        if !wrong.is_i64() {
            cases.push(json_case("PUT", "/fetch_messages", json!({"start": wrong})));
        }
        if !wrong.is_boolean() {
            cases.push(json_case("PUT", "/fetch_messages", json!({"read": wrong})));
        }
        cases.push(json_case("DELETE", "/delete_messages", json!({"sender": b, "recipient": a, "timestamps": wrong})));
        cases.extend(group_named(wrong.clone()));
        cases.push(json_case("POST", "/create_group", json!({"name": wrong})));
        cases.push(json_case("POST", "/create_group", json!({"name": "Team", "members": wrong})));
        cases.push(json_case("POST", "/add_members", json!({"group": own, "members": wrong})));
        cases.push(json_case("POST", "/remove_member", json!({"group": own, "member": wrong})));
        cases.push(json_case("POST", "/send_message", json!({"group": own, "message": wrong})));
    }

    // Missing fields.
    cases.push(json_case("POST", "/register", json!({})));
    cases.push(json_case("POST", "/login", json!({"login": a})));
    cases.push(json_case("POST", "/login", json!({"password": "whatever-1"})));
    cases.push(json_case("POST", "/send_message", json!({"recipient": b})));
    cases.push(json_case("POST", "/send_message", json!({"message": "to nobody"})));
    cases.push(json_case("DELETE", "/delete_message", json!({"sender": b, "recipient": a})));
    cases.push(json_case("DELETE", "/delete_messages", json!({"sender": b, "timestamps": []})));
    // (A null group reads as none: fetch_new_messages then fetches the mailbox.)
    cases.extend(group_named(Value::Null).into_iter().filter(|case| case.path != "/fetch_new_messages"));
    cases.push(json_case("POST", "/create_group", json!({})));
    cases.push(json_case("POST", "/create_group", json!({"members": [b]})));
    cases.push(json_case("POST", "/add_members", json!({"group": own})));
    cases.push(json_case("POST", "/add_members", json!({"members": [b]})));
    cases.push(json_case("POST", "/remove_member", json!({"group": own})));
    cases.push(json_case("POST", "/remove_member", json!({"member": b})));
    cases.push(json_case("POST", "/send_message", json!({"group": own})));
    // Exactly one of recipient and group.
    cases.push(json_case("POST", "/send_message", json!({"recipient": b, "group": own, "message": "both"})));
    cases.push(json_case("POST", "/send_message", json!({"recipient": null, "group": null, "message": "neither"})));

    // Numbers out of range.
    for limit in [
        json!(0),
        json!(-1),
        json!(1001),
        json!(1e9),
        json!(9_223_372_036_854_775_807u64),
        json!(18_446_744_073_709_551_615u64),
    ] {
        cases.push(json_case("PUT", "/fetch_new_messages", json!({"limit": limit})));
        cases.push(json_case("PUT", "/fetch_messages", json!({"limit": limit})));
    }
    for wait in [json!(-1), json!(21), json!(1.5), json!("5"), json!(true), json!(1e9)] {
        cases.push(json_case("PUT", "/fetch_new_messages", json!({"wait": wait})));
    }
    for wait in [-1, 21] {
        cases.push(json_case("PUT", "/fetch_new_messages", json!({"group": own, "wait": wait})));
    }
    cases.push(json_case("PUT", "/fetch_new_messages", json!({"group": own, "limit": 0})));
    for (start, stop) in [(0, 1001), (-1001, 0), (-2000, -500), (5, 2000)] {
        let stop = if stop == 0 { json!(null) } else { json!(stop) };
        cases.push(json_case("PUT", "/fetch_messages", json!({"start": start, "stop": stop})));
    }
    cases.push(json_case("PUT", "/fetch_messages", json!({"start": 0, "limit": 5})));
    cases.push(json_case("PUT", "/fetch_messages", json!({"start": 0, "next": "x"})));
    cases.push(json_case(
        "PUT",
        "/fetch_messages",
        json!({"period_start": "2026-01-01T00:00:00Z", "next": "bm90IGEgdG9rZW4"}),
    ));

    // Timestamps.
    for stamp in BAD_TIMESTAMPS {
        cases.push(json_case("PUT", "/fetch_messages", json!({"period_start": stamp})));
        cases.push(json_case("PUT", "/fetch_messages", json!({"period_end": stamp})));
        cases.push(json_case("DELETE", "/delete_message", json!({"sender": b, "recipient": a, "timestamp": stamp})));
        cases.push(json_case(
            "DELETE",
            "/delete_messages",
            json!({"sender": b, "recipient": a, "timestamps": [stamp]}),
        ));
    }
    cases.push(json_case(
        "PUT",
        "/fetch_messages",
        json!({"period_start": "2026-02-01T00:00:00Z", "period_end": "2026-01-01T00:00:00Z"}),
    ));
    let too_many: Vec<String> = (0..101).map(|i| format!("2026-01-01T00:00:{:02}.{i:06}Z", i % 60)).collect();
    cases.push(json_case("DELETE", "/delete_messages", json!({"sender": b, "recipient": a, "timestamps": too_many})));
    cases.push(json_case("DELETE", "/delete_messages", json!({"sender": b, "recipient": a, "timestamps": []})));

    // Blocks of oneself (400) and of nobody (404).
    for path in ["/block", "/unblock"] {
        cases.push(json_case("POST", path, json!({"login": a})));
        cases.push(json_case("POST", path, json!({"login": "corpus-nobody"})));
    }

    // Message text: empty, too long, control characters.
    for text in [
        String::new(),
        "x".repeat(4097),
        "é".repeat(4097),
        "bell\u{7}".into(),
        "esc\u{1b}[31m".into(),
        "nul\u{0}".into(),
    ] {
        cases.push(json_case("POST", "/send_message", json!({"recipient": b, "message": text})));
        cases.push(json_case("POST", "/send_message", json!({"group": own, "message": text})));
    }
    // Group names: blank, too long, control characters.
    for name in [
        String::new(),
        "   ".into(),
        "\t\n".into(),
        "n".repeat(101),
        "é".repeat(101),
        "tab\there".into(),
        "nul\u{0}".into(),
        "esc\u{1b}[31m".into(),
        "next line\u{85}".into(),
    ] {
        cases.push(json_case("POST", "/create_group", json!({"name": name, "members": [b]})));
    }
    // Members: too many (as listed, repeats included), none to add.
    let too_many: Vec<String> = (0..33).map(|i| format!("corpus-member-{i}")).collect();
    for members in [json!(too_many), json!(vec![b; 33])] {
        cases.push(json_case("POST", "/create_group", json!({"name": "Team", "members": members})));
        cases.push(json_case("POST", "/add_members", json!({"group": own, "members": members})));
    }
    cases.push(json_case("POST", "/add_members", json!({"group": own, "members": []})));

    // Groups alice is not in (404), rights she lacks in bob's (403),
    // users who do not exist or are not members (404), herself (400).
    let nowhere = "0".repeat(32);
    cases.extend(group_named(json!(nowhere)));
    cases.push(json_case("POST", "/add_members", json!({"group": nowhere, "members": [b]})));
    cases.push(json_case("POST", "/remove_member", json!({"group": nowhere, "member": b})));
    cases.push(json_case("POST", "/add_members", json!({"group": theirs, "members": [a]})));
    cases.push(json_case("POST", "/remove_member", json!({"group": theirs, "member": b})));
    cases.push(json_case("POST", "/create_group", json!({"name": "Team", "members": [b, "corpus-nobody"]})));
    cases.push(json_case("POST", "/add_members", json!({"group": own, "members": ["corpus-nobody"]})));
    cases.push(json_case("POST", "/remove_member", json!({"group": own, "member": "corpus-nobody"})));
    cases.push(json_case("POST", "/remove_member", json!({"group": own, "member": a})));
    // Another's read state, even in a group.
    cases.push(json_case("PUT", "/fetch_new_messages", json!({"group": own, "recipient": b})));
    // Passwords out of range.
    for password in ["short", &"p".repeat(1025)] {
        cases.push(json_case("POST", "/register", json!({"login": "corpus-newcomer", "password": password})));
    }
    // Idempotency keys out of range.
    for key in ["k".repeat(129), " ".into(), "tab\tkey".into()] {
        for body in [json!({"recipient": b, "message": "keyed"}), json!({"group": own, "message": "keyed"})] {
            let mut case = json_case("POST", "/send_message", body);
            case.headers.push(("idempotency-key", key.clone()));
            cases.push(case);
        }
    }
    cases
}

/// `group` as the group of every request that names one: leave_group,
/// group_members, a send and a fetch.
fn group_named(group: impl Into<Value>) -> [Case; 4] {
    let group = group.into();
    [
        json_case("POST", "/leave_group", json!({"group": group})),
        json_case("PUT", "/group_members", json!({"group": group})),
        json_case("POST", "/send_message", json!({"group": group, "message": "hi"})),
        json_case("PUT", "/fetch_new_messages", json!({"group": group})),
    ]
}

/// The table once the stream's consumers are done with what the setup
/// wrote (the notifier notes a group message on its members' items after
/// the send has returned): the same snapshot twice, half a second apart.
async fn settled_snapshot(table: &str) -> Vec<String> {
    let mut last = table_snapshot(table).await;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = table_snapshot(table).await;
        if now == last {
            return now;
        }
        last = now;
    }
    panic!("the table is still changing 10 s after the setup");
}

#[tokio::test]
async fn bad_requests_get_clear_4xx_json_and_change_nothing() {
    // Alone: the table must change only by what the corpus does.
    let (app, [alice, bob]) = TestApp::alone_with_users(["corpus-alice", "corpus-bob"]).await;
    let sent = app.send(&bob, &alice.login, "before the corpus").await;
    assert_eq!(sent.status, 201);
    let groups = Groups {
        own: app.create_group(&alice, "corpus", &[&bob]).await,
        theirs: app.create_group(&bob, "corpus", &[&alice]).await,
    };
    // New to alice in both: a fetch that got through would move her read state.
    for group in [&groups.own, &groups.theirs] {
        assert_eq!(app.send_to_group(&bob, group, "before the corpus").await.status, 201);
    }
    let table = stack_table();
    let before = settled_snapshot(&table).await;

    let cases = corpus(&alice, &bob, &groups);
    assert!(cases.len() >= 150, "{} cases", cases.len());
    let mut by_status = std::collections::BTreeMap::new();
    for case in &cases {
        let authorization = format!("Bearer {}", alice.token);
        let mut headers: Vec<(&str, &str)> = vec![("authorization", authorization.as_str())];
        if let Some(content_type) = case.content_type {
            headers.push(("content-type", content_type));
        }
        headers.extend(case.headers.iter().map(|(name, value)| (*name, value.as_str())));
        let reply = app.send_raw(&case.method, &case.path, &headers, case.body.clone()).await;
        let shown = String::from_utf8_lossy(&case.body[..case.body.len().min(120)]).into_owned();
        assert!(
            (400..500).contains(&reply.status),
            "{} {} {shown}: {} {:?}",
            case.method,
            case.path,
            reply.status,
            reply.body
        );
        let error = reply.body["error"].as_str().unwrap_or_default();
        assert!(
            error.len() >= 10,
            "{} {} {shown}: an error a developer can act on: {:?}",
            case.method,
            case.path,
            reply.body
        );
        *by_status.entry(reply.status).or_insert(0) += 1;
    }
    eprintln!("{} bad requests: {by_status:?}", cases.len());
    assert_eq!(table_snapshot(&table).await, before, "the corpus changed the table");
}
