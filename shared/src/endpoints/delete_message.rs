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

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(app, &request).await?;
    let body: DeleteRequest = json_body(&request)?;
    let sender = Identifier::parse("sender", &body.sender)?;
    let recipient = Identifier::parse("recipient", &body.recipient)?;
    let timestamp = Timestamp::parse("timestamp", &body.timestamp)?;
    require_party(&caller.login, &sender, &recipient)?;
    let outcome = app.store.delete_messages(&recipient, &sender, &[timestamp]).await?;
    if outcome.deleted.is_empty() {
        return Err(ApiError::NotFound(format!("no message from {sender} to {recipient} at {timestamp}")));
    }
    Ok(json_response(StatusCode::CREATED, &json!({"OK": "message deleted"})))
}
