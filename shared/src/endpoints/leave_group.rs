//! `POST /leave_group`: the caller leaves a group; an admin who leaves
//! others behind hands it to the member who joined first.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::group_requests::changed;
/// Checks the request's shape and values (400, 413, 415) without touching
/// the database; returns the group.
pub use super::group_requests::parse_group_named as parse;
use crate::app::App;
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::http::json_response;

pub const IF_OUTCOME_UNKNOWN: &str = "you may have left the group. Check with GET /groups before you retry";

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(app, &request).await?;
    let group = parse(&request)?;
    changed(app.store.leave_group(&group, &caller.login).await?, &group, "leave")?;
    Ok(json_response(StatusCode::OK, &json!({"OK": "you left the group", "group": group})))
}
