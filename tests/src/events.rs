//! The sample events of `events/` and the status each must get, in an
//! order that holds when they run one after another on fresh demo data
//! (logout, which revokes bob's token, comes last).

use std::collections::BTreeMap;

use lambda_http::{Body, Request, Response};
use shared::app::answer;
use shared::endpoints;
use shared::App;

use crate::template::repo_root;

pub const EXPECTED: [(&str, u16); 15] = [
    ("register", 201),
    ("register-taken", 409),
    ("login", 200),
    ("login-wrong-password", 401),
    ("send_message", 201),
    ("send_message-unknown-recipient", 404),
    ("send_message-no-token", 401),
    ("fetch_new_messages", 200),
    ("fetch_messages", 200),
    ("fetch_messages-forbidden", 403),
    ("delete_message", 201),
    ("delete_message-not-found", 404),
    ("delete_messages", 201),
    ("conversations", 200),
    ("logout", 200),
];

/// The function an event is for: its file name up to the first `-`.
pub fn function_of(event: &str) -> &str {
    event.split('-').next().expect("non-empty name")
}

/// Every event file (but the env-vars file), by name without `.json`.
pub fn event_files() -> BTreeMap<String, String> {
    std::fs::read_dir(repo_root().join("events"))
        .expect("events/ exists")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json") && path.file_name().unwrap() != "env.json")
        .map(|path| {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, std::fs::read_to_string(&path).expect("readable event"))
        })
        .collect()
}

/// Every event file has an expectation, and every expectation a file.
pub fn assert_all_covered() {
    let files: Vec<String> = event_files().into_keys().collect();
    let mut expected: Vec<String> = EXPECTED.iter().map(|(name, _)| name.to_string()).collect();
    expected.sort();
    assert_eq!(files, expected, "events/ and the expectations list the same events");
}

/// Calls a function's handler in-process, as its Lambda binary would.
pub async fn dispatch(function: &str, app: &App, request: Request) -> Response<Body> {
    answer(function, async move {
        match function {
            "register" => endpoints::register::handle(app, request).await,
            "login" => endpoints::login::handle(app, request).await,
            "logout" => endpoints::logout::handle(app, request).await,
            "send_message" => endpoints::send_message::handle(app, request).await,
            "fetch_new_messages" => endpoints::fetch_new_messages::handle(app, request).await,
            "fetch_messages" => endpoints::fetch_messages::handle(app, request).await,
            "delete_message" => endpoints::delete_message::handle(app, request).await,
            "delete_messages" => endpoints::delete_messages::handle(app, request).await,
            "conversations" => endpoints::conversations::handle(app, request).await,
            other => panic!("no function {other}"),
        }
    })
    .await
}

/// The method of a function's route.
pub fn method_of(function: &str) -> &'static str {
    match function {
        "register" | "login" | "logout" | "send_message" => "POST",
        "fetch_new_messages" | "fetch_messages" => "PUT",
        "delete_message" | "delete_messages" => "DELETE",
        _ => "GET",
    }
}

/// A request to a function's route, as API Gateway hands it over: with
/// `token` (unless empty) as the bearer and `body` as JSON.
pub fn handler_request(function: &str, token: &str, body: Option<serde_json::Value>) -> Request {
    let mut builder = lambda_http::http::Request::builder().method(method_of(function)).uri(format!("/{function}"));
    if !token.is_empty() {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    let body = match body {
        Some(body) => {
            builder = builder.header("content-type", "application/json");
            Body::from(body.to_string())
        }
        None => Body::Empty,
    };
    builder.body(body).expect("request")
}
