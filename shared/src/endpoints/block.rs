//! `POST /block`: the named user's sends to the caller are refused with a
//! 403 from now on; nothing else changes (what they sent stays, and the
//! caller may still write to them).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::{parse_login, require_known_other};
use crate::app::App;
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::http::json_response;

pub const IF_OUTCOME_UNKNOWN: &str = "the change may have been made. Retrying is safe: blocking or unblocking \
     again leaves the same state";

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(app, &request).await?;
    let login = parse_login(&request)?;
    require_known_other(app, &caller.login, &login).await?;
    app.store.block(&caller.login, &login).await?;
    Ok(json_response(StatusCode::OK, &json!({"OK": format!("{login} is blocked"), "login": login})))
}
