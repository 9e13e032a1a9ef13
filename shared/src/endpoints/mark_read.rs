//! `POST /mark_read`: the caller's messages from `sender` up to and
//! including `through` count as read, as if fetch_new_messages had
//! returned them. A read horizon, as Twilio and Matrix keep one: it only
//! moves forward, and a mark_read behind it changes nothing.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use crate::app::App;
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::http::{json_body, json_response};
use crate::model::{Identifier, Timestamp};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkReadRequest {
    sender: String,
    through: String,
}

/// A mark_read request whose shape and values are checked.
#[derive(Debug)]
pub struct MarkReadInput {
    pub sender: Identifier,
    pub through: Timestamp,
}

/// Checks the request's shape and values (400, 413, 415) without touching
/// the database.
pub fn parse(request: &Request) -> Result<MarkReadInput, ApiError> {
    let body: MarkReadRequest = json_body(request)?;
    Ok(MarkReadInput {
        sender: Identifier::parse("sender", &body.sender)?,
        through: Timestamp::parse("through", &body.through)?,
    })
}

pub const IF_OUTCOME_UNKNOWN: &str = "the messages may have been marked read. Retrying is safe: send the same request \
     again (it never marks a message twice; it then answers how many were still unread)";

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(app, &request).await?;
    let MarkReadInput { sender, through } = parse(&request)?;
    let marked = app.store.mark_read(&caller.login, &sender, through).await?;
    Ok(json_response(StatusCode::OK, &json!({"marked": marked})))
}
