//! `DELETE /delete_messages`: deletes up to 100 messages of one sender to
//! one recipient (or in one group), reporting the timestamps that matched
//! nothing.

use std::collections::HashSet;

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

pub const MAX_TIMESTAMPS: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeleteManyRequest {
    sender: String,
    recipient: Option<String>,
    group: Option<String>,
    timestamps: Vec<String>,
}

/// A delete_messages request whose shape and values are checked: each
/// distinct instant once, with the text first sent for it.
#[derive(Debug)]
pub struct DeleteManyInput {
    pub sender: Identifier,
    pub target: MessageTarget,
    pub requested: Vec<(Timestamp, String)>,
}

/// Checks the request's shape and values (400, 413, 415) without touching
/// the database.
pub fn parse(request: &Request) -> Result<DeleteManyInput, ApiError> {
    let body: DeleteManyRequest = json_body(request)?;
    let sender = Identifier::parse("sender", &body.sender)?;
    let target = MessageTarget::parse(body.recipient, body.group)?;
    if !(1..=MAX_TIMESTAMPS).contains(&body.timestamps.len()) {
        return Err(ApiError::bad_request(format!(
            "timestamps must list 1 to {MAX_TIMESTAMPS} timestamps (got {})",
            body.timestamps.len()
        )));
    }
    let mut seen = HashSet::new();
    let mut requested = Vec::new();
    for (index, text) in body.timestamps.into_iter().enumerate() {
        let timestamp = Timestamp::parse(&format!("timestamps[{index}]"), &text)?;
        if seen.insert(timestamp) {
            requested.push((timestamp, text));
        }
    }
    Ok(DeleteManyInput { sender, target, requested })
}

/// Also the answer when the first of two transactions committed and the
/// second failed: deleting again is harmless.
pub const IF_OUTCOME_UNKNOWN: &str = "some or all of the messages may have been deleted. Retrying is safe: send \
     the same request again; timestamps already deleted come back in not_found";

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(app, &request).await?;
    let DeleteManyInput { sender, target, requested } = parse(&request)?;
    let instants: Vec<Timestamp> = requested.iter().map(|(timestamp, _)| *timestamp).collect();
    let outcome = delete_from(app, &caller.login, &sender, &target, &instants).await?;
    let deleted: HashSet<Timestamp> = outcome.deleted.into_iter().collect();
    let not_found: Vec<&String> =
        requested.iter().filter(|(timestamp, _)| !deleted.contains(timestamp)).map(|(_, text)| text).collect();
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"OK": "messages deleted", "deleted": deleted.len(), "not_found": not_found}),
    ))
}
