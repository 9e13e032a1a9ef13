//! Every sample event through `cargo lambda invoke` against the local stack
//! (`make test` seeds its table with the demo data the events use), in the
//! order of the expectations, checking the status each answers.

use std::process::Command;

use messenger_tools::template::repo_root;
use serde_json::Value;

use crate::helpers::{assert_all_covered, function_of, Turn, API_URL_VARIABLE, EXPECTED, STREAM_EVENT};

fn local_port() -> String {
    let url = std::env::var(API_URL_VARIABLE).expect("run through `make test`: the local stack's URL is not set");
    let port = url.strip_prefix("http://127.0.0.1:").expect("cargo lambda invoke needs the local stack");
    port.trim_end_matches('/').to_owned()
}

#[tokio::test]
async fn every_event_answers_its_status_through_cargo_lambda_invoke() {
    let _turn = Turn::shared().await;
    assert_all_covered();
    let port = local_port();
    for (event, status) in EXPECTED {
        let response = invoke(&port, event);
        assert_eq!(response["statusCode"], status, "{event}: {response}");
        // A WebSocket route may answer without a body (no frame back).
        let body: Value = response["body"].as_str().map_or(Value::Null, |body| {
            serde_json::from_str(body).unwrap_or_else(|_| panic!("{event}: not a JSON body: {body}"))
        });
        assert_eq!(body.get("error").is_some(), status >= 400, "{event}: {body}");
    }
    let response = invoke(&port, STREAM_EVENT);
    assert_eq!(response, serde_json::json!({"batchItemFailures": []}), "{STREAM_EVENT}");
}

/// The reply of `event`'s function to the event's file.
fn invoke(port: &str, event: &str) -> Value {
    let file = repo_root().join("events").join(format!("{event}.json"));
    let output = Command::new("cargo")
        .args(["lambda", "invoke", function_of(event), "-A", "127.0.0.1", "-P", port, "--data-file"])
        .arg(&file)
        .output()
        .expect("cargo lambda is installed (make test puts it on PATH)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{event}: {stdout} {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_str(stdout.trim()).unwrap_or_else(|_| panic!("{event}: {stdout}"))
}
