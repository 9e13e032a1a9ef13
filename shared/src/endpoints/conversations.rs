//! `GET /conversations`: one row per sender who ever wrote to the caller,
//! newest first, with how many of their messages are still new; a row the
//! caller cleared with delete_conversation comes back with the next message.

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
    let mut pairs = app.store.pairs(&caller.login).await?;
    pairs.retain(|pair| pair.is_listed());
    pairs.sort_by(|a, b| b.last_message_at.cmp(&a.last_message_at).then_with(|| a.sender.cmp(&b.sender)));
    let rows: Vec<_> = pairs
        .iter()
        .map(|pair| {
            json!({"with": pair.sender, "last_message_at": pair.last_message_at, "new_messages": pair.new_messages})
        })
        .collect();
    Ok(json_response(StatusCode::OK, &json!({ "conversations": rows })))
}
