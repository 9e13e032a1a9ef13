//! One module per endpoint: its request shape, its checks in the contract's
//! order (401, 400, 403, 404/409) and its response.

pub mod add_members;
pub mod block;
pub mod blocked;
pub mod conversations;
pub mod create_group;
pub mod delete_conversation;
pub mod delete_message;
pub mod delete_messages;
pub mod fetch_messages;
pub mod fetch_new_messages;
pub mod group_members;
mod group_requests;
pub mod groups;
mod idempotency;
pub mod leave_group;
pub mod login;
pub mod logout;
mod long_poll;
pub mod mark_read;
pub mod realtime_ticket;
pub mod register;
pub mod remove_member;
pub mod send_message;
pub mod unblock;

use lambda_http::Request;
use serde::Deserialize;

use crate::app::App;
use crate::error::ApiError;
use crate::http::json_body;
use crate::model::{GroupId, Identifier, Timestamp};
use crate::store::{DeleteOutcome, RateLimit, Rated};

/// The body of endpoints that take none: absent, or `{}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoFields {}

/// Checks that a request to an endpoint without fields carries none.
pub fn parse_no_fields(request: &Request) -> Result<NoFields, ApiError> {
    json_body(request)
}

/// The body of block and unblock: the other user.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginNamed {
    login: String,
}

/// Checks a `{"login"}` body (400, 413, 415) without touching the database.
pub fn parse_login(request: &Request) -> Result<Identifier, ApiError> {
    let body: LoginNamed = json_body(request)?;
    Identifier::parse("login", &body.login)
}

/// Where a message is: in one user's mailbox, or in a group's.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageTarget {
    Recipient(Identifier),
    Group(GroupId),
}

impl MessageTarget {
    /// Exactly one of `recipient` and `group` (400 otherwise).
    fn parse(recipient: Option<String>, group: Option<String>) -> Result<Self, ApiError> {
        match (recipient, group) {
            (Some(recipient), None) => Ok(Self::Recipient(Identifier::parse("recipient", &recipient)?)),
            (None, Some(group)) => Ok(Self::Group(GroupId::parse("group", &group)?)),
            (Some(_), Some(_)) => Err(ApiError::bad_request("give either recipient or group, not both")),
            (None, None) => Err(ApiError::bad_request("missing field `recipient` (or `group`, for a group)")),
        }
    }
}

/// The mailbox a read names: whose (`recipient`, else the caller's), and
/// of which sender only, if any.
#[derive(Debug)]
pub struct MailboxNamed {
    pub recipient: Option<Identifier>,
    pub sender: Option<Identifier>,
}

impl MailboxNamed {
    fn parse(recipient: Option<&str>, sender: Option<&str>) -> Result<Self, ApiError> {
        Ok(Self {
            recipient: recipient.map(|r| Identifier::parse("recipient", r)).transpose()?,
            sender: sender.map(|s| Identifier::parse("sender", s)).transpose()?,
        })
    }
}

/// What a 503 tells the client of `endpoint` when a change may already have
/// been written: what may have happened and how to retry safely.
pub fn if_outcome_unknown(endpoint: &str) -> &'static str {
    match endpoint {
        "register" => register::IF_OUTCOME_UNKNOWN,
        "send_message" => send_message::IF_OUTCOME_UNKNOWN,
        "fetch_new_messages" => fetch_new_messages::IF_OUTCOME_UNKNOWN,
        "delete_message" => delete_message::IF_OUTCOME_UNKNOWN,
        "delete_messages" => delete_messages::IF_OUTCOME_UNKNOWN,
        "mark_read" => mark_read::IF_OUTCOME_UNKNOWN,
        "delete_conversation" => delete_conversation::IF_OUTCOME_UNKNOWN,
        "block" | "unblock" => block::IF_OUTCOME_UNKNOWN,
        "create_group" => create_group::IF_OUTCOME_UNKNOWN,
        "add_members" => add_members::IF_OUTCOME_UNKNOWN,
        "remove_member" => remove_member::IF_OUTCOME_UNKNOWN,
        "leave_group" => leave_group::IF_OUTCOME_UNKNOWN,
        // The other endpoints write no transaction.
        _ => "the request may have changed something; check before you retry it",
    }
}

/// Deletes `sender`'s messages at `timestamps` to a recipient or in a
/// group, as `caller` may: a message between two users by either of them
/// (else 403), a group message by its sender or the group's admin (403),
/// a member of the group (else 404).
async fn delete_from(
    app: &App,
    caller: &Identifier,
    sender: &Identifier,
    target: &MessageTarget,
    timestamps: &[Timestamp],
) -> Result<DeleteOutcome, ApiError> {
    match target {
        MessageTarget::Recipient(recipient) => {
            if caller != sender && caller != recipient {
                return Err(ApiError::Forbidden(format!(
                    "you ({caller}) may only delete messages you sent or received"
                )));
            }
            Ok(app.store.delete_messages(recipient, sender, timestamps).await?)
        }
        MessageTarget::Group(group) => {
            let change = app.store.delete_group_messages(group, caller, sender, timestamps).await?;
            group_requests::changed(change, group, "delete other members' messages")
        }
    }
}

/// Blocking is about another registered user: not the caller (400), not
/// a login nobody holds (404).
async fn require_known_other(app: &App, caller: &Identifier, login: &Identifier) -> Result<(), ApiError> {
    if login == caller {
        return Err(ApiError::bad_request("login must be another user's, not yours"));
    }
    if app.store.user(login).await?.is_none() {
        return Err(ApiError::NotFound(format!("{login} is not a registered user")));
    }
    Ok(())
}

/// Counts a request by `subject` against `limit`: over it, a 429 that says
/// which limit (`what`) refused it and when to retry; nothing else is done.
async fn within_rate(app: &App, limit: RateLimit, subject: &str, what: String) -> Result<(), ApiError> {
    // Boxed: nested in a handler's future, it took the compiler's layout
    // queries past their depth limit.
    match Box::pin(app.store.rate(limit, subject)).await? {
        Rated::Allowed => Ok(()),
        Rated::Limited { retry_after } => Err(ApiError::TooManyRequests { message: what, retry_after }),
    }
}
