//! `PUT /fetch_messages`: a mailbox's history, oldest first, without
//! touching what counts as new. Three views: a `start`/`stop` slice by
//! position, a `period` paged with `next`, or the recent view (the newest
//! `limit` messages of the last 30 days).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::app::App;
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::http::{json_body, json_response};
use crate::model::{page_limit, Identifier, Message, Timestamp};
use crate::reply::{leading_fit, MAX_REPLY_BYTES};
use crate::store::MailboxRange;

pub const MAX_SLICE_POSITIONS: usize = 1000;
pub const RECENT_DAYS: i64 = 30;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FetchRequest {
    recipient: Option<String>,
    sender: Option<String>,
    period_start: Option<String>,
    period_end: Option<String>,
    start: Option<i64>,
    stop: Option<i64>,
    limit: Option<i64>,
    next: Option<String>,
}

/// The opaque `next` token: where the previous page ended, and a
/// fingerprint of the query it belongs to. Both are readable and a client
/// can rewrite them, so the fingerprint only catches a token sent with
/// other fields by mistake; what keeps a rewritten token inside its query
/// is that `after` must lie in the query's period (any such `after` gives
/// a page the client could ask for with `period_start` anyway). No server
/// secret is needed, so there is no key to keep or rotate on Lambda.
#[derive(Debug, Serialize, Deserialize)]
struct PageToken {
    after: Timestamp,
    query: String,
}

/// Everything that defines a page: whose messages, which period, how many.
fn query_fingerprint(range: &MailboxRange<'_>, limit: usize) -> String {
    let query = json!({
        "recipient": range.recipient, "sender": range.sender, "from": range.from, "to": range.to, "limit": limit,
    });
    let digest = Sha256::digest(query.to_string().as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..12])
}

fn encode_next(after: Timestamp, range: &MailboxRange<'_>, limit: usize) -> String {
    let token = PageToken { after, query: query_fingerprint(range, limit) };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).expect("token serializes"))
}

/// The first instant of the page that `next` asks for. `after` must lie in
/// the query's period and not be the latest instant (no page follows it);
/// deserializing it refuses a year past 9999.
fn decode_next(next: &str, range: &MailboxRange<'_>, limit: usize) -> Result<Timestamp, ApiError> {
    let invalid = || {
        ApiError::bad_request(
            "next is not a token this API issued for this query; send it back with the same other fields",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(next).map_err(|_| invalid())?;
    let token: PageToken = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let in_period = range.from.is_none_or(|from| from <= token.after) && range.to.is_none_or(|to| token.after <= to);
    if token.query != query_fingerprint(range, limit) || !in_period {
        return Err(invalid());
    }
    token.after.checked_next().ok_or_else(invalid)
}

/// How a `start`/`stop` slice is read without knowing the mailbox size,
/// when its signs allow.
#[derive(Debug, PartialEq)]
enum SlicePlan {
    /// Skip `skip` oldest, take `take`.
    Oldest { skip: usize, take: usize },
    /// Skip `skip` newest, take the `take` before them.
    Newest { skip: usize, take: usize },
    /// From `skip` to the end: at most the limit, which is checked.
    OldestToEnd { skip: usize },
    /// Mixed signs: the slice needs the number of messages in the window.
    NeedsTotal,
}

fn plan_slice(start: i64, stop: Option<i64>) -> SlicePlan {
    let positions = |n: i64| usize::try_from(n.max(0)).unwrap_or(usize::MAX);
    match (start, stop) {
        (start, Some(stop)) if start >= 0 && stop >= 0 => {
            SlicePlan::Oldest { skip: positions(start), take: positions(stop.saturating_sub(start)) }
        }
        (start, None) if start >= 0 => SlicePlan::OldestToEnd { skip: positions(start) },
        (start, None) => SlicePlan::Newest { skip: 0, take: positions(start.saturating_neg()) },
        (start, Some(stop)) if start < 0 && stop < 0 => {
            SlicePlan::Newest { skip: positions(stop.saturating_neg()), take: positions(stop.saturating_sub(start)) }
        }
        _ => SlicePlan::NeedsTotal,
    }
}

/// Python's reading of a slice bound against `total` items.
fn resolve_bound(index: i64, total: usize) -> usize {
    let total_i = i64::try_from(total).unwrap_or(i64::MAX);
    let resolved = if index < 0 { total_i.saturating_add(index).max(0) } else { index.min(total_i) };
    usize::try_from(resolved).unwrap_or(0)
}

fn too_many_positions() -> ApiError {
    ApiError::bad_request(format!(
        "start/stop select more than {MAX_SLICE_POSITIONS} positions; narrow the slice or page by period"
    ))
}

/// Refuses, from the request alone, a slice that is surely too wide.
fn check_slice(plan: &SlicePlan) -> Result<(), ApiError> {
    match plan {
        SlicePlan::Oldest { take, .. } | SlicePlan::Newest { take, .. } if *take > MAX_SLICE_POSITIONS => {
            Err(too_many_positions())
        }
        _ => Ok(()),
    }
}

/// Resolves a mixed-sign slice to positions from the oldest, counting no
/// more keys than can matter: with `start >= 0 > stop`, past `start + |stop|
/// + 1000` the slice is surely too wide; with `start < 0 <= stop`, past
/// `stop + |start|` it is surely empty.
async fn resolve_mixed_slice(
    app: &App,
    range: MailboxRange<'_>,
    (start, stop): (i64, Option<i64>),
) -> Result<SlicePlan, ApiError> {
    let stop = stop.unwrap_or(i64::MAX);
    let span = usize::try_from(start.unsigned_abs().saturating_add(stop.unsigned_abs())).unwrap_or(usize::MAX);
    let at_most = if start >= 0 { span.saturating_add(MAX_SLICE_POSITIONS + 1) } else { span };
    let total = app.store.count_positions(range, at_most).await?;
    let from = resolve_bound(start, total);
    let to = resolve_bound(stop, total);
    let plan = SlicePlan::Oldest { skip: from, take: to.saturating_sub(from) };
    check_slice(&plan)?;
    Ok(plan)
}

/// Reads a slice: skipped positions as keys only (`by_time`), then the
/// messages it returns; an empty slice reads nothing.
async fn read_slice(
    app: &App,
    range: MailboxRange<'_>,
    plan: SlicePlan,
    bounds: (i64, Option<i64>),
) -> Result<Vec<Message>, ApiError> {
    let plan = match plan {
        SlicePlan::NeedsTotal => resolve_mixed_slice(app, range, bounds).await?,
        plan => plan,
    };
    let (newest_first, skip, take) = match plan {
        SlicePlan::Oldest { skip, take } => (false, skip, take),
        SlicePlan::Newest { skip, take } => (true, skip, take),
        // One more than allowed shows that the slice is too wide.
        SlicePlan::OldestToEnd { skip } => (false, skip, MAX_SLICE_POSITIONS + 1),
        SlicePlan::NeedsTotal => unreachable!("resolved above"),
    };
    if take == 0 {
        return Ok(Vec::new());
    }
    let range = match (skip, newest_first) {
        (0, _) => range,
        (skip, false) => match app.store.skip_positions(range, false, skip).await? {
            Some(last_skipped) => MailboxRange { from: Some(last_skipped.next()), ..range },
            None => return Ok(Vec::new()),
        },
        (skip, true) => match app.store.skip_positions(range, true, skip).await? {
            Some(last_skipped) => MailboxRange { to: Some(last_skipped.previous()), ..range },
            None => return Ok(Vec::new()),
        },
    };
    let mut messages = app.store.read_reply_page(range, newest_first, take).await?;
    if messages.len() > MAX_SLICE_POSITIONS {
        return Err(too_many_positions());
    }
    let fit = leading_fit(&messages, MAX_REPLY_BYTES);
    if fit < messages.len() {
        return Err(ApiError::bad_request(format!(
            "the messages of this slice are more than one reply carries ({MAX_REPLY_BYTES} bytes); \
             only its first {fit} positions fit: ask for fewer positions, or page by period"
        )));
    }
    if newest_first {
        messages.reverse();
    }
    Ok(messages)
}

/// A fetch_messages request whose shape and values are checked.
#[derive(Debug)]
pub struct FetchInput {
    pub recipient: Option<Identifier>,
    pub sender: Option<Identifier>,
    pub period_start: Option<Timestamp>,
    pub period_end: Option<Timestamp>,
    /// `start` and `stop` when the request slices.
    pub slice: Option<(i64, Option<i64>)>,
    pub limit: usize,
    pub next: Option<String>,
}

/// Checks the request's shape and values (400, 413, 415) without touching
/// the database; `next` is checked against the query once the caller is known.
pub fn parse(request: &Request) -> Result<FetchInput, ApiError> {
    let body: FetchRequest = json_body(request)?;
    let recipient = body.recipient.as_deref().map(|r| Identifier::parse("recipient", r)).transpose()?;
    let sender = body.sender.as_deref().map(|s| Identifier::parse("sender", s)).transpose()?;
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
    }
    Ok(FetchInput { recipient, sender, period_start, period_end, slice, limit, next: body.next })
}

pub async fn handle(app: &App, request: Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(app, &request).await?;
    let FetchInput { recipient, sender, period_start, period_end, slice, limit, next } = parse(&request)?;
    let recipient = recipient.unwrap_or_else(|| caller.login.clone());
    let range = MailboxRange { recipient: &recipient, sender: sender.as_ref(), from: period_start, to: period_end };
    let resume_at = next.as_deref().map(|next| decode_next(next, &range, limit)).transpose()?;
    if recipient != caller.login && sender.as_ref() != Some(&caller.login) {
        return Err(ApiError::Forbidden(format!(
            "you may read your own mailbox, or what you sent to {recipient} with \"sender\": \"{}\"",
            caller.login
        )));
    }

    let (messages, next) = if let Some((start, stop)) = slice {
        (read_slice(app, range, plan_slice(start, stop), (start, stop)).await?, None)
    } else if period_start.is_some() || period_end.is_some() || resume_at.is_some() {
        let from = resume_at.or(period_start);
        let mut messages = app.store.read_reply_page(MailboxRange { from, ..range }, false, limit + 1).await?;
        let fit = leading_fit(&messages[..messages.len().min(limit)], MAX_REPLY_BYTES);
        let next = (messages.len() > fit).then(|| {
            messages.truncate(fit);
            encode_next(messages[fit - 1].timestamp, &range, limit)
        });
        (messages, next)
    } else {
        let recent = MailboxRange { from: Some(Timestamp::now().minus_days(RECENT_DAYS)), ..range };
        // Newest first, so a cut by size keeps the newest.
        let mut messages = app.store.read_reply_page(recent, true, limit).await?;
        messages.truncate(leading_fit(&messages, MAX_REPLY_BYTES));
        messages.reverse();
        (messages, None)
    };
    Ok(json_response(StatusCode::OK, &json!({"messages": messages, "next": next})))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan, applied to a list, must agree with Python's slicing.
    fn python_slice(items: &[i64], start: i64, stop: Option<i64>) -> Vec<i64> {
        let from = resolve_bound(start, items.len());
        let to = stop.map_or(items.len(), |stop| resolve_bound(stop, items.len()));
        items.get(from..to.max(from)).unwrap_or(&[]).to_vec()
    }

    fn apply(items: &[i64], start: i64, stop: Option<i64>) -> Vec<i64> {
        match plan_slice(start, stop) {
            SlicePlan::Oldest { skip, take } => items.iter().skip(skip).take(take).copied().collect(),
            SlicePlan::OldestToEnd { skip } => items.iter().skip(skip).copied().collect(),
            SlicePlan::Newest { skip, take } => {
                let mut picked: Vec<i64> = items.iter().rev().skip(skip).take(take).copied().collect();
                picked.reverse();
                picked
            }
            SlicePlan::NeedsTotal => python_slice(items, start, stop),
        }
    }

    #[test]
    fn slices_follow_python_semantics() {
        let items: Vec<i64> = (0..7).collect();
        assert_eq!(python_slice(&items, -3, None), vec![4, 5, 6]);
        assert_eq!(python_slice(&items, 2, Some(-2)), vec![2, 3, 4]);
        assert_eq!(python_slice(&items, -2, Some(100)), vec![5, 6]);
        assert_eq!(python_slice(&items, 5, Some(2)), Vec::<i64>::new());
        for start in -9..9 {
            for stop in (-9..9).map(Some).chain([None]) {
                assert_eq!(apply(&items, start, stop), python_slice(&items, start, stop), "[{start}:{stop:?}]");
            }
        }
    }

    fn at(text: &str) -> Timestamp {
        Timestamp::parse("t", text).unwrap()
    }

    #[test]
    fn next_tokens_page_only_the_query_they_came_from() {
        let (alice, bob) = (Identifier::parse("r", "alice").unwrap(), Identifier::parse("s", "bob").unwrap());
        let from = Some(at("2026-01-01T00:00:00Z"));
        let range = MailboxRange { recipient: &alice, sender: None, from, to: Some(at("2026-12-31T00:00:00Z")) };
        let token = encode_next(at("2026-06-01T00:00:00Z"), &range, 10);
        assert_eq!(decode_next(&token, &range, 10).unwrap(), at("2026-06-01T00:00:00.000001Z"));
        for (other, limit, why) in [
            (MailboxRange { recipient: &bob, ..range }, 10, "another recipient"),
            (MailboxRange { sender: Some(&bob), ..range }, 10, "another sender"),
            (MailboxRange { from: None, ..range }, 10, "another period_start"),
            (MailboxRange { to: None, ..range }, 10, "another period_end"),
            (range, 11, "another limit"),
        ] {
            assert_eq!(decode_next(&token, &other, limit).unwrap_err().status(), 400, "{why}");
        }
    }

    #[test]
    fn next_tokens_rewritten_outside_their_period_are_refused() {
        let alice = Identifier::parse("r", "alice").unwrap();
        let open = MailboxRange { recipient: &alice, sender: None, from: None, to: None };
        let period =
            MailboxRange { from: Some(at("2026-01-01T00:00:00Z")), to: Some(at("2026-12-31T00:00:00Z")), ..open };
        // A client can rewrite `after` and recompute the fingerprint.
        let rewritten = |range: &MailboxRange<'_>, after: &str| {
            let token = json!({"after": after, "query": query_fingerprint(range, 10)});
            decode_next(&URL_SAFE_NO_PAD.encode(token.to_string()), range, 10)
        };
        for (range, after, resumes_at) in [
            (period, "2026-01-01T00:00:00.000000Z", Some("2026-01-01T00:00:00.000001Z")),
            (period, "2026-12-31T00:00:00.000000Z", Some("2026-12-31T00:00:00.000001Z")),
            (period, "2025-12-31T23:59:59.999999Z", None),
            (period, "2026-12-31T00:00:00.000001Z", None),
            (period, "9999-12-31T23:59:59.999999Z", None),
            (open, "9999-12-31T23:59:59.999998Z", Some("9999-12-31T23:59:59.999999Z")),
            (open, "9999-12-31T23:59:59.999999Z", None),
            (open, "+10000-01-01T00:00:00.000000Z", None),
            (open, "10000-01-01T00:00:00.000000Z", None),
            (open, "0000-12-31T23:59:59.999999Z", None),
        ] {
            match (rewritten(&range, after), resumes_at) {
                (Ok(resumed), Some(expected)) => assert_eq!(resumed, at(expected), "{after}"),
                (Err(error), None) => assert_eq!(error.status(), 400, "{after}"),
                (outcome, expected) => panic!("{after}: {outcome:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn mixed_signs_need_the_total() {
        assert_eq!(plan_slice(2, Some(-1)), SlicePlan::NeedsTotal);
        assert_eq!(plan_slice(-5, Some(3)), SlicePlan::NeedsTotal);
        assert_eq!(plan_slice(-10, None), SlicePlan::Newest { skip: 0, take: 10 });
        assert_eq!(plan_slice(0, Some(10)), SlicePlan::Oldest { skip: 0, take: 10 });
    }
}
