//! Messages, and the pair item of each (recipient, sender) that holds the
//! fetch cursor and the counters. Every change that touches both is one
//! transaction, and every transaction on a pair is guarded by a condition,
//! so concurrent senders, fetchers and deleters can only lose a race and
//! retry, never leave a skipped or doubly delivered message behind.

use aws_sdk_dynamodb::types::{
    ConditionCheck, Delete, KeysAndAttributes, Put, ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use serde::Deserialize;

use super::idempotency::IdempotencyClaim;
use super::{
    back_off, capacity, failed_condition, key, n, s, user_pk, Item, Store, StoreError, Transaction, MAX_ATTEMPTS,
    PROFILE_SK, SENDER_INDEX,
};
use crate::model::{Identifier, Message, Timestamp};
use crate::reply::{entry_bytes, MAX_REPLY_BYTES};

/// How many ordering races one send may lose: 64 concurrent sends on one
/// pair all succeed, since each loss is another of them committing.
const MAX_ORDERING_RACES: u32 = 64;
/// DynamoDB's cap on the items of one transaction.
const MAX_TRANSACTION_ITEMS: usize = 100;
/// DynamoDB's cap on the keys of one BatchGetItem call.
const MAX_BATCH_GET_KEYS: usize = 100;
/// `timestamp` is a DynamoDB reserved word, hence the placeholder.
const MESSAGE_PROJECTION: &str = "sender, recipient, #ts, message";

fn message_sk(timestamp: Timestamp) -> String {
    format!("MSG#{timestamp}")
}

fn pair_sk(sender: &Identifier) -> String {
    format!("PAIR#{sender}")
}

fn message_key(recipient: &Identifier, timestamp: Timestamp) -> Item {
    key(user_pk(recipient.as_str()), message_sk(timestamp))
}

pub(super) fn pair_key(recipient: &Identifier, sender: &Identifier) -> Item {
    key(user_pk(recipient.as_str()), pair_sk(sender))
}

/// The state of one (recipient, sender) pair.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Pair {
    pub sender: Identifier,
    /// The newest message ever sent; sends commit in increasing order of it.
    pub last_message_at: Timestamp,
    /// The fetch cursor: every message at or before it has been returned by
    /// fetch_new_messages.
    #[serde(default)]
    pub fetched_through: Option<Timestamp>,
    /// Messages after the cursor that still exist.
    pub new_messages: u64,
    /// Present exactly while `new_messages` is not zero: no new message of
    /// the pair is older (it is the oldest new one when a send set it, a
    /// lower bound after a fetch or delete). The `by_pending` index sorts
    /// pairs by it, so a fetch picks senders without reading every pair.
    #[serde(default)]
    pub pending_since: Option<Timestamp>,
    /// Bumped by every fetch and every delete of a new message; both
    /// condition on it, so neither acts on a stale view of the other.
    pub rev: u64,
}

impl Pair {
    fn is_new(&self, timestamp: Timestamp) -> bool {
        self.fetched_through.is_none_or(|cursor| timestamp > cursor)
    }
}

/// A time-ordered stretch of one mailbox, optionally of one sender only;
/// both ends inclusive.
#[derive(Debug, Clone, Copy)]
pub struct MailboxRange<'a> {
    pub recipient: &'a Identifier,
    pub sender: Option<&'a Identifier>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

impl MailboxRange<'_> {
    pub(super) fn is_empty(&self) -> bool {
        matches!((self.from, self.to), (Some(from), Some(to)) if from > to)
    }

    /// The key condition of the range: on the table's sort key for the whole
    /// mailbox, on the `by_sender` index for one sender. Never a filter, so
    /// a query's `Limit` counts exactly the messages in the range.
    pub(super) fn query(&self, store: &Store) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let (sort_attribute, prefix) = match self.sender {
            Some(sender) => ("sender_ts", format!("{sender}#")),
            None => ("sk", "MSG#".to_owned()),
        };
        let low = format!("{prefix}{}", self.from.map(|t| t.to_string()).unwrap_or_default());
        // `~` sorts after every digit, so it bounds any timestamp from above.
        let high = format!("{prefix}{}", self.to.map_or_else(|| "~".to_owned(), |t| t.to_string()));
        let mut query = store
            .client
            .query()
            .table_name(&store.table)
            .key_condition_expression("pk = :pk AND #sort BETWEEN :low AND :high")
            .expression_attribute_names("#sort", sort_attribute)
            .expression_attribute_values(":pk", s(user_pk(self.recipient.as_str())))
            .expression_attribute_values(":low", s(low))
            .expression_attribute_values(":high", s(high));
        if self.sender.is_some() {
            query = query.index_name(SENDER_INDEX);
        }
        query
    }
}

pub enum SendOutcome {
    Sent(Timestamp),
    RecipientUnknown,
    /// The idempotency key is held by a record written since it was checked.
    IdempotencyKeyUsed,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeleteOutcome {
    pub deleted: Vec<Timestamp>,
}

impl Store {
    /// Stores a message with a fresh timestamp, unique in the recipient's
    /// mailbox and later than every earlier message of the same pair.
    ///
    /// One transaction: the recipient must exist, the timestamp must be free,
    /// and the pair's `last_message_at` must be older. The last condition
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

    async fn store_message(
        &self,
        sender: &Identifier,
        recipient: &Identifier,
        text: &str,
        claim: Option<&IdempotencyClaim>,
        clock: impl Fn() -> Timestamp,
    ) -> Result<SendOutcome, StoreError> {
        let mut floor: Option<Timestamp> = None;
        // Each lost ordering race means another send of this pair
        // committed, so losing many is progress, not a stuck system: they
        // have a budget of their own, as large as the bulk senders we accept.
        let mut races = 0;
        for attempt in 0..MAX_ATTEMPTS + MAX_ORDERING_RACES {
            if attempt - races >= MAX_ATTEMPTS {
                break;
            }
            let now = clock();
            let timestamp = floor.map_or(now, |floor| floor.max(now));
            let message =
                Message { sender: sender.clone(), recipient: recipient.clone(), timestamp, message: text.to_owned() };
            let mut item: Item = serde_dynamo::to_item(&message)?;
            item.extend(message_key(recipient, timestamp));
            item.insert("sender_ts".into(), s(format!("{sender}#{timestamp}")));

            let mut items = vec![
                TransactWriteItem::builder()
                    .condition_check(
                        ConditionCheck::builder()
                            .table_name(&self.table)
                            .set_key(Some(key(user_pk(recipient.as_str()), PROFILE_SK)))
                            .condition_expression("attribute_exists(pk)")
                            .build()?,
                    )
                    .build(),
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(&self.table)
                            .set_item(Some(item))
                            .condition_expression("attribute_not_exists(pk)")
                            .build()?,
                    )
                    .build(),
                TransactWriteItem::builder()
                    .update(
                        Update::builder()
                            .table_name(&self.table)
                            .set_key(Some(pair_key(recipient, sender)))
                            .update_expression(
                                "SET sender = :sender, last_message_at = :ts, \
                                 new_messages = if_not_exists(new_messages, :zero) + :one, \
                                 pending_since = if_not_exists(pending_since, :ts), \
                                 rev = if_not_exists(rev, :zero)",
                            )
                            .condition_expression("attribute_not_exists(last_message_at) OR last_message_at < :ts")
                            .expression_attribute_values(":sender", s(sender.as_str()))
                            .expression_attribute_values(":ts", s(timestamp.to_string()))
                            .expression_attribute_values(":zero", n(0))
                            .expression_attribute_values(":one", n(1))
                            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                            .build()?,
                    )
                    .build(),
            ];
            if let Some(claim) = claim {
                items.push(self.idempotency_item(claim, &timestamp.to_string(), now)?);
            }
            let reasons = match self.transact(items).await? {
                Transaction::Committed => return Ok(SendOutcome::Sent(timestamp)),
                Transaction::Cancelled(reasons) => reasons,
            };
            if failed_condition(&reasons, 0) {
                return Ok(SendOutcome::RecipientUnknown);
            }
            if claim.is_some() && failed_condition(&reasons, 3) {
                return Ok(SendOutcome::IdempotencyKeyUsed);
            }
            let mut raced = false;
            if failed_condition(&reasons, 1) {
                // Another message of this mailbox holds the instant.
                floor = Some(timestamp.next());
                raced = true;
            }
            if failed_condition(&reasons, 2) {
                // A later message of this pair committed first (or clocks
                // differ): go after it.
                let last = reasons[2]
                    .item()
                    .and_then(|old| old.get("last_message_at"))
                    .and_then(|value| value.as_s().ok())
                    .and_then(|text| Timestamp::from_stored(text));
                floor = Some(last.map_or(timestamp.next(), Timestamp::next).max(floor.unwrap_or(timestamp)));
                raced = true;
            }
            // The first race is retried at once with the timestamp it
            // learned; racing again means many writers on this pair (a bulk
            // importer), who must spread out or keep colliding.
            if raced {
                races += 1;
                if races > MAX_ORDERING_RACES {
                    break;
                }
            }
            if !raced || races > 1 {
                back_off(attempt).await;
            }
        }
        Err(StoreError::Contention)
    }

    pub async fn pair(&self, recipient: &Identifier, sender: &Identifier) -> Result<Option<Pair>, StoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(pair_key(recipient, sender)))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await?;
        capacity::read(found.consumed_capacity());
        Ok(found.item.map(serde_dynamo::from_item).transpose()?)
    }

    /// Every pair of a mailbox: one per sender who ever wrote to it.
    pub async fn pairs(&self, recipient: &Identifier) -> Result<Vec<Pair>, StoreError> {
        let mut pairs = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :pair)")
                .expression_attribute_values(":pk", s(user_pk(recipient.as_str())))
                .expression_attribute_values(":pair", s("PAIR#"))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await?;
            capacity::read(page.consumed_capacity());
            pairs.extend(serde_dynamo::from_items::<_, Pair>(page.items.unwrap_or_default())?);
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(pairs);
            }
        }
    }

    /// Up to `max` messages of the range, oldest first unless
    /// `newest_first`; strongly consistent.
    pub async fn read_mailbox(
        &self,
        range: MailboxRange<'_>,
        newest_first: bool,
        max: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.read_mailbox_within(range, newest_first, max, usize::MAX).await
    }

    /// Like [`Store::read_mailbox`], for a reply: stops reading once the
    /// messages read pass what one reply carries, so a page of long
    /// messages costs about a reply's worth of reads, not `max` messages.
    pub async fn read_reply_page(
        &self,
        range: MailboxRange<'_>,
        newest_first: bool,
        max: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.read_mailbox_within(range, newest_first, max, MAX_REPLY_BYTES).await
    }

    pub(super) async fn read_mailbox_within(
        &self,
        range: MailboxRange<'_>,
        newest_first: bool,
        max: usize,
        max_bytes: usize,
    ) -> Result<Vec<Message>, StoreError> {
        let mut messages = Vec::new();
        let mut bytes = 0;
        if range.is_empty() || max == 0 {
            return Ok(messages);
        }
        let mut start = None;
        loop {
            let remaining = max - messages.len();
            let page = range
                .query(self)
                .scan_index_forward(!newest_first)
                .projection_expression(MESSAGE_PROJECTION)
                .expression_attribute_names("#ts", "timestamp")
                .limit(i32::try_from(remaining).unwrap_or(i32::MAX))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await?;
            capacity::read(page.consumed_capacity());
            let read = serde_dynamo::from_items::<_, Message>(page.items.unwrap_or_default())?;
            bytes += read.iter().map(entry_bytes).sum::<usize>();
            messages.extend(read);
            start = page.last_evaluated_key;
            if start.is_none() || messages.len() >= max || bytes > max_bytes {
                return Ok(messages);
            }
        }
    }

    /// Messages of a mailbox by timestamp, oldest first; missing ones
    /// (deleted since) are left out.
    pub async fn messages_at(
        &self,
        recipient: &Identifier,
        timestamps: &[Timestamp],
    ) -> Result<Vec<Message>, StoreError> {
        let keys: Vec<Item> = timestamps.iter().map(|t| message_key(recipient, *t)).collect();
        let mut messages: Vec<Message> = self.batch_get(keys, Some(MESSAGE_PROJECTION)).await?;
        messages.sort_by_key(|m| m.timestamp);
        Ok(messages)
    }

    /// The items at `keys` that exist, in no particular order; strongly
    /// consistent, 100 keys a call, unprocessed keys sent again.
    pub(super) async fn batch_get<T: serde::de::DeserializeOwned>(
        &self,
        keys: Vec<Item>,
        projection: Option<&str>,
    ) -> Result<Vec<T>, StoreError> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(MAX_BATCH_GET_KEYS) {
            found.extend(self.batch_get_chunk(chunk.to_vec(), projection).await?);
        }
        Ok(found)
    }

    async fn batch_get_chunk<T: serde::de::DeserializeOwned>(
        &self,
        keys: Vec<Item>,
        projection: Option<&str>,
    ) -> Result<Vec<T>, StoreError> {
        let mut messages = Vec::new();
        let mut keys = KeysAndAttributes::builder().set_keys(Some(keys)).consistent_read(true);
        if let Some(projection) = projection {
            keys = keys.projection_expression(projection).expression_attribute_names("#ts", "timestamp");
        }
        let mut request = Some(keys.build()?);
        let mut attempt = 0;
        while let Some(keys) = request.take() {
            let reply = self
                .client
                .batch_get_item()
                .request_items(&self.table, keys)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await?;
            capacity::reads(reply.consumed_capacity());
            let items = reply.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default();
            messages.extend(serde_dynamo::from_items::<_, T>(items)?);
            request = reply.unprocessed_keys.and_then(|mut u| u.remove(&self.table));
            if request.is_some() {
                attempt += 1;
                if attempt >= MAX_ATTEMPTS {
                    return Err(StoreError::Contention);
                }
                back_off(attempt).await;
            }
        }
        Ok(messages)
    }

    /// Deletes the messages of `sender` to `recipient` at the given
    /// (distinct) timestamps and reports which existed. Messages still new
    /// leave the pair's counter in the same transaction, guarded by `rev`.
    pub async fn delete_messages(
        &self,
        recipient: &Identifier,
        sender: &Identifier,
        timestamps: &[Timestamp],
    ) -> Result<DeleteOutcome, StoreError> {
        let mut outcome = DeleteOutcome::default();
        for attempt in 0..MAX_ATTEMPTS {
            let Some(pair) = self.pair(recipient, sender).await? else {
                return Ok(outcome);
            };
            let found: Vec<Timestamp> = self
                .messages_at(recipient, timestamps)
                .await?
                .into_iter()
                .filter(|m| &m.sender == sender)
                .map(|m| m.timestamp)
                .collect();
            if found.is_empty() {
                return Ok(outcome);
            }
            // A transaction holds 100 items. Only 100 found messages of
            // which some are new need one more (the counter): then 99 go
            // first and the rest on the next round.
            let needs_counter = found.iter().any(|t| pair.is_new(*t));
            let part = if needs_counter { &found[..found.len().min(MAX_TRANSACTION_ITEMS - 1)] } else { &found[..] };
            let mut items = Vec::with_capacity(part.len() + 1);
            for timestamp in part {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(message_key(recipient, *timestamp)))
                    .condition_expression("attribute_exists(pk) AND sender = :sender")
                    .expression_attribute_values(":sender", s(sender.as_str()))
                    .build()?;
                items.push(TransactWriteItem::builder().delete(delete).build());
            }
            let still_new = part.iter().filter(|t| pair.is_new(**t)).count();
            if still_new > 0 {
                // The pair leaves the pending index with its last new message;
                // otherwise `pending_since` stays a valid lower bound.
                let none_left = pair.new_messages == still_new as u64;
                let update = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(pair_key(recipient, sender)))
                    .update_expression(if none_left {
                        "SET new_messages = new_messages - :count, rev = rev + :one REMOVE pending_since"
                    } else {
                        "SET new_messages = new_messages - :count, rev = rev + :one"
                    })
                    // Sends leave `rev` alone: the last new message is only
                    // the last if no send has added one since.
                    .condition_expression(if none_left { "rev = :rev AND new_messages = :count" } else { "rev = :rev" })
                    .expression_attribute_values(":count", n(still_new))
                    .expression_attribute_values(":one", n(1))
                    .expression_attribute_values(":rev", n(pair.rev))
                    .build()?;
                items.push(TransactWriteItem::builder().update(update).build());
            }
            match self.transact(items).await? {
                Transaction::Committed => {
                    outcome.deleted.extend_from_slice(part);
                    if part.len() == found.len() {
                        return Ok(outcome);
                    }
                }
                Transaction::Cancelled(_) => back_off(attempt).await,
            }
        }
        Err(StoreError::Contention)
    }
}
