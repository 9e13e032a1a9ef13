//! `PUT /group_members`: a group's name, admin and members, for its members.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::group_requests::no_group;
/// Checks the request's shape and values (400, 413, 415) without touching
/// the database; returns the group.
pub use super::group_requests::parse_group_named as parse;
use crate::app::App;
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::http::json_response;

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(app, &request).await?;
    let group = parse(&request)?;
    let view = app.store.group_view(&group, &caller.login).await?.ok_or_else(|| no_group(&group))?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"group": view.group, "name": view.name, "admin": view.admin, "members": view.members}),
    ))
}
