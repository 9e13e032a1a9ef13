//! `POST /unblock`: the named user may send to the caller again.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::{parse_login, require_known_other};
use crate::app::App;
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::http::json_response;

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(app, &request).await?;
    let login = parse_login(&request)?;
    require_known_other(app, &caller.login, &login).await?;
    app.store.unblock(&caller.login, &login).await?;
    Ok(json_response(StatusCode::OK, &json!({"OK": format!("{login} is not blocked"), "login": login})))
}
