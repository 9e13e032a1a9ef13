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

use std::sync::atomic::{AtomicBool, Ordering};

use aws_sdk_dynamodb::types::{CancellationReason, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::blocking::BLOCKED_FLAG;
use super::idempotency::{IdempotencyClaim, Recorded};
use super::ordering::{send_in_order, Try, ORDERING};
use super::pairs::pair_key;
use super::transaction::Transaction;
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

/// Where a send's idempotency record comes in its transaction: after the
/// message and the pair (`ordering.rs`).
const IDEMPOTENCY: usize = 2;

pub enum SendOutcome {
    Sent(Timestamp),
    RecipientUnknown,
    /// The recipient blocked the sender (`blocking.rs`): nothing was stored.
    Blocked,
    /// The idempotency key is held by a record written since it was checked.
    IdempotencyKeyUsed,
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
        // Known once a first message found no pair and read the profile.
        let recipient_exists = AtomicBool::new(false);
        send_in_order(clock, |timestamp| {
            let recipient_exists = &recipient_exists;
            async move {
                let mut items =
                    self.send_items(sender, recipient, text, timestamp, recipient_exists.load(Ordering::Relaxed))?;
                if let Some(claim) = claim {
                    items.push(self.idempotency_item(claim, SentRecord { timestamp })?);
                }
                let reasons = match self.transact(items).await? {
                    Transaction::Committed => return Ok(Try::Done(SendOutcome::Sent(timestamp))),
                    Transaction::Cancelled(reasons) => reasons,
                };
                if claim.is_some() && failed_condition(&reasons, IDEMPOTENCY) {
                    return Ok(Try::Done(SendOutcome::IdempotencyKeyUsed));
                }
                let pair_failed = failed_condition(&reasons, ORDERING);
                let old_pair = reasons.get(ORDERING).and_then(CancellationReason::item);
                if pair_failed && old_pair.is_some_and(|old| old.contains_key(BLOCKED_FLAG)) {
                    return Ok(Try::Done(SendOutcome::Blocked));
                }
                let never_sent = old_pair.is_none_or(|old| !old.contains_key("last_message_at"));
                if pair_failed && never_sent && !recipient_exists.load(Ordering::Relaxed) {
                    // The pair's first message. A pair item without messages
                    // was made by the recipient's block, and shows they exist.
                    if old_pair.is_none() && self.user(recipient).await?.is_none() {
                        return Ok(Try::Done(SendOutcome::RecipientUnknown));
                    }
                    recipient_exists.store(true, Ordering::Relaxed);
                    return Ok(Try::Again);
                }
                Ok(Try::Lost(reasons))
            }
        })
        .await
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
