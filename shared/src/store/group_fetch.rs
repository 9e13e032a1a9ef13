//! fetch_new_messages in one group, and a member's count of new messages:
//! reads the group's messages (`group_sending.rs`) after the member's read
//! state and moves that state (`fetched_through`, `ahead`, `rev` on their
//! side of the membership, `groups.rs`) in one conditional write.
//!
//! One position per member and group covers every sender: the group's
//! messages commit in timestamp order (the head's condition), so once a
//! message is committed none can commit before it, and a position that
//! reached it passed nothing. A fetch of one sender moves that sender's
//! `ahead` mark instead, since the position cannot pass other senders'
//! messages; a later fetch of everyone skips what the marks cover, and drops
//! the marks it passes.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::capacity::Counted;
use super::group_sending::group_message_key;
use super::groups::{group_pk, membership_key, Membership};
use super::idempotency::{IdempotencyClaim, Recorded};
use super::merge::batch_len;
use super::transaction::{after_losses, Transaction};
use super::{failed_condition, n, query_all, s, Item, Store, StoreError};
use crate::model::{GroupId, Identifier, Message, Timestamp};
use crate::reply::{entry_bytes, MAX_REPLY_BYTES};

use super::FetchedBatch;

/// A group message as stored.
#[derive(Debug, Deserialize)]
struct GroupMessage {
    sender: Identifier,
    timestamp: Timestamp,
    message: String,
}

impl GroupMessage {
    /// The message as `member` is shown it.
    fn shown_to(self, group: &GroupId, member: &Identifier) -> Message {
        Message {
            sender: self.sender,
            recipient: member.clone(),
            timestamp: self.timestamp,
            message: self.message,
            group: Some(group.clone()),
        }
    }
}

const GROUP_MESSAGE_PROJECTION: &str = "sender, #ts, message";

pub enum GroupFetchOutcome {
    Fetched(FetchedBatch),
    /// No such group, or the caller is not a member of it.
    NoGroup,
    IdempotencyKeyUsed,
}

/// What an idempotent group fetch keeps to replay its batch, as for a
/// mailbox (`fetch_new.rs`).
#[derive(Serialize, Deserialize)]
struct GroupFetchReplay {
    messages: Vec<(Identifier, Timestamp)>,
    more: bool,
}

impl Membership {
    /// Whether `member` has read a message of the group: their own, one at
    /// or before their position, or one their `sender` mark covers.
    fn has_read(&self, member: &Identifier, sender: &Identifier, timestamp: Timestamp) -> bool {
        sender == member
            || self.fetched_through.is_some_and(|through| timestamp <= through)
            || self.ahead.get(sender).is_some_and(|through| timestamp <= *through)
    }

    /// Where a read of `sender`'s new messages (everyone's, if `None`) starts.
    fn unread_from(&self, sender: Option<&Identifier>) -> Option<Timestamp> {
        let mark = sender.and_then(|sender| self.ahead.get(sender));
        self.fetched_through.max(mark.copied()).map(Timestamp::next)
    }
}

/// The read state after returning the first `returned` unread messages of
/// what a fetch read in order (`examined`: each message's timestamp, and
/// whether it was unread). For everyone, the position moves through the
/// last message before the first unread one left out, and the marks it
/// passes go; for one sender, their mark moves to the last one returned.
fn advanced(
    state: &Membership,
    sender: Option<&Identifier>,
    examined: &[(Timestamp, bool)],
    returned: usize,
) -> Membership {
    let mut next = state.clone();
    if let Some(sender) = sender {
        if let Some(&(last, _)) = examined.iter().filter(|(_, unread)| *unread).take(returned).last() {
            next.ahead.insert(sender.clone(), last);
        }
        return next;
    }
    let mut taken = 0;
    let mut through = None;
    for &(timestamp, unread) in examined {
        if unread {
            if taken == returned {
                break;
            }
            taken += 1;
        }
        through = Some(timestamp);
    }
    next.fetched_through = next.fetched_through.max(through);
    let position = next.fetched_through;
    next.ahead.retain(|_, mark| Some(*mark) > position);
    next
}

impl Store {
    /// Returns, oldest first, up to `limit` messages of a group that `member`
    /// has not read (from `sender` only, if named), and moves their read
    /// state past them in one write that conditions on its `rev`: a
    /// concurrent fetch makes this one read again.
    pub async fn fetch_new_in_group(
        &self,
        member: &Identifier,
        group: &GroupId,
        sender: Option<&Identifier>,
        limit: usize,
        claim: Option<&IdempotencyClaim>,
    ) -> Result<GroupFetchOutcome, StoreError> {
        let mut losses = 0;
        loop {
            after_losses(losses).await?;
            let Some(state) = self.membership(member, group).await? else {
                return Ok(GroupFetchOutcome::NoGroup);
            };
            let unread = self.unread_in_group(member, group, &state, sender, limit).await?;
            let fits = batch_len(&unread.messages.iter().collect::<Vec<_>>(), limit, usize::MAX, MAX_REPLY_BYTES);
            let more = unread.messages.len() > fits;
            let batch: Vec<Message> = unread.messages.into_iter().take(fits).collect();
            let next = advanced(&state, sender, &unread.examined, batch.len());
            let fetched = FetchedBatch { messages: batch, more };
            if next == state && claim.is_none() {
                return Ok(GroupFetchOutcome::Fetched(fetched));
            }
            let mut items = vec![self.read_state_update(member, &state, &next)?];
            if let Some(claim) = claim {
                let replay = GroupFetchReplay {
                    messages: fetched.messages.iter().map(|m| (m.sender.clone(), m.timestamp)).collect(),
                    more: fetched.more,
                };
                items.push(self.idempotency_item(claim, replay)?);
            }
            match self.transact(items).await? {
                Transaction::Committed => return Ok(GroupFetchOutcome::Fetched(fetched)),
                Transaction::Cancelled(reasons) if claim.is_some() && failed_condition(&reasons, 1) => {
                    return Ok(GroupFetchOutcome::IdempotencyKeyUsed);
                }
                Transaction::Cancelled(_) => losses += 1,
            }
        }
    }

    /// The batch an earlier group fetch with this claim's key returned,
    /// read again: its messages that still exist, and its `more`.
    pub async fn earlier_group_fetch(
        &self,
        member: &Identifier,
        group: &GroupId,
        claim: &IdempotencyClaim,
    ) -> Result<Option<Recorded<FetchedBatch>>, StoreError> {
        let replay = match self.idempotency_record::<GroupFetchReplay>(claim).await? {
            Some(Recorded::Response(replay)) => replay,
            Some(Recorded::OtherRequest) => return Ok(Some(Recorded::OtherRequest)),
            None => return Ok(None),
        };
        let keys = replay.messages.iter().map(|(_, timestamp)| group_message_key(group, *timestamp)).collect();
        let stored: Vec<GroupMessage> = self.batch_get(keys, Some(GROUP_MESSAGE_PROJECTION)).await?;
        let mut messages: Vec<Message> = stored
            .into_iter()
            .filter(|m| replay.messages.iter().any(|(sender, at)| *sender == m.sender && *at == m.timestamp))
            .map(|m| m.shown_to(group, member))
            .collect();
        messages.sort_by_key(|m| m.timestamp);
        Ok(Some(Recorded::Response(FetchedBatch { messages, more: replay.more })))
    }

    /// How many messages of a group `member` has not read: a count over the
    /// keys-only `by_time` index after their position.
    pub(super) async fn unread_count(&self, member: &Identifier, state: &Membership) -> Result<u64, StoreError> {
        #[derive(Deserialize)]
        struct Entry {
            sender: Identifier,
            timestamp: Timestamp,
        }
        let from = state.unread_from(None).map(|t| t.to_string()).unwrap_or_default();
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("by_time")
            .key_condition_expression("pk = :pk AND #ts >= :from")
            .expression_attribute_names("#ts", "timestamp")
            .expression_attribute_values(":pk", s(group_pk(&state.group)))
            .expression_attribute_values(":from", s(from))
            .projection_expression("sender, #ts")
            .consistent_read(true);
        let entries: Vec<Entry> = serde_dynamo::from_items(query_all(query).await?)?;
        Ok(entries.iter().filter(|e| !state.has_read(member, &e.sender, e.timestamp)).count() as u64)
    }

    /// Up to `limit + 1` unread messages of a group in time order (a reply's
    /// worth at most), and the timestamps of every message read on the way.
    async fn unread_in_group(
        &self,
        member: &Identifier,
        group: &GroupId,
        state: &Membership,
        sender: Option<&Identifier>,
        limit: usize,
    ) -> Result<Unread, StoreError> {
        let mut unread = Unread { messages: Vec::new(), examined: Vec::new() };
        if sender == Some(member) {
            return Ok(unread);
        }
        let from = state.unread_from(sender).map(|t| t.to_string()).unwrap_or_default();
        let (sort, prefix) = match sender {
            Some(sender) => ("sender_ts", format!("{sender}#")),
            None => ("sk", "MSG#".to_owned()),
        };
        let mut start: Option<Item> = None;
        let mut bytes = 0;
        loop {
            let wanted = limit + 1 - unread.messages.len();
            let query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND #sort BETWEEN :low AND :high")
                .expression_attribute_names("#sort", sort)
                .expression_attribute_names("#ts", "timestamp")
                .expression_attribute_values(":pk", s(group_pk(group)))
                .expression_attribute_values(":low", s(format!("{prefix}{from}")))
                // `~` sorts after every digit, so it bounds any timestamp.
                .expression_attribute_values(":high", s(format!("{prefix}~")))
                .projection_expression(GROUP_MESSAGE_PROJECTION)
                .limit(i32::try_from(wanted).unwrap_or(i32::MAX))
                .consistent_read(true)
                .set_exclusive_start_key(start);
            let query = if sender.is_some() { query.index_name("by_sender") } else { query };
            let page = query.counted().await?;
            for stored in serde_dynamo::from_items::<_, GroupMessage>(page.items.unwrap_or_default())? {
                let is_unread = !state.has_read(member, &stored.sender, stored.timestamp);
                unread.examined.push((stored.timestamp, is_unread));
                if is_unread {
                    let message = stored.shown_to(group, member);
                    bytes += entry_bytes(&message);
                    unread.messages.push(message);
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() || unread.messages.len() > limit || bytes > MAX_REPLY_BYTES {
                return Ok(unread);
            }
        }
    }

    /// The write that moves a member's read state from `state` to `next`,
    /// if no other fetch moved it since `state` was read.
    fn read_state_update(
        &self,
        member: &Identifier,
        state: &Membership,
        next: &Membership,
    ) -> Result<TransactWriteItem, StoreError> {
        let ahead: BTreeMap<String, AttributeValue> =
            next.ahead.iter().map(|(sender, mark)| (sender.to_string(), s(mark.to_string()))).collect();
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(membership_key(member, &state.group)))
            .condition_expression("rev = :rev")
            .expression_attribute_values(":rev", n(state.rev))
            .expression_attribute_values(":next", n(state.rev + 1))
            .expression_attribute_values(":ahead", AttributeValue::M(ahead.into_iter().collect()));
        let mut set = "rev = :next, ahead = :ahead".to_owned();
        if let Some(through) = next.fetched_through {
            set.push_str(", fetched_through = :through");
            update = update.expression_attribute_values(":through", s(through.to_string()));
        }
        let update = update.update_expression(format!("SET {set}")).build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

/// What a read of a group's unread messages found.
struct Unread {
    messages: Vec<Message>,
    /// Every message read, in order: its timestamp, and whether it is unread.
    examined: Vec<(Timestamp, bool)>,
}
