//! Groups at their limits, in-process against DynamoDB Local: a send to a
//! group of 1000 costs what a send to a group of 2 does, and every member
//! receives it; and the senders of one group, who share its head item,
//! take turns on it under AWS's conflict rules (the fault proxy's
//! `ConflictRules`) without a single failure.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures::future::join_all;
use futures::{stream, StreamExt};
use serde_json::{json, Value};
use shared::model::MAX_MEMBERS_PER_REQUEST;
use shared::App;

use crate::helpers::{call, texts, Answer, DemoApp, Fault, FaultProxy};

/// About what a commit takes on AWS: long enough for requests to overlap.
const TRANSACTION_TIME: Duration = Duration::from_millis(20);

/// Registers users without passwords (no hash to wait for); their logins
/// and tokens.
async fn register_many(app: &App, prefix: &str, count: usize) -> Vec<(String, String)> {
    let registering = (0..count).map(|i| async move {
        let login = format!("{prefix}-{i:04}");
        let answer = call(app, "register", "", json!({"login": login})).await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        (login, answer.body["token"].as_str().expect("token").to_owned())
    });
    stream::iter(registering).buffered(8).collect().await
}

/// A group of all `users`, the first its admin, built with create_group
/// and as many add_members as it takes; its id.
async fn group_of(app: &App, users: &[(String, String)]) -> String {
    let admin = &users[0].1;
    let logins: Vec<&str> = users[1..].iter().map(|(login, _)| login.as_str()).collect();
    let mut chunks = logins.chunks(MAX_MEMBERS_PER_REQUEST);
    let first = chunks.next().unwrap_or_default();
    let created = call(app, "create_group", admin, json!({"name": "everyone", "members": first})).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let group = created.body["group"].as_str().expect("group").to_owned();
    for chunk in chunks {
        let added = call(app, "add_members", admin, json!({"group": group, "members": chunk})).await;
        assert_eq!(added.status, 200, "{}", added.body);
    }
    group
}

async fn send(app: &App, token: &str, group: &str, text: String) -> Answer {
    call(app, "send_message", token, json!({"group": group, "message": text})).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_send_to_a_thousand_members_costs_what_a_send_to_two_does_and_reaches_each() {
    let app = DemoApp::spawn_alone("group-1000").await;
    let mut users = register_many(&app, "member", 1001).await;
    let outsider = users.pop().expect("a 1001st user");
    let crowd = group_of(&app, &users).await;
    let pair = group_of(&app, &users[..2]).await;
    let members = call(&app, "group_members", &users[0].1, json!({"group": crowd})).await;
    assert_eq!(members.body["members"].as_array().map(Vec::len), Some(1000));
    let full = call(&app, "add_members", &users[0].1, json!({"group": crowd, "members": [outsider.0]})).await;
    assert_eq!(
        (full.status, full.body["error"].as_str()),
        (409, Some("a group holds at most 1000 members, and this one has 1000"))
    );

    let to_pair = send(&app, &users[0].1, &pair, "to two".into()).await;
    let to_crowd = send(&app, &users[0].1, &crowd, "to a thousand".into()).await;
    assert_eq!((to_pair.status, to_crowd.status), (201, 201), "{} {}", to_pair.body, to_crowd.body);
    assert_eq!(
        (to_crowd.read_units, to_crowd.write_units),
        (to_pair.read_units, to_pair.write_units),
        "the send's capacity does not grow with the group"
    );

    let fetching = users[1..].iter().map(|(login, token)| {
        let (app, group) = (&app, &crowd);
        async move {
            let answer = call(app, "fetch_new_messages", token, json!({"group": group})).await;
            assert_eq!(answer.status, 200, "{login}: {}", answer.body);
            (answer.read_units, texts(&answer.body))
        }
    });
    let fetched: Vec<(f64, Vec<String>)> = stream::iter(fetching).buffer_unordered(8).collect().await;
    assert!(fetched.iter().all(|(_, texts)| texts == &["to a thousand"]), "each of 999 members got it once");
    let reads: BTreeSet<u64> = fetched.iter().map(|(units, _)| *units as u64).collect();
    assert_eq!(reads.len(), 1, "every member's fetch reads the same, whatever the group's size: {reads:?}");
    let again = call(&app, "fetch_new_messages", &users[999].1, json!({"group": crowd})).await;
    assert_eq!(texts(&again.body), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_senders_to_one_group_take_turns_under_aws_conflict_rules_without_failing() {
    const SENDERS: usize = 8;
    const EACH: usize = 12;
    let proxy = FaultProxy::start_before_dynamodb_local().await;
    let app = DemoApp::spawn_alone_via("hot-group", &proxy.url).await;
    let users = register_many(&app, "hot-group", SENDERS + 1).await;
    let group = group_of(&app, &users).await;
    proxy.set(Fault::ConflictRules(TRANSACTION_TIME));

    let started = Instant::now();
    let sends = users[1..].iter().enumerate().map(|(s, (_, token))| {
        let (app, group) = (&app, &group);
        async move {
            let mut answers = Vec::new();
            for n in 0..EACH {
                answers.push(send(app, token, group, format!("{s}/{n}")).await);
            }
            answers
        }
    });
    let answers: Vec<Answer> = join_all(sends).await.into_iter().flatten().collect();
    let elapsed = started.elapsed();
    let conflicts = proxy.conflicts();
    proxy.set(Fault::None);
    let failed: Vec<&Value> = answers.iter().filter(|a| a.status != 201).map(|a| &a.body).collect();
    assert!(failed.is_empty(), "{} of {} sends failed: {failed:?}", failed.len(), answers.len());
    assert!(conflicts > 0, "the senders met each other on the group's head");
    eprintln!(
        "{} sends from {SENDERS} senders to one group in {elapsed:?} ({:.1}/s), {conflicts} conflicts",
        answers.len(),
        answers.len() as f64 / elapsed.as_secs_f64()
    );

    let reader = &users[0].1;
    let mut got = Vec::new();
    loop {
        let answer = call(&app, "fetch_new_messages", reader, json!({"group": group, "limit": 1000})).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        got.extend(texts(&answer.body));
        if answer.body["more"] == false {
            break;
        }
    }
    let once: BTreeSet<&String> = got.iter().collect();
    assert_eq!((got.len(), once.len()), (SENDERS * EACH, SENDERS * EACH), "every message once");
    for s in 0..SENDERS {
        let order: Vec<usize> =
            got.iter().filter_map(|t| t.strip_prefix(&format!("{s}/"))).map(|n| n.parse().unwrap()).collect();
        assert_eq!(order, (0..EACH).collect::<Vec<_>>(), "sender {s}'s order");
    }
}
