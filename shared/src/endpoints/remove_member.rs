//! `POST /remove_member`: the group's admin removes a member, who keeps
//! nothing new from the group.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::group_requests::changed;
use crate::app::App;
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::http::{json_body, json_response};
use crate::model::{GroupId, Identifier};
use crate::store::GroupChange;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RemoveMemberRequest {
    group: String,
    member: String,
}

/// Checks the request's shape and values (400, 413, 415) without touching
/// the database; returns the group and the member.
pub fn parse(request: &Request) -> Result<(GroupId, Identifier), ApiError> {
    let body: RemoveMemberRequest = json_body(request)?;
    Ok((GroupId::parse("group", &body.group)?, Identifier::parse("member", &body.member)?))
}

pub const IF_OUTCOME_UNKNOWN: &str = "the member may have been removed. Check with group_members before you \
     retry";

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(app, &request).await?;
    let (group, member) = parse(&request)?;
    if member == caller.login {
        return Err(ApiError::bad_request("member must be someone else: to leave the group, use leave_group"));
    }
    match app.store.remove_member(&group, &caller.login, &member).await? {
        GroupChange::NotAMember => Err(ApiError::NotFound(format!("{member} is not a member of this group"))),
        change => {
            changed(change, &group, "remove members")?;
            let removed = format!("{member} was removed from the group");
            Ok(json_response(StatusCode::OK, &json!({"OK": removed, "group": group, "member": member})))
        }
    }
}
