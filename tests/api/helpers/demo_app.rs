//! The handlers in-process against DynamoDB Local: an App on a fresh demo
//! table of its own, and calls that answer as the function would.

use std::ops::Deref;

use lambda_http::http::HeaderMap;
use lambda_http::Request;
use messenger_tools::handlers::{dispatch, dispatch_route, handler_request};
use messenger_tools::stack::app_at;
use messenger_tools::table::{prepare_table, TableFor};
use serde_json::Value;
use shared::store::capacity::measure;
use shared::{App, Config};

use super::turn::Turn;

/// An App on a fresh table seeded with the demo data, holding the test's
/// turn at the local stack.
pub struct DemoApp {
    app: App,
    _turn: Turn,
}

impl Deref for DemoApp {
    type Target = App;

    fn deref(&self) -> &App {
        &self.app
    }
}

impl DemoApp {
    /// Shares DynamoDB Local with other light tests.
    pub async fn spawn(label: &str) -> Self {
        Self::start(Turn::shared().await, label, None).await
    }

    /// Reaches DynamoDB through `endpoint` (a fault proxy, say); the table
    /// is set up directly.
    pub async fn spawn_via(label: &str, endpoint: &str) -> Self {
        Self::start(Turn::shared().await, label, Some(endpoint)).await
    }

    /// Has DynamoDB Local to itself, for a test that loads it hard.
    pub async fn spawn_alone(label: &str) -> Self {
        Self::start(Turn::whole().await, label, None).await
    }

    /// Like [`DemoApp::spawn_alone`], through `endpoint`.
    pub async fn spawn_alone_via(label: &str, endpoint: &str) -> Self {
        Self::start(Turn::whole().await, label, Some(endpoint)).await
    }

    /// This App with its configuration changed (rate limits, say).
    pub fn with_config(mut self, change: impl FnOnce(&mut Config)) -> Self {
        change(&mut self.app.config);
        self
    }

    async fn start(turn: Turn, label: &str, endpoint: Option<&str>) -> Self {
        let table = format!("{label}-{:08x}", rand::random::<u32>());
        prepare_table(&table, true, TableFor::InProcess).await;
        Self { app: app_at(endpoint, &table).await, _turn: turn }
    }
}

/// A handler's answer, with what it cost.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub bytes: usize,
    pub read_units: f64,
    pub write_units: f64,
}

/// Calls `function` with `token` (unless empty) as the bearer and `body`
/// as JSON.
pub async fn call(app: &App, function: &str, token: &str, body: Value) -> Answer {
    handle(app, handler_request(function, token, Some(body))).await
}

/// Hands `request` to the handler of its route. A 503 must say when to
/// retry.
pub async fn handle(app: &App, request: Request) -> Answer {
    let function = request.uri().path().trim_start_matches('/').to_owned();
    // Boxed: a handler's future is large, and a test thread's stack small.
    let (response, consumed) = measure(Box::pin(dispatch(&function, app, request))).await;
    let status = response.status().as_u16();
    if status == 503 {
        assert_eq!(response.headers()["retry-after"], "1", "{function}");
    }
    let bytes = response.body().as_ref().len();
    let body = serde_json::from_slice(response.body().as_ref()).expect("JSON reply");
    Answer {
        status,
        headers: response.headers().clone(),
        body,
        bytes,
        read_units: consumed.read,
        write_units: consumed.write,
    }
}

/// Hands a WebSocket route's `event` (JSON) to `function`'s handler; the
/// answer's body is the frame sent back, if any (else null).
pub async fn handle_route(app: &App, function: &str, event: &str) -> Answer {
    let event = serde_json::from_str(event).unwrap_or_else(|e| panic!("{function}: not a WebSocket event: {e}"));
    let (response, consumed) = measure(dispatch_route(function, app, event)).await;
    let text = match &response.body {
        Some(lambda_http::Body::Text(text)) => text.clone(),
        None => String::new(),
        Some(other) => panic!("{function}: a frame is text, not {other:?}"),
    };
    Answer {
        status: u16::try_from(response.status_code).expect("an HTTP status"),
        headers: HeaderMap::new(),
        body: if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("a JSON frame") },
        bytes: text.len(),
        read_units: consumed.read,
        write_units: consumed.write,
    }
}

/// `request` with an Idempotency-Key.
pub fn with_key(mut request: Request, key: &str) -> Request {
    request.headers_mut().insert("idempotency-key", key.parse().expect("a valid header value"));
    request
}
