//! What the group endpoints share: reading a group id and a list of
//! members from a request, checking that named users exist, and the
//! answers to a refused change of membership. A caller who is not a member
//! gets the same 404 as for a group that does not exist.

use lambda_http::Request;
use serde::Deserialize;

use crate::app::App;
use crate::error::ApiError;
use crate::http::json_body;
use crate::model::{GroupId, Identifier, MAX_GROUP_MEMBERS, MAX_MEMBERS_PER_REQUEST};
use crate::store::GroupChange;

/// The body of leave_group and group_members: the group.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupNamed {
    group: String,
}

/// Checks a `{"group"}` body (400, 413, 415) without touching the database.
pub fn parse_group_named(request: &Request) -> Result<GroupId, ApiError> {
    let body: GroupNamed = json_body(request)?;
    GroupId::parse("group", &body.group)
}

/// Logins to add to a group: each valid, at most
/// [`MAX_MEMBERS_PER_REQUEST`], at least `min`; repeats count once.
pub fn parse_members(values: &[String], min: usize) -> Result<Vec<Identifier>, ApiError> {
    if values.len() < min || values.len() > MAX_MEMBERS_PER_REQUEST {
        return Err(ApiError::bad_request(format!(
            "members must list {min} to {MAX_MEMBERS_PER_REQUEST} logins (got {}); add more with add_members",
            values.len()
        )));
    }
    let mut members = values.iter().map(|v| Identifier::parse("members", v)).collect::<Result<Vec<_>, _>>()?;
    members.sort();
    members.dedup();
    Ok(members)
}

/// 404 for the first of `logins` that no user holds.
pub async fn require_registered(app: &App, logins: &[Identifier]) -> Result<(), ApiError> {
    match app.store.unknown_users(logins).await?.first() {
        Some(unknown) => Err(unregistered(unknown)),
        None => Ok(()),
    }
}

fn unregistered(login: &Identifier) -> ApiError {
    ApiError::NotFound(format!("{login} is not a registered user"))
}

/// The 404 for a group the caller is not a member of, or that does not exist.
pub fn no_group(group: &GroupId) -> ApiError {
    ApiError::NotFound(format!("group {group} is not one of your groups"))
}

/// The outcome of a change of membership, or the error that refused it:
/// `action` says what only the admin may do ("add members").
pub fn changed<T>(change: GroupChange<T>, group: &GroupId, action: &str) -> Result<T, ApiError> {
    match change {
        GroupChange::Done(done) => Ok(done),
        GroupChange::NoGroup => Err(no_group(group)),
        GroupChange::NotAdmin => Err(ApiError::Forbidden(format!("only the group's admin may {action}"))),
        GroupChange::NotAMember => Err(ApiError::NotFound("that user is not a member of this group".into())),
        GroupChange::UnknownUser(login) => Err(unregistered(&login)),
        GroupChange::Full { members } => Err(ApiError::Conflict(format!(
            "a group holds at most {MAX_GROUP_MEMBERS} members, and this one has {members}"
        ))),
    }
}
