//! `GET /groups`: the caller's groups, most recently active first, each
//! with how many messages of others the caller has not read.

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
    let rows: Vec<_> = app
        .store
        .groups_of(&caller.login)
        .await?
        .into_iter()
        .map(|row| {
            json!({"group": row.group, "name": row.name, "last_message_at": row.last_message_at,
                   "new_messages": row.new_messages})
        })
        .collect();
    Ok(json_response(StatusCode::OK, &json!({ "groups": rows })))
}
