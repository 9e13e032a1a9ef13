//! `POST /realtime_ticket`: a single-use ticket for opening the WebSocket,
//! so that the bearer token never travels in a URL.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use super::{parse_no_fields, NoFields};
use crate::app::App;
use crate::auth::{authenticate, issue_ticket};
use crate::error::ApiError;
use crate::http::json_response;

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(app, &request).await?;
    let NoFields {} = parse_no_fields(&request)?;
    let url =
        app.config.websocket_url.as_deref().ok_or_else(|| ApiError::Internal("WEBSOCKET_URL is not set".into()))?;
    let issued = issue_ticket();
    app.store.put_ticket(&issued.hash, &caller.login, issued.expires_at).await?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"ticket": issued.ticket, "expires_at": issued.expires_at, "url": url}),
    ))
}
