//! Per-user rate limits, with handlers called in-process on Apps of their
//! own with low limits (the local stack's are off): the request over a
//! limit is a 429 with Retry-After and a JSON error that stores nothing,
//! other senders and addresses are unaffected, a replay is not counted,
//! 0 turns a limit off, and counting costs one small write.

use std::time::Duration;

use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use messenger_tools::handlers::handler_request;
use serde_json::{json, Value};
use shared::model::Timestamp;

use crate::helpers::{contract, handle, table_snapshot, with_key, Answer, DemoApp};

const ALICE: (&str, &str) = ("demo-alice", "demo-token-alice");
const BOB: (&str, &str) = ("demo-bob", "demo-token-bob");
const ADDRESS: &str = "192.0.2.10";

/// Waits, if need be, for a window of `seconds` with time enough left for
/// a test's requests, so that none of them falls into the next one.
async fn fresh_window(seconds: i64) {
    let left = seconds - Timestamp::now().unix_seconds().rem_euclid(seconds);
    if left < 20 {
        tokio::time::sleep(Duration::from_secs(left.unsigned_abs() + 1)).await;
    }
}

/// A send from `from` (login, token) to `to`.
fn send(from: (&str, &str), to: &str, text: &str) -> Request {
    handler_request("send_message", from.1, Some(json!({"recipient": to, "message": text})))
}

/// A registration of `login`, from `address` as API Gateway reports it.
fn register(login: &str, address: Option<&str>) -> Request {
    let request = handler_request("register", "", Some(json!({"login": login})));
    let Some(address) = address else {
        return request;
    };
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.http.source_ip = Some(address.to_owned());
    request.with_request_context(RequestContext::ApiGatewayV2(context))
}

/// A 429 as documented: within `window` seconds, a JSON error.
fn assert_limited(answer: &Answer, path: &str, window: u32) {
    assert_eq!(answer.status, 429, "{path}: {}", answer.body);
    let retry_after: u32 = answer.headers["retry-after"].to_str().unwrap().parse().expect("Retry-After in seconds");
    assert!((1..=window).contains(&retry_after), "Retry-After {retry_after} within a window of {window} s");
    let error = answer.body["error"].as_str().expect("a JSON error");
    assert!(error.ends_with(&format!("retry after {retry_after} s")), "{error}");
    contract().check("POST", path, 429, &answer.body).expect("the 429 is documented");
}

/// The rate-limit counters in `table`, as (pk, count).
async fn counters(table: &str) -> Vec<(String, u64)> {
    let items = table_snapshot(table).await.into_iter().map(|item| serde_json::from_str::<Value>(&item).unwrap());
    let mut counters: Vec<(String, u64)> = items
        .filter(|item| item["pk"].as_str().unwrap().starts_with("RATE#"))
        .map(|item| (item["pk"].as_str().unwrap().to_owned(), item["count"].as_u64().unwrap()))
        .collect();
    counters.sort();
    counters
}

#[tokio::test]
async fn a_sender_over_the_limit_gets_429_and_nothing_is_stored() {
    let app = DemoApp::spawn("rate-send").await.with_config(|config| config.send_rate_per_minute = 3);
    fresh_window(60).await;
    let first = handle(&app, with_key(send(BOB, ALICE.0, "one"), "rate-1")).await;
    assert_eq!(first.status, 201, "{}", first.body);
    for text in ["two", "three"] {
        assert_eq!(handle(&app, send(BOB, ALICE.0, text)).await.status, 201);
    }
    let before = table_snapshot(app.store.table()).await;

    assert_limited(&handle(&app, send(BOB, ALICE.0, "four")).await, "/send_message", 60);
    // A replay of the first send is answered as before, neither counted
    // nor refused; a new key is a new send, and refused.
    let replay = handle(&app, with_key(send(BOB, ALICE.0, "one"), "rate-1")).await;
    assert_eq!((replay.status, &replay.body), (201, &first.body), "a replay is answered");
    assert_limited(&handle(&app, with_key(send(BOB, ALICE.0, "five"), "rate-2")).await, "/send_message", 60);
    assert_eq!(table_snapshot(app.store.table()).await, before, "refused sends and a replay store nothing");

    // Alice's sends have a limit of their own, and a counter.
    for text in ["a", "b", "c"] {
        assert_eq!(handle(&app, send(ALICE, BOB.0, text)).await.status, 201, "alice is not limited by bob");
    }
    assert_limited(&handle(&app, send(ALICE, BOB.0, "d")).await, "/send_message", 60);
    let senders: Vec<(String, u64)> = counters(app.store.table())
        .await
        .into_iter()
        .map(|(pk, count)| (pk.replace("RATE#send#", ""), count))
        .collect();
    assert_eq!(senders, [("demo-alice".to_owned(), 3), ("demo-bob".to_owned(), 3)], "one counter per sender");
}

#[tokio::test]
async fn registrations_over_the_limit_from_one_address_get_429() {
    let app = DemoApp::spawn("rate-register").await.with_config(|config| config.registrations_per_hour = 2);
    fresh_window(3600).await;
    for login in ["rate-carol", "rate-dave"] {
        assert_eq!(handle(&app, register(login, Some(ADDRESS))).await.status, 201, "{login}");
    }
    let before = table_snapshot(app.store.table()).await;
    assert_limited(&handle(&app, register("rate-erin", Some(ADDRESS))).await, "/register", 3600);
    // Taken or not, the login is not looked at over the limit.
    assert_limited(&handle(&app, register("rate-carol", Some(ADDRESS))).await, "/register", 3600);
    assert_eq!(table_snapshot(app.store.table()).await, before, "no user was created");

    // Another address has its own count; a request without one (not from
    // API Gateway) is not counted.
    assert_eq!(handle(&app, register("rate-erin", Some("198.51.100.7"))).await.status, 201);
    assert_eq!(handle(&app, register("rate-frank", None)).await.status, 201);
    assert_eq!(
        counters(app.store.table()).await,
        [("RATE#register#192.0.2.10".to_owned(), 2), ("RATE#register#198.51.100.7".to_owned(), 1)]
    );
}

#[tokio::test]
async fn a_limit_of_zero_is_off_and_counts_nothing() {
    let app = DemoApp::spawn("rate-off").await.with_config(|config| {
        config.send_rate_per_minute = 0;
        config.registrations_per_hour = 0;
    });
    for n in 0..5 {
        assert_eq!(handle(&app, send(BOB, ALICE.0, &format!("message {n}"))).await.status, 201);
        assert_eq!(handle(&app, register(&format!("rate-off-{n}"), Some(ADDRESS))).await.status, 201);
    }
    assert_eq!(counters(app.store.table()).await, [], "no counter is written");
}

#[tokio::test]
async fn counting_a_send_costs_one_small_write() {
    let counted = DemoApp::spawn("rate-cost").await.with_config(|config| config.send_rate_per_minute = 120);
    let uncounted = DemoApp::spawn("rate-cost-off").await;
    let text = "m".repeat(1024);
    let with = handle(&counted, send(BOB, ALICE.0, &text)).await;
    let without = handle(&uncounted, send(BOB, ALICE.0, &text)).await;
    assert_eq!((with.status, without.status), (201, 201));
    eprintln!("send_message, 1 KB: {} write units counted, {} without", with.write_units, without.write_units);
    assert_eq!(with.write_units - without.write_units, 1.0, "the counter is one write unit");
}
