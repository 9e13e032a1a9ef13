//! `DELETE /delete_message`: deletes one message the caller sent or received.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::require_party;
use crate::app::App;
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::http::{json_body, json_response};
use crate::model::{Identifier, Timestamp};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteRequest {
    sender: String,
    recipient: String,
    timestamp: String,
}

/// A delete_message request whose shape and values are checked.
#[derive(Debug)]
pub struct DeleteInput {
    pub sender: Identifier,
    pub recipient: Identifier,
    pub timestamp: Timestamp,
}

/// Checks the request's shape and values (400, 413, 415) without touching
/// the database.
pub fn parse(request: &Request) -> Result<DeleteInput, ApiError> {
    let body: DeleteRequest = json_body(request)?;
    Ok(DeleteInput {
        sender: Identifier::parse("sender", &body.sender)?,
        recipient: Identifier::parse("recipient", &body.recipient)?,
        timestamp: Timestamp::parse("timestamp", &body.timestamp)?,
    })
}

pub const IF_OUTCOME_UNKNOWN: &str =
    "the message may have been deleted. Retrying is safe: send the same request again; a 404 then means it is gone";

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(app, &request).await?;
    let DeleteInput { sender, recipient, timestamp } = parse(&request)?;
    require_party(&caller.login, &sender, &recipient)?;
    let outcome = app.store.delete_messages(&recipient, &sender, &[timestamp]).await?;
    if outcome.deleted.is_empty() {
        return Err(ApiError::NotFound(format!("no message from {sender} to {recipient} at {timestamp}")));
    }
    Ok(json_response(StatusCode::CREATED, &json!({"OK": "message deleted"})))
}
