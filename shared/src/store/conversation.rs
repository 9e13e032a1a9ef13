//! delete_conversation: every message between two users, both directions,
//! a bounded number per call, through the deletes of `deleting.rs` (which
//! keep each pair's counter exact under concurrent sends and fetches); then
//! the caller's conversation row is cleared (`pairs.rs`). Owns no items.

use std::time::{Duration, Instant};

use super::transaction::RequestScope;
use super::{MailboxRange, Store, StoreError, MAX_TRANSACTION_ITEMS};
use crate::model::{Identifier, Timestamp};

/// How many messages one delete_conversation call deletes at most.
pub const MAX_DELETED_PER_CALL: usize = 1000;

/// The time a round of deletes may take (its reads and its transaction,
/// each a DynamoDB call of up to 3 s): a call with less left before its
/// deadline stops and says `more`, rather than run out of time mid-round.
const ROUND_TIME: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConversationDeleted {
    pub deleted: usize,
    /// Messages between the two remain: call again.
    pub more: bool,
}

/// How many of a direction's found messages a call takes with `budget`
/// left, and whether some remain after them (`found` may hold one more
/// than the budget, which shows that).
fn take_within(found: usize, budget: usize) -> (usize, bool) {
    (found.min(budget), found > budget)
}

/// Whether a call starts another round of deletes with `left` before its
/// deadline. The first round always runs, so every call makes progress.
fn starts_round(rounds_done: usize, left: Duration) -> bool {
    rounds_done == 0 || left >= ROUND_TIME
}

impl Store {
    /// Deletes up to [`MAX_DELETED_PER_CALL`] messages between `caller` and
    /// `other`: first those `other` sent to `caller`, then those `caller`
    /// sent to `other`. Once none remain, the caller's conversation row of
    /// `other` is cleared: a message sent since shows the row again.
    pub async fn delete_conversation(
        &self,
        caller: &Identifier,
        other: &Identifier,
    ) -> Result<ConversationDeleted, StoreError> {
        // The row is cleared through the newest message of `other` that
        // existed when the call began, or that it deleted if newer.
        let mut clear_through = self.pair(caller, other).await?.map(|pair| pair.last_message_at);
        let mut outcome = ConversationDeleted { deleted: 0, more: false };
        let mut rounds = 0;
        for (recipient, sender) in [(caller, other), (other, caller)] {
            let budget = MAX_DELETED_PER_CALL - outcome.deleted;
            let range = MailboxRange { recipient, group: None, sender: Some(sender), from: None, to: None };
            let found = self.timestamps_in(range, budget + 1).await?;
            let (take, more) = take_within(found.len(), budget);
            let (deleted, cut_short) = self.delete_in_rounds(recipient, sender, &found[..take], &mut rounds).await?;
            outcome.deleted += deleted;
            if more || cut_short {
                return Ok(ConversationDeleted { more: true, ..outcome });
            }
            if recipient == caller {
                clear_through = clear_through.max(found.last().copied());
            }
        }
        if let Some(through) = clear_through {
            self.clear_conversation(caller, other, through).await?;
        }
        Ok(outcome)
    }

    /// Deletes `found` in transactions that each fit, while the request has
    /// time for them (`rounds`: those the call ran so far); counts those
    /// that still existed, and says whether it stopped before the end.
    async fn delete_in_rounds(
        &self,
        recipient: &Identifier,
        sender: &Identifier,
        found: &[Timestamp],
        rounds: &mut usize,
    ) -> Result<(usize, bool), StoreError> {
        let deadline = RequestScope::current().deadline();
        let mut deleted = 0;
        // One item of each transaction may be the pair's counter.
        for round in found.chunks(MAX_TRANSACTION_ITEMS - 1) {
            if !starts_round(*rounds, deadline.saturating_duration_since(Instant::now())) {
                return Ok((deleted, true));
            }
            deleted += self.delete_messages(recipient, sender, round).await?.deleted.len();
            *rounds += 1;
        }
        Ok((deleted, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_stops_before_a_round_it_has_no_time_for_but_never_before_its_first() {
        assert!(starts_round(0, Duration::ZERO), "the first round always runs");
        assert!(starts_round(3, ROUND_TIME));
        assert!(!starts_round(3, ROUND_TIME - Duration::from_millis(1)));
    }

    #[test]
    fn a_call_takes_what_its_budget_allows_and_says_whether_more_remain() {
        // (case, found, budget, taken, more)
        let cases = [
            ("nothing", 0, 1000, 0, false),
            ("all fit", 999, 1000, 999, false),
            ("exactly the budget", 1000, 1000, 1000, false),
            ("one past the budget", 1001, 1000, 1000, true),
            ("budget spent: any found is more", 1, 0, 0, true),
            ("budget spent, none found", 0, 0, 0, false),
        ];
        for (case, found, budget, taken, more) in cases {
            assert_eq!(take_within(found, budget), (taken, more), "{case}");
        }
    }
}
