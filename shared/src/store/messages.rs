//! Messages, and the pair item of each (recipient, sender) that holds the
//! fetch cursor and the counters. Every change that touches both is one
//! transaction, and every transaction on a pair is guarded by a condition,
//! so concurrent senders, fetchers and deleters can only lose a race and
//! retry, never leave a skipped or doubly delivered message behind.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{
    ConditionCheck, Delete, KeysAndAttributes, Put, ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure,
    Select, TransactWriteItem, Update,
};
use futures::future::try_join_all;
use serde::Deserialize;

use super::idempotency::IdempotencyClaim;
use super::{
    back_off, capacity, failed_condition, key, n, s, user_pk, Item, Store, StoreError, Transaction, MAX_ATTEMPTS,
    PROFILE_SK, SENDER_INDEX,
};
use crate::model::{Identifier, Message, Timestamp};

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

fn pair_key(recipient: &Identifier, sender: &Identifier) -> Item {
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
    fn is_empty(&self) -> bool {
        matches!((self.from, self.to), (Some(from), Some(to)) if from > to)
    }

    /// The key condition of the range: on the table's sort key for the whole
    /// mailbox, on the `by_sender` index for one sender. Never a filter, so
    /// a query's `Limit` counts exactly the messages in the range.
    fn query(&self, store: &Store) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
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

#[derive(Debug, Clone, PartialEq)]
pub struct FetchedBatch {
    pub messages: Vec<Message>,
    pub more: bool,
}

pub enum FetchNewOutcome {
    Fetched(FetchedBatch),
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
        for attempt in 0..MAX_ATTEMPTS {
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
            if !raced {
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
        let mut messages = Vec::new();
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
            messages.extend(serde_dynamo::from_items::<_, Message>(page.items.unwrap_or_default())?);
            start = page.last_evaluated_key;
            if start.is_none() || messages.len() >= max {
                return Ok(messages);
            }
        }
    }

    /// How many messages the range holds (reads them all: use sparingly).
    pub async fn count_mailbox(&self, range: MailboxRange<'_>) -> Result<usize, StoreError> {
        if range.is_empty() {
            return Ok(0);
        }
        let mut count = 0;
        let mut start = None;
        loop {
            let page = range
                .query(self)
                .select(Select::Count)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await?;
            capacity::read(page.consumed_capacity());
            count += usize::try_from(page.count).unwrap_or(0);
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(count);
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
        let mut messages = Vec::with_capacity(timestamps.len());
        for chunk in timestamps.chunks(MAX_BATCH_GET_KEYS) {
            let keys = chunk.iter().map(|t| message_key(recipient, *t)).collect();
            messages.extend(self.batch_get(keys).await?);
        }
        messages.sort_by_key(|m| m.timestamp);
        Ok(messages)
    }

    async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Message>, StoreError> {
        let mut messages = Vec::new();
        let mut request = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .projection_expression(MESSAGE_PROJECTION)
                .expression_attribute_names("#ts", "timestamp")
                .consistent_read(true)
                .build()?,
        );
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
            messages.extend(serde_dynamo::from_items::<_, Message>(items)?);
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

    /// Returns, oldest first, up to `limit` messages that no earlier fetch
    /// returned, and moves the cursors past them in one transaction that
    /// conditions on every touched pair's `rev`. A racing fetch or delete
    /// makes it retry from a fresh read, so no message is returned twice
    /// or skipped. With a claim, the batch is recorded in that transaction.
    pub async fn fetch_new(
        &self,
        recipient: &Identifier,
        sender: Option<&Identifier>,
        limit: usize,
        claim: Option<&IdempotencyClaim>,
    ) -> Result<FetchNewOutcome, StoreError> {
        for attempt in 0..MAX_ATTEMPTS {
            let pairs = match sender {
                Some(sender) => self.pair(recipient, sender).await?.into_iter().collect(),
                None => self.pairs(recipient).await?,
            };
            let pending: Vec<Pair> = pairs.into_iter().filter(|p| p.new_messages > 0).collect();
            let Some(candidates) = self.oldest_new(recipient, &pending, limit).await? else {
                back_off(attempt).await;
                continue;
            };

            // The oldest `limit` messages, cut short where one more sender
            // would overflow the transaction.
            let pair_budget = MAX_TRANSACTION_ITEMS - usize::from(claim.is_some());
            let mut taken: BTreeMap<&Identifier, (u64, Timestamp)> = BTreeMap::new();
            let mut batch = Vec::new();
            for message in candidates.iter().take(limit) {
                if !taken.contains_key(&message.sender) && taken.len() == pair_budget {
                    break;
                }
                let entry = taken.entry(&message.sender).or_insert((0, message.timestamp));
                entry.0 += 1;
                entry.1 = entry.1.max(message.timestamp);
                batch.push(message.clone());
            }
            let more = pending.iter().any(|pair| {
                let count = taken.get(&pair.sender).map_or(0, |(count, _)| *count);
                pair.new_messages > count
            });

            let mut items = Vec::with_capacity(taken.len() + 1);
            for pair in &pending {
                let Some((count, through)) = taken.get(&pair.sender) else {
                    continue;
                };
                let update = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(pair_key(recipient, &pair.sender)))
                    .update_expression(
                        "SET fetched_through = :through, new_messages = new_messages - :count, rev = rev + :one",
                    )
                    .condition_expression("rev = :rev")
                    .expression_attribute_values(":through", s(through.to_string()))
                    .expression_attribute_values(":count", n(count))
                    .expression_attribute_values(":one", n(1))
                    .expression_attribute_values(":rev", n(pair.rev))
                    .build()?;
                items.push(TransactWriteItem::builder().update(update).build());
            }
            let claim_index = items.len();
            if let Some(claim) = claim {
                let result = FetchReplay::new(&batch, more).to_json();
                items.push(self.idempotency_item(claim, &result, Timestamp::now())?);
            }
            let fetched = FetchedBatch { messages: batch, more };
            if items.is_empty() {
                return Ok(FetchNewOutcome::Fetched(fetched));
            }
            match self.transact(items).await? {
                Transaction::Committed => return Ok(FetchNewOutcome::Fetched(fetched)),
                Transaction::Cancelled(reasons) if claim.is_some() && failed_condition(&reasons, claim_index) => {
                    return Ok(FetchNewOutcome::IdempotencyKeyUsed);
                }
                Transaction::Cancelled(_) => back_off(attempt).await,
            }
        }
        Err(StoreError::Contention)
    }

    /// The oldest `limit` new messages of the pending pairs, oldest first;
    /// `None` when a concurrent delete left fewer than a counter promised
    /// (the caller reads again, since moving a cursor now could pass a
    /// message unseen).
    ///
    /// A lazy merge: each sender's new messages are read in growing chunks,
    /// and only from senders who may still hold one older than the
    /// `limit`-th oldest read so far, so the reads stay near `limit`
    /// messages however many senders wait.
    async fn oldest_new(
        &self,
        recipient: &Identifier,
        pending: &[Pair],
        limit: usize,
    ) -> Result<Option<Vec<Message>>, StoreError> {
        let unread_count = |pair: &Pair, read: &[Message]| {
            usize::try_from(pair.new_messages).unwrap_or(usize::MAX).saturating_sub(read.len())
        };
        let total_new: u64 = pending.iter().map(|pair| pair.new_messages).sum();
        // Everything fits in one batch: read it all at once. Otherwise each
        // sender's share of the batch, plus one message that shows (when it
        // is newer than the batch) that the sender holds nothing older.
        let share = match pending.len() {
            _ if total_new <= limit as u64 => limit,
            0 | 1 => limit,
            senders => limit.div_ceil(senders) + 1,
        };
        let mut streams: Vec<Vec<Message>> = vec![Vec::new(); pending.len()];
        let mut wanted: Vec<usize> = pending.iter().map(|pair| unread_count(pair, &[]).min(share)).collect();
        loop {
            let reads = pending.iter().zip(&streams).zip(&wanted).filter(|(_, wanted)| **wanted > 0).map(
                |((pair, read), wanted)| {
                    let after = read.last().map(|m| m.timestamp).or(pair.fetched_through);
                    let range = MailboxRange {
                        recipient,
                        sender: Some(&pair.sender),
                        from: after.map(Timestamp::next),
                        to: None,
                    };
                    self.read_mailbox(range, false, *wanted)
                },
            );
            let chunks = try_join_all(reads).await?;
            let reading = streams.iter_mut().zip(&wanted).filter(|(_, wanted)| **wanted > 0);
            for ((read, wanted), chunk) in reading.zip(chunks) {
                if chunk.len() < *wanted {
                    return Ok(None);
                }
                read.extend(chunk);
            }

            let mut candidates: Vec<&Message> = streams.iter().flatten().collect();
            candidates.sort_by_key(|m| m.timestamp);
            let cutoff = candidates.get(limit.saturating_sub(1)).map(|m| m.timestamp);
            // A sender may still hold an older message than the cutoff only
            // if its last read one is older; without a cutoff, every sender
            // with unread messages may.
            for ((pair, read), wanted) in pending.iter().zip(&streams).zip(wanted.iter_mut()) {
                let last = read.last().map(|m| m.timestamp);
                let behind = match (cutoff, last) {
                    (Some(cutoff), Some(last)) => last < cutoff,
                    _ => true,
                };
                *wanted = if behind { unread_count(pair, read).min(read.len().max(1)) } else { 0 };
            }
            if wanted.iter().all(|wanted| *wanted == 0) {
                candidates.truncate(limit);
                return Ok(Some(candidates.into_iter().cloned().collect()));
            }
        }
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
                let update = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(pair_key(recipient, sender)))
                    .update_expression("SET new_messages = new_messages - :count, rev = rev + :one")
                    .condition_expression("rev = :rev")
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

/// What an idempotent fetch_new_messages keeps to replay its batch: each
/// message's sender and timestamp (the text is read again, so a record stays
/// small whatever the batch; the sender guards against a later message that
/// took a deleted one's timestamp) and the `more` flag.
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
pub struct FetchReplay {
    pub messages: Vec<(Identifier, Timestamp)>,
    pub more: bool,
}

impl FetchReplay {
    fn new(batch: &[Message], more: bool) -> Self {
        Self { messages: batch.iter().map(|m| (m.sender.clone(), m.timestamp)).collect(), more }
    }

    fn to_json(&self) -> String {
        serde_json::to_string(self).expect("replay serializes")
    }

    pub fn timestamps(&self) -> Vec<Timestamp> {
        self.messages.iter().map(|(_, timestamp)| *timestamp).collect()
    }

    /// Whether a message read back is one of the batch.
    pub fn contains(&self, message: &Message) -> bool {
        self.messages.iter().any(|(sender, timestamp)| *sender == message.sender && *timestamp == message.timestamp)
    }
}
