//! Sending: owns the message items (`USER#<recipient>`, `MSG#<timestamp>`,
//! with `sender_ts` for the `by_sender` index), the send side of the pair
//! item (`PAIR#<sender>`: `last_message_at`, `sent`, `pending_since`; see
//! `pairs.rs`), and the idempotency record of a send. The pair's `blocked`
//! flag (`blocking.rs`) refuses the send in the same condition.
//!
//! A send writes its message and its own pair's send side, nothing else:
//! sends from different senders to one recipient share no item, so on AWS
//! they never cancel each other. The recipient's profile is read, not
//! checked in the transaction, and only for a pair's first message (users
//! are never deleted, so what was read stays true).

use aws_sdk_dynamodb::types::{CancellationReason, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::blocking::BLOCKED_FLAG;
use super::idempotency::{IdempotencyClaim, Recorded};
use super::pairs::pair_key;
use super::transaction::{back_off, Transaction, MAX_ATTEMPTS, MAX_RACES_LOST};
use super::{failed_condition, key, keyed, n, s, user_pk, Item, Store, StoreError};
use crate::model::{Identifier, Message, Timestamp};

pub(super) fn message_key(recipient: &Identifier, timestamp: Timestamp) -> Item {
    key(user_pk(recipient.as_str()), format!("MSG#{timestamp}"))
}

/// A message item's attributes besides its key.
#[derive(Serialize)]
struct MessageAttributes<'a> {
    #[serde(flatten)]
    message: &'a Message,
    /// The `by_sender` index's sort key: one sender's messages to one
    /// mailbox, in time order.
    sender_ts: String,
}

/// What a send keeps under its idempotency key: a repeat answers with the
/// same timestamp.
#[derive(Serialize, Deserialize)]
pub(super) struct SentRecord {
    pub(super) timestamp: Timestamp,
}

pub enum SendOutcome {
    Sent(Timestamp),
    RecipientUnknown,
    /// The recipient blocked the sender (`blocking.rs`): nothing was stored.
    Blocked,
    /// The idempotency key is held by a record written since it was checked.
    IdempotencyKeyUsed,
}

/// The earliest timestamp a send may try next after its transaction was
/// cancelled at `timestamp`: past it when another message of the mailbox
/// holds that instant (`instant_taken`), and past the pair's newest message
/// when the pair's ordering condition failed (`pair_raced`, with that
/// message's timestamp if the pair was returned). `None` when the send lost
/// neither race.
pub(super) fn next_floor(
    timestamp: Timestamp,
    instant_taken: bool,
    pair_raced: Option<Option<Timestamp>>,
) -> Option<Timestamp> {
    let floor = instant_taken.then(|| timestamp.next());
    let Some(pair_last) = pair_raced else {
        return floor;
    };
    // A later message of this pair committed first (or clocks differ): go
    // after it.
    let after_pair = pair_last.map_or(timestamp.next(), Timestamp::next);
    Some(after_pair.max(floor.unwrap_or(timestamp)))
}

impl Store {
    /// Stores a message with a fresh timestamp, unique in the recipient's
    /// mailbox and later than every earlier message of the same pair.
    ///
    /// One transaction: the timestamp must be free, and the pair's
    /// `last_message_at` must be older. The last condition
    /// makes one pair's messages commit in timestamp order, so a fetch can
    /// never move the cursor past a message that is still being written.
    pub async fn send_message(
        &self,
        sender: &Identifier,
        recipient: &Identifier,
        text: &str,
        claim: Option<&IdempotencyClaim>,
    ) -> Result<SendOutcome, StoreError> {
        self.store_message(sender, recipient, text, claim, Timestamp::now).await
    }

    /// Stores a message dated `at` (or just after it, if taken), under the
    /// same conditions as a send: for seeding demo data and importing
    /// history.
    pub async fn import_message(
        &self,
        sender: &Identifier,
        recipient: &Identifier,
        text: &str,
        at: Timestamp,
    ) -> Result<SendOutcome, StoreError> {
        self.store_message(sender, recipient, text, None, || at).await
    }

    /// The timestamp of an earlier send with this claim's key, if any.
    pub async fn earlier_send(&self, claim: &IdempotencyClaim) -> Result<Option<Recorded<Timestamp>>, StoreError> {
        let recorded = self.idempotency_record::<SentRecord>(claim).await?;
        Ok(recorded.map(|recorded| match recorded {
            Recorded::Response(sent) => Recorded::Response(sent.timestamp),
            Recorded::OtherRequest => Recorded::OtherRequest,
        }))
    }

    async fn store_message(
        &self,
        sender: &Identifier,
        recipient: &Identifier,
        text: &str,
        claim: Option<&IdempotencyClaim>,
        clock: impl Fn() -> Timestamp,
    ) -> Result<SendOutcome, StoreError> {
        let mut floor: Option<Timestamp> = None;
        // Known once a first message found no pair and read the profile.
        let mut recipient_exists = false;
        // Each lost ordering race means another send of this pair
        // committed, so losing many is progress, not a stuck system: they
        // have a budget of their own, as large as the bulk senders we accept.
        let mut races = 0;
        for attempt in 0..MAX_ATTEMPTS + MAX_RACES_LOST {
            if attempt - races >= MAX_ATTEMPTS {
                break;
            }
            let now = clock();
            let timestamp = floor.map_or(now, |floor| floor.max(now));
            let mut items = self.send_items(sender, recipient, text, timestamp, recipient_exists)?;
            if let Some(claim) = claim {
                items.push(self.idempotency_item(claim, SentRecord { timestamp })?);
            }
            let reasons = match self.transact(items).await? {
                Transaction::Committed => return Ok(SendOutcome::Sent(timestamp)),
                Transaction::Cancelled(reasons) => reasons,
            };
            if claim.is_some() && failed_condition(&reasons, 2) {
                return Ok(SendOutcome::IdempotencyKeyUsed);
            }
            let old_pair = reasons.get(1).and_then(CancellationReason::item);
            if failed_condition(&reasons, 1) && old_pair.is_some_and(|old| old.contains_key(BLOCKED_FLAG)) {
                return Ok(SendOutcome::Blocked);
            }
            let never_sent = old_pair.is_none_or(|old| !old.contains_key("last_message_at"));
            if failed_condition(&reasons, 1) && never_sent && !recipient_exists {
                // The pair's first message. A pair item without messages was
                // made by the recipient's block, and shows they exist.
                if old_pair.is_none() && self.user(recipient).await?.is_none() {
                    return Ok(SendOutcome::RecipientUnknown);
                }
                recipient_exists = true;
                continue;
            }
            let pair_raced = failed_condition(&reasons, 1).then(|| {
                let old = old_pair.and_then(|old| old.get("last_message_at"));
                old.and_then(|value| value.as_s().ok()).and_then(|text| Timestamp::from_stored(text))
            });
            let learned = next_floor(timestamp, failed_condition(&reasons, 0), pair_raced);
            // The first race is retried at once with the timestamp it
            // learned; racing again, or meeting another send of the pair in
            // flight, means many writers on this pair (a bulk importer), who
            // must spread out or keep colliding.
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

    /// A send's transaction: the message is put at a free instant, and the
    /// pair's send side moves its `last_message_at` forward. The pair must
    /// exist unless `recipient_exists` was read. Public for the bench's
    /// bare calls.
    pub fn send_items(
        &self,
        sender: &Identifier,
        recipient: &Identifier,
        text: &str,
        timestamp: Timestamp,
        recipient_exists: bool,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let message = Message {
            sender: sender.clone(),
            recipient: recipient.clone(),
            timestamp,
            message: text.to_owned(),
            group: None,
        };
        let attributes = MessageAttributes { message: &message, sender_ts: format!("{sender}#{timestamp}") };
        let pair_update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(pair_key(recipient, sender)))
            .update_expression(
                "SET sender = :sender, last_message_at = :ts, sent = if_not_exists(sent, :zero) + :one, \
                 pending_since = if_not_exists(pending_since, :ts)",
            )
            // The block flag costs the send nothing: its pair item is
            // written anyway, and the condition reads it there.
            .condition_expression(if recipient_exists {
                "attribute_not_exists(blocked) AND (attribute_not_exists(last_message_at) OR last_message_at < :ts)"
            } else {
                "attribute_not_exists(blocked) AND last_message_at < :ts"
            })
            .expression_attribute_values(":sender", s(sender.as_str()))
            .expression_attribute_values(":ts", s(timestamp.to_string()))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()?;
        Ok(vec![
            self.put_if_absent(keyed(message_key(recipient, timestamp), &attributes)?)?,
            TransactWriteItem::builder().update(pair_update).build(),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(micros: u32) -> Timestamp {
        Timestamp::parse("t", &format!("2026-01-01T00:00:00.{micros:06}Z")).expect("timestamp")
    }

    #[test]
    fn a_lost_race_moves_the_next_try_past_the_winner() {
        // (case, instant taken, pair raced with its newest, expected floor)
        let cases = [
            ("no race: contention only", false, None, None),
            ("instant taken", true, None, Some(11)),
            ("pair ahead", false, Some(Some(15)), Some(16)),
            ("pair ahead, newest unknown", false, Some(None), Some(11)),
            ("both: the later wins", true, Some(Some(15)), Some(16)),
            ("both, pair at the instant", true, Some(Some(10)), Some(11)),
        ];
        for (case, taken, pair, expected) in cases {
            assert_eq!(next_floor(at(10), taken, pair.map(|last| last.map(at))), expected.map(at), "{case}");
        }
    }
}
