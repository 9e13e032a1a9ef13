//! `GET /blocked`: the logins the caller blocked, in login order.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::{parse_no_fields, NoFields};
use crate::app::App;
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::http::json_response;

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(app, &request).await?;
    let NoFields {} = parse_no_fields(&request)?;
    let blocked = app.store.blocked(&caller.login).await?;
    Ok(json_response(StatusCode::OK, &json!({ "blocked": blocked })))
}
