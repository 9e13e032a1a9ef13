//! `PUT /fetch_messages`: a mailbox's history, oldest first, without
//! touching what counts as new. Three views: a `start`/`stop` slice by
//! position, a `period` paged with `next`, or the recent view (the newest
//! `limit` messages of the last 30 days). With `read`, every view holds
//! only the read (or only the unread) messages. With `group`, the views are
//! of the group's messages since the caller joined it.

mod page_token;
mod slice;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::group_requests::no_group;
use super::MailboxNamed;
use crate::app::App;
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::http::{json_body, json_response};
use crate::model::{page_limit, GroupId, Identifier, Message, ShownMessage, Timestamp};
use crate::reply::{leading_fit, MAX_REPLY_BYTES};
use crate::store::{GroupReadState, MailboxRange, Positions};
use page_token::{decode_next, encode_next};
use slice::{check_filtered_bounds, check_slice, check_slice_fits, plan_slice, read_slice};

pub const MAX_SLICE_POSITIONS: usize = 1000;
/// How far from either end a slice with `read` may reach: its skipped and
/// counted positions are read as messages (see `slice.rs`).
pub const MAX_FILTERED_SLICE_BOUND: i64 = 2000;
pub const RECENT_DAYS: i64 = 30;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FetchRequest {
    recipient: Option<String>,
    sender: Option<String>,
    group: Option<String>,
    period_start: Option<String>,
    period_end: Option<String>,
    start: Option<i64>,
    stop: Option<i64>,
    limit: Option<i64>,
    next: Option<String>,
    read: Option<bool>,
}

/// A fetch_messages request whose shape and values are checked.
#[derive(Debug)]
pub struct FetchInput {
    pub mailbox: MailboxNamed,
    /// A group's history instead of a mailbox's.
    pub group: Option<GroupId>,
    pub period_start: Option<Timestamp>,
    pub period_end: Option<Timestamp>,
    /// `start` and `stop` when the request slices.
    pub slice: Option<(i64, Option<i64>)>,
    pub limit: usize,
    pub next: Option<String>,
    /// Only the read messages (`true`) or only the unread ones (`false`).
    pub read: Option<bool>,
}

/// Checks the request's shape and values (400, 413, 415) without touching
/// the database; `next` is checked against the query once the caller is known.
pub fn parse(request: &Request) -> Result<FetchInput, ApiError> {
    let body: FetchRequest = json_body(request)?;
    let mailbox = MailboxNamed::parse(body.recipient.as_deref(), body.sender.as_deref())?;
    let group = body.group.as_deref().map(|group| GroupId::parse("group", group)).transpose()?;
    let period_start = body.period_start.as_deref().map(|t| Timestamp::parse("period_start", t)).transpose()?;
    let period_end = body.period_end.as_deref().map(|t| Timestamp::parse("period_end", t)).transpose()?;
    if let (Some(start), Some(end)) = (period_start, period_end) {
        if start > end {
            return Err(ApiError::bad_request("period_start must not be after period_end"));
        }
    }
    let slicing = body.start.is_some() || body.stop.is_some();
    if slicing && body.next.is_some() {
        return Err(ApiError::bad_request("next pages a period and cannot be combined with start/stop"));
    }
    if slicing && body.limit.is_some() {
        return Err(ApiError::bad_request("limit does not apply to start/stop slices, which select positions"));
    }
    let limit = page_limit(body.limit)?;
    let slice = slicing.then(|| (body.start.unwrap_or(0), body.stop));
    if let Some((start, stop)) = slice {
        check_slice(&plan_slice(start, stop))?;
        if body.read.is_some() {
            check_filtered_bounds(start, stop)?;
        }
    }
    Ok(FetchInput { mailbox, group, period_start, period_end, slice, limit, next: body.next, read: body.read })
}

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(app, &request).await?;
    let FetchInput {
        mailbox: MailboxNamed { recipient, sender },
        group,
        period_start,
        period_end,
        slice,
        limit,
        next,
        read,
    } = parse(&request)?;
    let recipient = recipient.unwrap_or_else(|| caller.login.clone());
    if group.is_some() && recipient != caller.login {
        return Err(ApiError::Forbidden(format!(
            "a group's history is its members' own: leave out recipient, or name yourself ({})",
            caller.login
        )));
    }
    let group_state = match &group {
        Some(group) => Some(app.store.group_read_state(&caller.login, group).await?.ok_or_else(|| no_group(group))?),
        None => None,
    };
    // A member's history starts after their join.
    let from = match group_state.as_ref().and_then(GroupReadState::first_after_join) {
        Some(first) => Some(period_start.map_or(first, |start| start.max(first))),
        None => period_start,
    };
    let range =
        MailboxRange { recipient: &recipient, group: group.as_ref(), sender: sender.as_ref(), from, to: period_end };
    let resume_at = next.as_deref().map(|next| decode_next(next, &range, read, limit)).transpose()?;
    if recipient != caller.login && sender.as_ref() != Some(&caller.login) {
        return Err(ApiError::Forbidden(format!(
            "you may read your own mailbox, or what you sent to {recipient} with \"sender\": \"{}\"",
            caller.login
        )));
    }
    let flags = match &group_state {
        Some(state) => Flags::Group(state),
        None => Flags::Mailbox(&recipient),
    };

    let (messages, next) = if let Some((start, stop)) = slice {
        let messages = read_slice(app, range, read, plan_slice(start, stop), (start, stop)).await?;
        let shown = show(app, flags, messages, read).await?;
        check_slice_fits(&shown)?;
        (shown, None)
    } else if period_start.is_some() || period_end.is_some() || resume_at.is_some() {
        let from = resume_at.or(range.from);
        let messages = read_view(app, MailboxRange { from, ..range }, read, false, limit + 1).await?;
        let mut shown = show(app, flags, messages, read).await?;
        let fit = leading_fit(&shown[..shown.len().min(limit)], MAX_REPLY_BYTES);
        let next = (shown.len() > fit).then(|| {
            shown.truncate(fit);
            encode_next(shown[fit - 1].message.timestamp, &range, read, limit)
        });
        (shown, next)
    } else {
        let month_ago = Timestamp::now().minus_days(RECENT_DAYS);
        let recent = MailboxRange { from: Some(range.from.map_or(month_ago, |from| from.max(month_ago))), ..range };
        // Newest first, so a cut by size keeps the newest.
        let messages = read_view(app, recent, read, true, limit).await?;
        let mut shown = show(app, flags, messages, read).await?;
        shown.truncate(leading_fit(&shown, MAX_REPLY_BYTES));
        shown.reverse();
        (shown, None)
    };
    Ok(json_response(StatusCode::OK, &json!({"messages": messages, "next": next})))
}

/// Up to `take` messages of the range from its oldest (its newest with
/// `newest_first`): of all of them, or only of the read or the unread ones.
async fn read_view(
    app: &App,
    range: MailboxRange<'_>,
    read: Option<bool>,
    newest_first: bool,
    take: usize,
) -> Result<Vec<Message>, ApiError> {
    Ok(match read {
        None => app.store.read_mailbox(range, newest_first, take, MAX_REPLY_BYTES).await?,
        Some(read) => {
            let positions = Positions { newest_first, skip: 0, take };
            app.store.read_filtered(range, read, positions, MAX_REPLY_BYTES).await?
        }
    })
}

/// Where the read flags of a history come from.
#[derive(Clone, Copy)]
enum Flags<'a> {
    /// A recipient's mailbox: each pair's read horizon.
    Mailbox(&'a Identifier),
    /// A group: the member's read state in it, read already.
    Group(&'a GroupReadState),
}

/// `messages` with their read flags. With a `read` filter each flag is the
/// filter's, which the filter decided from the read horizons it read; in a
/// group, from the member's read state; else from the horizons of the
/// messages' senders (one batch read of those pairs' read sides, none when
/// there is no message).
async fn show(
    app: &App,
    flags: Flags<'_>,
    messages: Vec<Message>,
    filter: Option<bool>,
) -> Result<Vec<ShownMessage>, ApiError> {
    if let Some(read) = filter {
        return Ok(messages.into_iter().map(|message| ShownMessage { message, read }).collect());
    }
    let recipient = match flags {
        Flags::Mailbox(recipient) => recipient,
        Flags::Group(state) => {
            let shown = messages.into_iter().map(|message| ShownMessage { read: state.has_read(&message), message });
            return Ok(shown.collect());
        }
    };
    let mut senders: Vec<Identifier> = messages.iter().map(|message| message.sender.clone()).collect();
    senders.sort();
    senders.dedup();
    let horizons = app.store.read_horizons(recipient, &senders).await?;
    Ok(messages
        .into_iter()
        .map(|message| {
            let through = horizons.get(&message.sender).copied();
            ShownMessage::new(message, through)
        })
        .collect())
}
