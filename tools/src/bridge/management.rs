//! The Management API (`aws-sdk-apigatewaymanagement` with its endpoint
//! set to the bridge): post to, close and describe a connection. Requests
//! are signed with SigV4; locally the signature is not checked.

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use http_body_util::Full;
use hyper::{Method, Response, StatusCode};
use percent_encoding::percent_decode_str;
use serde_json::json;

use super::connections::{Command, Connections};

/// API Gateway's limit on one message, PostToConnection's data included.
pub const MAX_MESSAGE_BYTES: usize = 128 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    Post(String),
    Delete(String),
    Get(String),
}

/// The call a request makes: `/@connections/{id}`, after the stage's path
/// when the endpoint carries one (`https://{api}.execute-api.../{stage}`).
/// The SDK percent-encodes the id (`=` is `%3D`).
pub fn route(method: &Method, path: &str) -> Option<Call> {
    let (_, id) = path.split_once("/@connections/")?;
    let id = percent_decode_str(id).decode_utf8().ok()?.into_owned();
    if id.is_empty() || id.contains('/') {
        return None;
    }
    match *method {
        Method::POST => Some(Call::Post(id)),
        Method::DELETE => Some(Call::Delete(id)),
        Method::GET => Some(Call::Get(id)),
        _ => None,
    }
}

pub fn respond(connections: &Connections, method: &Method, path: &str, body: Bytes) -> Response<Full<Bytes>> {
    let Some(call) = route(method, path) else {
        return error(StatusCode::NOT_FOUND, "NotFoundException", &format!("no such call: {method} {path}"));
    };
    let gone = |id: &str| error(StatusCode::GONE, "GoneException", &format!("connection {id} is gone"));
    match call {
        Call::Post(_) if body.len() > MAX_MESSAGE_BYTES => error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PayloadTooLargeException",
            &format!("{} bytes is over the {MAX_MESSAGE_BYTES}-byte message limit", body.len()),
        ),
        Call::Post(id) => {
            let frame = String::from_utf8_lossy(&body).into_owned();
            if connections.command(&id, Command::Send(frame)) {
                empty(StatusCode::OK)
            } else {
                gone(&id)
            }
        }
        Call::Delete(id) => {
            if connections.command(&id, Command::Close) {
                empty(StatusCode::NO_CONTENT)
            } else {
                gone(&id)
            }
        }
        Call::Get(id) => match connections.status(&id) {
            Some(status) => json_response(
                StatusCode::OK,
                json!({
                    "connectedAt": iso8601(status.peer.connected_at),
                    "identity": {"sourceIp": status.peer.source_ip, "userAgent": status.peer.user_agent},
                    "lastActiveAt": iso8601(status.last_active_at),
                }),
            ),
            None => gone(&id),
        },
    }
}

fn iso8601(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// An error as API Gateway sends it: the SDK reads the type from the header.
fn error(status: StatusCode, error_type: &str, message: &str) -> Response<Full<Bytes>> {
    let mut response = json_response(status, json!({"message": message}));
    response.headers_mut().insert("x-amzn-errortype", error_type.parse().expect("an error type is a header value"));
    response
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("static response")
}

fn empty(status: StatusCode) -> Response<Full<Bytes>> {
    Response::builder().status(status).body(Full::new(Bytes::new())).expect("static response")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_name_the_call_and_the_decoded_id() {
        assert_eq!(route(&Method::POST, "/@connections/abc%3D"), Some(Call::Post("abc=".to_owned())));
        assert_eq!(route(&Method::DELETE, "/@connections/abc="), Some(Call::Delete("abc=".to_owned())));
        assert_eq!(route(&Method::GET, "/live/@connections/x"), Some(Call::Get("x".to_owned())));
        assert_eq!(route(&Method::PUT, "/@connections/x"), None);
        assert_eq!(route(&Method::POST, "/@connections/"), None);
        assert_eq!(route(&Method::POST, "/@connections/a/b"), None);
        assert_eq!(route(&Method::POST, "/connections/a"), None);
    }

    #[test]
    fn unknown_connections_are_gone() {
        let response = respond(&Connections::default(), &Method::POST, "/@connections/nope", Bytes::from("hi"));
        assert_eq!(response.status(), StatusCode::GONE);
        assert_eq!(response.headers()["x-amzn-errortype"], "GoneException");
    }
}
