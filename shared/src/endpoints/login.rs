//! `POST /login`: exchanges a login and password for a new token.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use crate::app::App;
use crate::auth::{issue_token, verify_password};
use crate::error::ApiError;
use crate::http::{json_body, json_response};
use crate::model::Identifier;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    login: String,
    password: String,
}

/// A login request: its shape is checked, its values are the credentials'
/// business.
pub fn parse(request: &Request) -> Result<LoginRequest, ApiError> {
    json_body(request)
}

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let body = parse(&request)?;
    // A login that could not exist gets the same answer as a wrong password,
    // so the response never tells which logins exist.
    let user = match Identifier::parse("login", &body.login) {
        Ok(login) => app.store.user(&login).await?,
        Err(_) => None,
    };
    let stored_hash = user.as_ref().and_then(|user| user.password_hash.as_deref());
    let verified = verify_password(&body.password, stored_hash);
    let Some(user) = user.filter(|_| verified) else {
        return Err(ApiError::Unauthorized("invalid login or password".into()));
    };
    let issued = issue_token(&user.login, app.config.token_ttl_seconds);
    app.store.put_token(&issued.record).await?;
    Ok(json_response(StatusCode::OK, &json!({"token": issued.token, "expires_at": issued.record.expires_at})))
}
