//! The retry loop of a send whose messages must commit in timestamp order:
//! one to a pair (`sending.rs`) or to a group (`group_sending.rs`). Each
//! try is one transaction whose first item puts the message at a free
//! instant and whose second moves the ordering item's `last_message_at`
//! (the pair's send side, the group's head) forward. Owns no items.

use std::future::Future;

use aws_sdk_dynamodb::types::CancellationReason;

use super::transaction::{back_off, MAX_ATTEMPTS, MAX_RACES_LOST};
use super::{failed_condition, StoreError};
use crate::model::Timestamp;

/// The items of an ordered send's transaction, in order.
pub(super) const MESSAGE: usize = 0;
pub(super) const ORDERING: usize = 1;

/// What one try of an ordered send came to.
pub(super) enum Try<T> {
    /// An answer: sent, or refused for good.
    Done(T),
    /// Try again at once: the try learned something that changes the next.
    Again,
    /// Cancelled by a race; the reasons say which.
    Lost(Vec<CancellationReason>),
}

/// The earliest timestamp a send may try next after its transaction was
/// cancelled at `timestamp`: past it when another message holds that
/// instant (`instant_taken`), and past the newest message of the ordering
/// item when its condition failed (`order_raced`, with that message's
/// timestamp if the item was returned). `None` when the send lost neither
/// race.
pub(super) fn next_floor(
    timestamp: Timestamp,
    instant_taken: bool,
    order_raced: Option<Option<Timestamp>>,
) -> Option<Timestamp> {
    let floor = instant_taken.then(|| timestamp.next());
    let Some(last) = order_raced else {
        return floor;
    };
    // A later message committed first (or clocks differ): go after it.
    let after_last = last.map_or(timestamp.next(), Timestamp::next);
    Some(after_last.max(floor.unwrap_or(timestamp)))
}

/// The newest message of the ordering item as a cancelled transaction
/// returned it, if its condition failed: `Some(None)` when it failed and
/// the item had no messages.
pub(super) fn order_raced(reasons: &[CancellationReason]) -> Option<Option<Timestamp>> {
    failed_condition(reasons, ORDERING).then(|| {
        let old = reasons.get(ORDERING).and_then(CancellationReason::item);
        let last = old.and_then(|old| old.get("last_message_at"));
        last.and_then(|value| value.as_s().ok()).and_then(|text| Timestamp::from_stored(text))
    })
}

/// Tries a send at a timestamp from `clock` until a try answers. A try
/// that loses the ordering race (a later message committed first) goes
/// again at once past the winner; racing again, or meeting another send in
/// flight on the ordering item (on AWS), means many writers on it, who
/// spread out with growing random waits. Lost races are progress (another
/// send committed) and have a budget of their own, as large as the bulk
/// senders we accept; other failed tries have [`MAX_ATTEMPTS`].
pub(super) async fn send_in_order<T, F, Fut>(clock: impl Fn() -> Timestamp, mut send_at: F) -> Result<T, StoreError>
where
    F: FnMut(Timestamp) -> Fut,
    Fut: Future<Output = Result<Try<T>, StoreError>>,
{
    let mut floor: Option<Timestamp> = None;
    let mut races = 0;
    for attempt in 0..MAX_ATTEMPTS + MAX_RACES_LOST {
        if attempt - races >= MAX_ATTEMPTS {
            break;
        }
        let now = clock();
        let timestamp = floor.map_or(now, |floor| floor.max(now));
        let reasons = match send_at(timestamp).await? {
            Try::Done(done) => return Ok(done),
            Try::Again => continue,
            Try::Lost(reasons) => reasons,
        };
        let learned = next_floor(timestamp, failed_condition(&reasons, MESSAGE), order_raced(&reasons));
        let in_flight = reasons.iter().any(|reason| reason.code() == Some("TransactionConflict"));
        if learned.is_some() || in_flight {
            floor = learned.or(floor);
            races += 1;
            if races > MAX_RACES_LOST {
                break;
            }
        }
        if learned.is_none() || races > 1 {
            back_off(attempt).await;
        }
    }
    Err(StoreError::Contention)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(micros: u32) -> Timestamp {
        Timestamp::parse("t", &format!("2026-01-01T00:00:00.{micros:06}Z")).expect("timestamp")
    }

    #[test]
    fn a_lost_race_moves_the_next_try_past_the_winner() {
        // (case, instant taken, ordering item raced with its newest, expected floor)
        let cases = [
            ("no race: contention only", false, None, None),
            ("instant taken", true, None, Some(11)),
            ("ordering item ahead", false, Some(Some(15)), Some(16)),
            ("ahead, newest unknown", false, Some(None), Some(11)),
            ("both: the later wins", true, Some(Some(15)), Some(16)),
            ("both, newest at the instant", true, Some(Some(10)), Some(11)),
        ];
        for (case, taken, raced, expected) in cases {
            assert_eq!(next_floor(at(10), taken, raced.map(|last| last.map(at))), expected.map(at), "{case}");
        }
    }
}
