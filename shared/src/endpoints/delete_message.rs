//! `DELETE /delete_message`: deletes one message the caller sent or
//! received, or one of a group's (their own, or any as the admin).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::{delete_from, MessageTarget};
use crate::app::App;
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::http::{json_body, json_response};
use crate::model::{Identifier, Timestamp};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteRequest {
    sender: String,
    recipient: Option<String>,
    group: Option<String>,
    timestamp: String,
}

/// A delete_message request whose shape and values are checked.
#[derive(Debug)]
pub struct DeleteInput {
    pub sender: Identifier,
    pub target: MessageTarget,
    pub timestamp: Timestamp,
}

/// Checks the request's shape and values (400, 413, 415) without touching
/// the database.
pub fn parse(request: &Request) -> Result<DeleteInput, ApiError> {
    let body: DeleteRequest = json_body(request)?;
    Ok(DeleteInput {
        sender: Identifier::parse("sender", &body.sender)?,
        target: MessageTarget::parse(body.recipient, body.group)?,
        timestamp: Timestamp::parse("timestamp", &body.timestamp)?,
    })
}

pub const IF_OUTCOME_UNKNOWN: &str =
    "the message may have been deleted. Retrying is safe: send the same request again; a 404 then means it is gone";

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(app, &request).await?;
    let DeleteInput { sender, target, timestamp } = parse(&request)?;
    let outcome = delete_from(app, &caller.login, &sender, &target, &[timestamp]).await?;
    if outcome.deleted.is_empty() {
        let to = match &target {
            MessageTarget::Recipient(recipient) => recipient.to_string(),
            MessageTarget::Group(group) => format!("group {group}"),
        };
        return Err(ApiError::NotFound(format!("no message from {sender} to {to} at {timestamp}")));
    }
    Ok(json_response(StatusCode::CREATED, &json!({"OK": "message deleted"})))
}
