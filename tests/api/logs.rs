//! The functions' logs of a whole test run: one JSON line per request with
//! its request id, endpoint, caller, status and latency (per event, for the
//! functions that are not HTTP endpoints), and never a message text,
//! password, token or ticket. `make test` runs this after the other
//! suites, on the log of `cargo lambda watch` (MESSENGER_FUNCTION_LOG).

use serde_json::Value;

/// Texts the suites send or use as secrets; none may reach a log.
const SECRETS: [&str; 9] = [
    "hello bob",
    "exactly once",
    "See you at noon.",
    "-t0-n",
    "-password",
    "demo-token-",
    "Bearer ",
    "not-a-token-we-issued",
    "YWxpY2U6cHc=",
];

/// Whether a line holds something shaped like one of our tokens: 43
/// base64url characters standing alone.
fn has_token_shape(line: &str) -> bool {
    line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')).any(|word| word.len() == 43)
}

#[test]
#[ignore = "reads the log of a finished run; make test runs it last"]
fn logs_describe_every_request_and_leak_nothing() {
    let path = std::env::var("MESSENGER_FUNCTION_LOG").expect("MESSENGER_FUNCTION_LOG names the watch log");
    let log = std::fs::read_to_string(&path).expect("the log is readable");
    let mut requests = 0;
    let mut callers = 0;
    let mut events = std::collections::BTreeMap::<String, usize>::new();
    for line in log.lines() {
        for secret in SECRETS {
            assert!(!line.contains(secret), "the log leaks {secret:?}: {line}");
        }
        assert!(!has_token_shape(line), "the log holds something shaped like a token: {line}");
        let Ok(entry) = serde_json::from_str::<Value>(line) else { continue };
        if entry["message"] == "event handled" {
            assert!(entry["span"]["request_id"].as_str().is_some_and(|id| !id.is_empty()), "{line}");
            assert!(entry["ok"].is_boolean() && entry["latency_ms"].is_f64(), "{line}");
            let function = entry["span"]["function"].as_str().expect("function");
            *events.entry(function.to_owned()).or_default() += 1;
            continue;
        }
        if entry["message"] != "request handled" {
            continue;
        }
        requests += 1;
        let span = &entry["span"];
        assert!(span["request_id"].as_str().is_some_and(|id| !id.is_empty()), "{line}");
        let endpoint = span["endpoint"].as_str().expect("endpoint");
        let status = entry["status"].as_u64().expect("status");
        assert!(entry["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{line}");
        // The open routes: registering, logging in, and the web client's files.
        if status < 300 && !["register", "login", "web"].contains(&endpoint) {
            assert!(span["caller"].as_str().is_some(), "an authenticated request names its caller: {line}");
            callers += 1;
        }
    }
    assert!(requests > 1000, "the run's requests are logged ({requests} lines)");
    assert!(callers > 1000, "{callers} lines name a caller");
    let functions: Vec<&str> = events.keys().map(String::as_str).collect();
    assert_eq!(
        functions,
        ["realtime_connect", "realtime_default", "realtime_disconnect", "realtime_notifier"],
        "each push function logs its events: {events:?}"
    );
}

#[test]
fn token_shapes_are_recognised() {
    assert!(has_token_shape("x 0mbTMEYnFxuxlno5_y7i3_XGBG_RE_-lww-uRHHyhm4 y"));
    assert!(!has_token_shape(r#"{"request_id":"b1a5b59d-b9e8-48c5-9d39-7f7b34735002"}"#));
}
