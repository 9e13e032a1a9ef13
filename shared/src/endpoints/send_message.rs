//! `POST /send_message`: stores a message from the caller to a registered
//! recipient, or to a group the caller is a member of; with an `Idempotency-Key`, a repeated request is answered
//! with the first response and stores nothing. Each new send counts
//! against the sender's rate limit (a replay does not); over it, a 429.

use std::sync::atomic::{AtomicBool, Ordering};

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::group_requests::no_group;
use super::idempotency::{self, Idempotent};
use super::within_rate;
use super::MessageTarget;
use crate::app::{App, Config};
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::http::{idempotency_key, json_body, json_response};
use crate::model::{validate_message_text, Identifier, Timestamp};
use crate::store::{GroupSendOutcome, IdempotencyClaim, RateLimit, Recorded, SendOutcome, StoreError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SendRequest {
    sender: Option<String>,
    recipient: Option<String>,
    group: Option<String>,
    message: String,
}

/// A send_message request whose shape and values are checked.
#[derive(Debug)]
pub struct SendInput {
    pub sender: Option<Identifier>,
    pub target: MessageTarget,
    pub message: String,
    pub idempotency_key: Option<String>,
}

/// Checks the request's shape and values (400, 413, 415) without touching
/// the database.
pub fn parse(request: &Request, config: &Config) -> Result<SendInput, ApiError> {
    let idempotency_key = idempotency_key(request.headers())?;
    let body: SendRequest = json_body(request)?;
    let sender = body.sender.as_deref().map(|s| Identifier::parse("sender", s)).transpose()?;
    let target = MessageTarget::parse(body.recipient, body.group)?;
    validate_message_text(&body.message, config.max_message_chars)?;
    Ok(SendInput { sender, target, message: body.message, idempotency_key })
}

pub const IF_OUTCOME_UNKNOWN: &str = "the message may have been sent. To retry safely, send the request again \
     with the same Idempotency-Key; without one, check with fetch_messages whether it arrived before sending it again";

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(app, &request).await?;
    let SendInput { sender, target, message, idempotency_key } = parse(&request, &app.config)?;
    if sender.is_some_and(|sender| sender != caller.login) {
        return Err(ApiError::Forbidden(format!("sender must be the caller: you are logged in as {}", caller.login)));
    }

    let claim = idempotency::claim(
        "send_message",
        &caller.login,
        idempotency_key,
        match &target {
            MessageTarget::Recipient(recipient) => json!({"recipient": recipient, "message": message}),
            MessageTarget::Group(group) => json!({"group": group, "message": message}),
        },
    );
    let sending =
        Sending { app, sender: &caller.login, target: &target, message: &message, rated: AtomicBool::new(false) };
    let timestamp = idempotency::once(claim.as_ref(), sending).await?;
    Ok(json_response(StatusCode::CREATED, &json!({"OK": "message sent successfully", "timestamp": timestamp})))
}

/// A send, made at most once per Idempotency-Key.
struct Sending<'a> {
    app: &'a App,
    sender: &'a Identifier,
    target: &'a MessageTarget,
    message: &'a str,
    /// Whether this request was counted against the sender's rate limit:
    /// once, even if a twin request's record sends it round again.
    rated: AtomicBool,
}

impl Sending<'_> {
    /// Counts this send against the sender's limit (per minute), which a
    /// full window refuses with a 429 before anything is stored.
    async fn rate(&self) -> Result<(), ApiError> {
        if self.rated.swap(true, Ordering::Relaxed) {
            return Ok(());
        }
        let per_minute = self.app.config.send_rate_per_minute;
        let what = format!("{per_minute} sends a minute is this sender's limit, and nothing was sent");
        within_rate(self.app, RateLimit::sends_per_minute(per_minute), self.sender.as_str(), what).await
    }
}

impl Idempotent for Sending<'_> {
    type Response = Timestamp;

    async fn earlier(&self, claim: &IdempotencyClaim) -> Result<Option<Recorded<Timestamp>>, StoreError> {
        self.app.store.earlier_send(claim).await
    }

    async fn act(&self, claim: Option<&IdempotencyClaim>) -> Result<Option<Timestamp>, ApiError> {
        // Only a send about to be stored counts: not a replay, which
        // `earlier` answered.
        self.rate().await?;
        let store = &self.app.store;
        let recipient = match self.target {
            MessageTarget::Recipient(recipient) => recipient,
            MessageTarget::Group(group) => {
                return match store.send_to_group(self.sender, group, self.message, claim).await? {
                    GroupSendOutcome::Sent(timestamp) => Ok(Some(timestamp)),
                    GroupSendOutcome::NoGroup => Err(no_group(group)),
                    GroupSendOutcome::IdempotencyKeyUsed => Ok(None),
                };
            }
        };
        match store.send_message(self.sender, recipient, self.message, claim).await? {
            SendOutcome::Sent(timestamp) => Ok(Some(timestamp)),
            SendOutcome::RecipientUnknown => {
                Err(ApiError::NotFound(format!("recipient {recipient} is not a registered user")))
            }
            SendOutcome::Blocked => Err(ApiError::Forbidden(format!("{recipient} does not accept messages from you"))),
            SendOutcome::IdempotencyKeyUsed => Ok(None),
        }
    }
}
