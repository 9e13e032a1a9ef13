//! `DELETE /delete_conversation`: every message between the caller and
//! another user, both directions, at most 1000 a call (`more` asks for
//! another), and then the caller's conversation row of them.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use crate::app::App;
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::http::{json_body, json_response};
use crate::model::Identifier;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteConversationRequest {
    with: String,
}

/// Checks the request's shape and values (400, 413, 415) without touching
/// the database; returns the other user.
pub fn parse(request: &Request) -> Result<Identifier, ApiError> {
    let body: DeleteConversationRequest = json_body(request)?;
    Identifier::parse("with", &body.with)
}

pub const IF_OUTCOME_UNKNOWN: &str = "some messages may have been deleted. Retrying is safe: send the same \
     request again (it deletes what is left and counts only what it deleted)";

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(app, &request).await?;
    let with = parse(&request)?;
    let outcome = app.store.delete_conversation(&caller.login, &with).await?;
    Ok(json_response(StatusCode::OK, &json!({"deleted": outcome.deleted, "more": outcome.more})))
}
