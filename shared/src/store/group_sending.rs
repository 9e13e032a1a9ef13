//! Sending to a group: owns the group's message items (`GROUP#<id>`,
//! `MSG#<timestamp>`: `sender`, `group`, `timestamp`, `message`, and
//! `sender_ts` for the `by_sender` index), and moves the head's
//! `last_message_at` and `sent` (`groups.rs` owns the rest of the head).
//!
//! One transaction whatever the group's size: the message, the head, and a
//! check that the sender is a member. The head's condition makes the
//! group's messages commit in timestamp order, all senders together, which
//! is what lets one read position per member be safe: no message can commit
//! behind a position that has passed it, since committing needs a head
//! older than the message. It is also the one item the group's senders
//! share; their sends take turns on it.

use aws_sdk_dynamodb::types::{
    CancellationReason, ConditionCheck, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use serde::Serialize;

use super::groups::{group_pk, head_key, member_key};
use super::idempotency::IdempotencyClaim;
use super::ordering::{send_in_order, Try, ORDERING};
use super::sending::SentRecord;
use super::transaction::Transaction;
use super::{failed_condition, key, keyed, n, s, Item, Store, StoreError};
use crate::model::{GroupId, Identifier, Timestamp};

pub(super) fn group_message_key(group: &GroupId, timestamp: Timestamp) -> Item {
    key(group_pk(group), format!("MSG#{timestamp}"))
}

#[derive(Serialize)]
struct GroupMessageItem<'a> {
    sender: &'a Identifier,
    group: &'a GroupId,
    timestamp: Timestamp,
    message: &'a str,
    sender_ts: String,
}

pub enum GroupSendOutcome {
    Sent(Timestamp),
    /// No such group, or the sender is not a member of it.
    NoGroup,
    IdempotencyKeyUsed,
}

/// The transaction's items after the message and the head (`ordering.rs`).
const MEMBER: usize = 2;
const IDEMPOTENCY: usize = 3;

impl Store {
    /// Stores a message to every member of a group with a fresh timestamp,
    /// later than every earlier message of the group.
    pub async fn send_to_group(
        &self,
        sender: &Identifier,
        group: &GroupId,
        text: &str,
        claim: Option<&IdempotencyClaim>,
    ) -> Result<GroupSendOutcome, StoreError> {
        self.store_group_message(sender, group, text, claim, Timestamp::now).await
    }

    /// Stores a group message dated `at` (or just after it, if taken),
    /// under the same conditions as a send: for seeding demo data and
    /// importing history.
    pub async fn import_group_message(
        &self,
        sender: &Identifier,
        group: &GroupId,
        text: &str,
        at: Timestamp,
    ) -> Result<GroupSendOutcome, StoreError> {
        self.store_group_message(sender, group, text, None, || at).await
    }

    async fn store_group_message(
        &self,
        sender: &Identifier,
        group: &GroupId,
        text: &str,
        claim: Option<&IdempotencyClaim>,
        clock: impl Fn() -> Timestamp,
    ) -> Result<GroupSendOutcome, StoreError> {
        send_in_order(clock, |timestamp| async move {
            let mut items = self.group_send_items(sender, group, text, timestamp)?;
            if let Some(claim) = claim {
                items.push(self.idempotency_item(claim, SentRecord { timestamp })?);
            }
            let reasons = match self.transact(items).await? {
                Transaction::Committed => return Ok(Try::Done(GroupSendOutcome::Sent(timestamp))),
                Transaction::Cancelled(reasons) => reasons,
            };
            if claim.is_some() && failed_condition(&reasons, IDEMPOTENCY) {
                return Ok(Try::Done(GroupSendOutcome::IdempotencyKeyUsed));
            }
            let no_head = failed_condition(&reasons, ORDERING)
                && reasons.get(ORDERING).and_then(CancellationReason::item).is_none();
            if failed_condition(&reasons, MEMBER) || no_head {
                return Ok(Try::Done(GroupSendOutcome::NoGroup));
            }
            // Senders of a group take turns on its head: a send in flight
            // on it (on AWS), or one that committed first, is progress.
            Ok(Try::Lost(reasons))
        })
        .await
    }

    fn group_send_items(
        &self,
        sender: &Identifier,
        group: &GroupId,
        text: &str,
        timestamp: Timestamp,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let message =
            GroupMessageItem { sender, group, timestamp, message: text, sender_ts: format!("{sender}#{timestamp}") };
        let head = Update::builder()
            .table_name(&self.table)
            .set_key(Some(head_key(group)))
            .update_expression("SET last_message_at = :ts, sent = if_not_exists(sent, :zero) + :one")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(last_message_at) OR last_message_at < :ts)",
            )
            .expression_attribute_values(":ts", s(timestamp.to_string()))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()?;
        let member = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(member_key(group, sender)))
            .condition_expression("attribute_exists(pk)")
            .build()?;
        Ok(vec![
            self.put_if_absent(keyed(group_message_key(group, timestamp), &message)?)?,
            TransactWriteItem::builder().update(head).build(),
            TransactWriteItem::builder().condition_check(member).build(),
        ])
    }
}
