//! `POST /add_members`: the group's admin adds registered users; each
//! starts with the messages sent from their join on.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::group_requests::{changed, parse_members};
use crate::app::App;
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::http::{json_body, json_response};
use crate::model::{GroupId, Identifier};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddMembersRequest {
    group: String,
    members: Vec<String>,
}

/// An add_members request whose shape and values are checked.
#[derive(Debug)]
pub struct AddMembersInput {
    pub group: GroupId,
    pub members: Vec<Identifier>,
}

/// Checks the request's shape and values (400, 413, 415) without touching
/// the database.
pub fn parse(request: &Request) -> Result<AddMembersInput, ApiError> {
    let body: AddMembersRequest = json_body(request)?;
    Ok(AddMembersInput { group: GroupId::parse("group", &body.group)?, members: parse_members(&body.members, 1)? })
}

pub const IF_OUTCOME_UNKNOWN: &str = "the members may have been added. Retrying is safe: members already in \
     the group stay as they are";

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(app, &request).await?;
    let AddMembersInput { group, members } = parse(&request)?;
    let added = changed(app.store.add_members(&group, &caller.login, &members).await?, &group, "add members")?;
    Ok(json_response(StatusCode::OK, &json!({"group": group, "added": added.added, "members": added.members})))
}
