//! `start`/`stop` slices: Python's slice semantics over a mailbox's
//! time-ordered list (or of its read or unread messages only), read without
//! knowing its size when the signs allow.

use crate::app::App;
use crate::error::ApiError;
use crate::model::{Message, ShownMessage};
use crate::reply::{leading_fit, MAX_REPLY_BYTES};
use crate::store::{MailboxRange, Positions};

use super::{MAX_FILTERED_SLICE_BOUND, MAX_SLICE_POSITIONS};

/// How a `start`/`stop` slice is read without knowing the mailbox size,
/// when its signs allow.
#[derive(Debug, PartialEq)]
pub(super) enum SlicePlan {
    /// Skip `skip` oldest, take `take`.
    Oldest { skip: usize, take: usize },
    /// Skip `skip` newest, take the `take` before them.
    Newest { skip: usize, take: usize },
    /// From `skip` to the end: at most the limit, which is checked.
    OldestToEnd { skip: usize },
    /// Mixed signs: the slice needs the number of messages in the window.
    NeedsTotal,
}

pub(super) fn plan_slice(start: i64, stop: Option<i64>) -> SlicePlan {
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
pub(super) fn check_slice(plan: &SlicePlan) -> Result<(), ApiError> {
    match plan {
        SlicePlan::Oldest { take, .. } | SlicePlan::Newest { take, .. } if *take > MAX_SLICE_POSITIONS => {
            Err(too_many_positions())
        }
        _ => Ok(()),
    }
}

/// Refuses a slice with `read` that reaches past [`MAX_FILTERED_SLICE_BOUND`]
/// from either end: unlike an unfiltered slice, which skips and counts by
/// keys, it reads every message it skips or counts, and a bound of 10^18
/// would read the whole mailbox.
pub(super) fn check_filtered_bounds(start: i64, stop: Option<i64>) -> Result<(), ApiError> {
    let reach = start.unsigned_abs().max(stop.map_or(0, i64::unsigned_abs));
    if reach > MAX_FILTERED_SLICE_BOUND.unsigned_abs() {
        return Err(ApiError::bad_request(format!(
            "with read, start and stop must lie within ±{MAX_FILTERED_SLICE_BOUND}: a filtered slice reads the \
             positions it skips; page by period for older history"
        )));
    }
    Ok(())
}

/// Resolves a mixed-sign slice to positions from the oldest, counting no
/// more positions than can matter: with `start >= 0 > stop`, past `start +
/// |stop| + 1000` the slice is surely too wide; with `start < 0 <= stop`,
/// past `stop + |start|` it is surely empty. Positions of the whole range
/// are counted as keys; of its read or unread messages, by reading them.
async fn resolve_mixed_slice(
    app: &App,
    range: MailboxRange<'_>,
    read: Option<bool>,
    (start, stop): (i64, Option<i64>),
) -> Result<SlicePlan, ApiError> {
    let stop = stop.unwrap_or(i64::MAX);
    let span = usize::try_from(start.unsigned_abs().saturating_add(stop.unsigned_abs())).unwrap_or(usize::MAX);
    let at_most = if start >= 0 { span.saturating_add(MAX_SLICE_POSITIONS + 1) } else { span };
    let total = match read {
        None => app.store.count_positions(range, at_most).await?,
        Some(read) => app.store.count_filtered(range, read, at_most).await?,
    };
    let from = resolve_bound(start, total);
    let to = resolve_bound(stop, total);
    let plan = SlicePlan::Oldest { skip: from, take: to.saturating_sub(from) };
    check_slice(&plan)?;
    Ok(plan)
}

/// Reads a slice; an empty slice reads nothing.
pub(super) async fn read_slice(
    app: &App,
    range: MailboxRange<'_>,
    read: Option<bool>,
    plan: SlicePlan,
    bounds: (i64, Option<i64>),
) -> Result<Vec<Message>, ApiError> {
    let plan = match plan {
        SlicePlan::NeedsTotal => resolve_mixed_slice(app, range, read, bounds).await?,
        plan => plan,
    };
    let positions = match plan {
        SlicePlan::Oldest { skip, take } => Positions { newest_first: false, skip, take },
        SlicePlan::Newest { skip, take } => Positions { newest_first: true, skip, take },
        // One more than allowed shows that the slice is too wide.
        SlicePlan::OldestToEnd { skip } => Positions { newest_first: false, skip, take: MAX_SLICE_POSITIONS + 1 },
        SlicePlan::NeedsTotal => unreachable!("resolved above"),
    };
    if positions.take == 0 {
        return Ok(Vec::new());
    }
    let mut messages = match read {
        None => read_positions(app, range, positions).await?,
        Some(read) => app.store.read_filtered(range, read, positions, MAX_REPLY_BYTES).await?,
    };
    if messages.len() > MAX_SLICE_POSITIONS {
        return Err(too_many_positions());
    }
    if positions.newest_first {
        messages.reverse();
    }
    Ok(messages)
}

/// The messages at `positions` of the whole range, in the order read:
/// skipped positions as keys only (`by_time`), then the messages taken.
async fn read_positions(
    app: &App,
    range: MailboxRange<'_>,
    Positions { newest_first, skip, take }: Positions,
) -> Result<Vec<Message>, ApiError> {
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
    Ok(app.store.read_mailbox(range, newest_first, take, MAX_REPLY_BYTES).await?)
}

/// A slice has no `next`: one whose messages do not fit in a reply is a
/// 400 that says how many of its positions do.
pub(super) fn check_slice_fits(shown: &[ShownMessage]) -> Result<(), ApiError> {
    let fit = leading_fit(shown, MAX_REPLY_BYTES);
    if fit < shown.len() {
        return Err(ApiError::bad_request(format!(
            "the messages of this slice are more than one reply carries ({MAX_REPLY_BYTES} bytes); \
             only its first {fit} positions fit: ask for fewer positions, or page by period"
        )));
    }
    Ok(())
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

    #[test]
    fn filtered_slices_reach_at_most_the_bound_from_either_end() {
        // (start, stop, allowed)
        let cases = [
            (0, Some(10), true),
            (-2000, None, true),
            (1990, Some(2000), true),
            (-1, Some(2000), true),
            (2001, None, false),
            (-2001, Some(-1990), false),
            (-1, Some(i64::MAX), false),
            (i64::MIN, None, false),
        ];
        for (start, stop, allowed) in cases {
            assert_eq!(check_filtered_bounds(start, stop).is_ok(), allowed, "[{start}:{stop:?}]");
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
