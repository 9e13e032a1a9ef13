//! `POST /create_group`: a group of the caller, its admin, and the named
//! registered users.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::group_requests::{parse_members, require_registered};
use crate::app::App;
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::http::{json_body, json_response};
use crate::model::{validate_group_name, Identifier};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateGroupRequest {
    name: String,
    members: Option<Vec<String>>,
}

/// A create_group request whose shape and values are checked.
#[derive(Debug)]
pub struct CreateGroupInput {
    pub name: String,
    pub members: Vec<Identifier>,
}

/// Checks the request's shape and values (400, 413, 415) without touching
/// the database.
pub fn parse(request: &Request) -> Result<CreateGroupInput, ApiError> {
    let body: CreateGroupRequest = json_body(request)?;
    validate_group_name(&body.name)?;
    let members = parse_members(&body.members.unwrap_or_default(), 0)?;
    Ok(CreateGroupInput { name: body.name, members })
}

pub const IF_OUTCOME_UNKNOWN: &str = "the group may have been created. Check with GET /groups before you \
     create it again";

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(app, &request).await?;
    let CreateGroupInput { name, mut members } = parse(&request)?;
    members.retain(|member| *member != caller.login);
    require_registered(app, &members).await?;
    let group = app.store.create_group(&caller.login, &name, &members).await?;
    let members: Vec<&Identifier> = group.members.iter().map(|member| &member.login).collect();
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"group": group.group, "name": group.name, "admin": group.admin, "members": members}),
    ))
}
