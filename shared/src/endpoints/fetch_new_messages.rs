//! `PUT /fetch_new_messages`: the caller's messages that no earlier call
//! returned, oldest first, each returned once; with `group`, that group's
//! messages (`sender` then picks one member's). With an `Idempotency-Key`,
//! a retry gets the same batch again, so a lost response loses nothing.
//! With `wait`, a request that finds nothing new waits for a message (see
//! `long_poll.rs`); a wait that ends empty records nothing under its key
//! (an empty answer lost loses nothing), so a retry with the key waits again.

use std::time::Duration;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::group_requests::no_group;
use super::idempotency::{self, Idempotent};
use super::long_poll;
use super::MailboxNamed;
use crate::app::App;
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::http::{idempotency_key, json_body, json_response};
use crate::model::{page_limit, GroupId, Identifier};
use crate::store::{FetchNewOutcome, FetchedBatch, GroupFetchOutcome, IdempotencyClaim, Recorded, StoreError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FetchNewRequest {
    recipient: Option<String>,
    sender: Option<String>,
    group: Option<String>,
    limit: Option<i64>,
    wait: Option<i64>,
}

/// A fetch_new_messages request whose shape and values are checked.
#[derive(Debug)]
pub struct FetchNewInput {
    pub mailbox: MailboxNamed,
    /// Only this group's messages, if given.
    pub group: Option<GroupId>,
    pub limit: usize,
    pub wait: Duration,
    pub idempotency_key: Option<String>,
}

/// Checks the request's shape and values (400, 413, 415) without touching
/// the database.
pub fn parse(request: &Request) -> Result<FetchNewInput, ApiError> {
    let idempotency_key = idempotency_key(request.headers())?;
    let body: FetchNewRequest = json_body(request)?;
    let mailbox = MailboxNamed::parse(body.recipient.as_deref(), body.sender.as_deref())?;
    let group = body.group.as_deref().map(|group| GroupId::parse("group", group)).transpose()?;
    let limit = page_limit(body.limit)?;
    let wait = long_poll::wait_seconds(body.wait)?;
    Ok(FetchNewInput { mailbox, group, limit, wait, idempotency_key })
}

pub const IF_OUTCOME_UNKNOWN: &str = "a batch may have been fetched, and its messages would no longer be new. \
     To retry safely, send the request again with the same Idempotency-Key, which returns that batch; without one, \
     read the mailbox with fetch_messages to find messages that fetch_new_messages may not return again";

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(app, &request).await?;
    let FetchNewInput { mailbox: MailboxNamed { recipient, sender }, group, limit, wait, idempotency_key } =
        parse(&request)?;
    if recipient.is_some_and(|recipient| recipient != caller.login) {
        return Err(ApiError::Forbidden(format!(
            "only the recipient fetches new messages: you are logged in as {}",
            caller.login
        )));
    }

    // `wait` is not part of the request a key names: it changes when the
    // batch comes, not which one.
    let claim = idempotency::claim(
        "fetch_new_messages",
        &caller.login,
        idempotency_key,
        match &group {
            Some(group) => json!({"sender": sender, "group": group, "limit": limit}),
            None => json!({"sender": sender, "limit": limit}),
        },
    );
    let fetching =
        Fetching { app, recipient: &caller.login, sender: sender.as_ref(), group: group.as_ref(), limit, wait };
    let batch = idempotency::once(claim.as_ref(), fetching).await?;
    Ok(json_response(StatusCode::OK, &json!({"messages": batch.messages, "more": batch.more})))
}

/// A fetch, made at most once per Idempotency-Key.
struct Fetching<'a> {
    app: &'a App,
    recipient: &'a Identifier,
    sender: Option<&'a Identifier>,
    group: Option<&'a GroupId>,
    limit: usize,
    wait: Duration,
}

impl Idempotent for Fetching<'_> {
    type Response = FetchedBatch;

    async fn earlier(&self, claim: &IdempotencyClaim) -> Result<Option<Recorded<FetchedBatch>>, StoreError> {
        match self.group {
            Some(group) => self.app.store.earlier_group_fetch(self.recipient, group, claim).await,
            None => self.app.store.earlier_fetch(self.recipient, claim).await,
        }
    }

    async fn act(&self, claim: Option<&IdempotencyClaim>) -> Result<Option<FetchedBatch>, ApiError> {
        if let Some(group) = self.group {
            let store = &self.app.store;
            if !self.wait.is_zero() {
                let check = || async {
                    let pending = store.group_may_have_new(self.recipient, group).await?;
                    pending.ok_or_else(|| no_group(group))
                };
                if !long_poll::until(self.wait, check).await? {
                    return Ok(Some(FetchedBatch { messages: Vec::new(), more: false }));
                }
            }
            return match store.fetch_new_in_group(self.recipient, group, self.sender, self.limit, claim).await? {
                GroupFetchOutcome::Fetched(batch) => Ok(Some(batch)),
                GroupFetchOutcome::NoGroup => Err(no_group(group)),
                GroupFetchOutcome::IdempotencyKeyUsed => Ok(None),
            };
        }
        if !self.wait.is_zero() {
            let check = || self.app.store.may_have_new(self.recipient, self.sender);
            if !long_poll::until(self.wait, check).await? {
                return Ok(Some(FetchedBatch { messages: Vec::new(), more: false }));
            }
        }
        match self.app.store.fetch_new(self.recipient, self.sender, self.limit, claim).await? {
            FetchNewOutcome::Fetched(batch) => Ok(Some(batch)),
            FetchNewOutcome::IdempotencyKeyUsed => Ok(None),
        }
    }
}
