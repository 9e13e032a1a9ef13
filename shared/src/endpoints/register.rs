//! `POST /register`: creates a user and returns their first token. Each
//! attempt counts against its source address's rate limit; over it, a 429.

use lambda_http::http::StatusCode;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Deserialize;
use serde_json::json;

use super::within_rate;
use crate::app::App;
use crate::auth::{hash_password, issue_token, validate_password};
use crate::error::ApiError;
use crate::http::{json_body, json_response};
use crate::model::Identifier;
use crate::store::{RateLimit, UserRecord};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterRequest {
    login: String,
    password: Option<String>,
}

/// A register request whose shape and values are checked.
#[derive(Debug)]
pub struct RegisterInput {
    pub login: Identifier,
    pub password: Option<String>,
}

/// Checks the request's shape and values (400, 413, 415) without touching
/// the database.
pub fn parse(request: &Request) -> Result<RegisterInput, ApiError> {
    let body: RegisterRequest = json_body(request)?;
    let login = Identifier::parse("login", &body.login)?;
    if let Some(password) = &body.password {
        validate_password(password)?;
    }
    Ok(RegisterInput { login, password: body.password })
}

/// The user may exist, holding a token the client never received.
pub const IF_OUTCOME_UNKNOWN: &str = "the user may have been created. To retry safely, send the same request \
     again: with a password, a 409 then means it was created, and /login gives a token; without one, a 409 means \
     its token was lost, so register under another login";

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let RegisterInput { login, password } = parse(&request)?;
    // Before the password's hash, which is the costly part.
    rate(app, &request).await?;
    let password_hash = password.as_deref().map(hash_password).transpose()?;
    let issued = issue_token(&login, app.config.token_ttl_seconds);
    let user = UserRecord { login: login.clone(), password_hash };
    if !app.store.create_user(&user, &issued.record).await? {
        return Err(ApiError::Conflict(format!("login {login} is already taken")));
    }
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"OK": format!("created user with login {login}"), "login": login, "token": issued.token}),
    ))
}

/// The address API Gateway saw the request come from (`sourceIp`). A
/// request from elsewhere (a handler called in-process) has none.
fn source_address(request: &Request) -> Option<&str> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(context) => context.http.source_ip.as_deref(),
        _ => None,
    }
}

/// Counts this attempt against its source address's limit (per hour); a
/// request without an address is not counted.
async fn rate(app: &App, request: &Request) -> Result<(), ApiError> {
    let Some(address) = source_address(request) else {
        return Ok(());
    };
    let per_hour = app.config.registrations_per_hour;
    let what = format!("{per_hour} registrations an hour from one address is the limit, and no user was created");
    within_rate(app, RateLimit::registrations_per_hour(per_hour), address, what).await
}
