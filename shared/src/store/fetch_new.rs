//! fetch_new_messages: the oldest new messages of a mailbox, and the
//! cursor moves that make them fetched, in one transaction.
//!
//! Senders are picked from the `by_pending` index (pair keys ordered by
//! `pending_since`, a lower bound of each pair's oldest new message), so a
//! fetch reads pairs and messages of the senders that can be in its batch,
//! not of every sender waiting: 120 senders with one message each cost a
//! `limit: 1` fetch one index entry beyond the one it returns.

use std::collections::{BTreeMap, VecDeque};

use aws_sdk_dynamodb::types::{ReturnConsumedCapacity, TransactWriteItem, Update};
use futures::future::try_join_all;
use serde::Deserialize;

use super::idempotency::IdempotencyClaim;
use super::messages::pair_key;
use super::{
    back_off, capacity, failed_condition, n, s, user_pk, Item, MailboxRange, Pair, Store, StoreError, Transaction,
    MAX_ATTEMPTS,
};
use crate::model::{Identifier, Message, Timestamp};
use crate::reply::{entry_bytes, MAX_REPLY_BYTES};

const PENDING_INDEX: &str = "by_pending";
/// DynamoDB's cap on the items of one transaction.
const MAX_TRANSACTION_ITEMS: usize = 100;

#[derive(Debug, Clone, PartialEq)]
pub struct FetchedBatch {
    pub messages: Vec<Message>,
    pub more: bool,
}

pub enum FetchNewOutcome {
    Fetched(FetchedBatch),
    IdempotencyKeyUsed,
}

/// One pending sender during the merge: its pair, and its new messages
/// read so far, oldest first.
struct Stream {
    pair: Pair,
    read: Vec<Message>,
}

impl Stream {
    fn state(&self) -> StreamState {
        let total = usize::try_from(self.pair.new_messages).unwrap_or(usize::MAX);
        StreamState {
            unread: total.saturating_sub(self.read.len()),
            read: self.read.len(),
            position: self.read.last().map(|m| m.timestamp).or(self.pair.pending_since),
        }
    }
}

/// What the merge's decisions need to know of a stream.
#[derive(Debug, Clone, Copy, PartialEq)]
struct StreamState {
    /// New messages not read yet.
    unread: usize,
    read: usize,
    /// No unread message is older: the last one read, else the pair's
    /// `pending_since`.
    position: Option<Timestamp>,
}

/// The newest message of a full batch of the messages read so far (full
/// by `limit` or by the reply's size): no newer message can be in the
/// batch. `None` while the batch could still take more.
fn cutoff(streams: &[Stream], limit: usize) -> Option<Timestamp> {
    let mut read: Vec<&Message> = streams.iter().flat_map(|s| s.read.iter()).collect();
    read.sort_by_key(|m| m.timestamp);
    let fits = batch_len(&read, limit, usize::MAX, MAX_REPLY_BYTES);
    (fits == limit || fits < read.len()).then(|| read[fits - 1].timestamp)
}

/// How many messages to read next from each stream. First each stream's
/// share of the batch plus one (the extra one shows, when it is newer than
/// the batch, that the sender holds nothing older); then, from streams that
/// may still hold a message older than the cutoff, as many again as read.
fn plan_reads(streams: &[StreamState], limit: usize, cutoff: Option<Timestamp>) -> Vec<usize> {
    let total: usize = streams.iter().map(|s| s.unread + s.read).sum();
    let share = if total <= limit || streams.len() <= 1 { limit } else { limit.div_ceil(streams.len()) + 1 };
    streams
        .iter()
        .map(|stream| {
            let behind = match (cutoff, stream.position) {
                (Some(cutoff), Some(position)) => position < cutoff,
                _ => true,
            };
            match stream.read {
                _ if stream.unread == 0 || !behind => 0,
                0 => stream.unread.min(share),
                read => stream.unread.min(read),
            }
        })
        .collect()
}

/// How many of the oldest candidates make one batch: at most `limit`, from
/// at most `max_senders` senders, and no more than one reply carries.
fn batch_len(candidates: &[&Message], limit: usize, max_senders: usize, max_bytes: usize) -> usize {
    let mut senders: Vec<&Identifier> = Vec::new();
    let mut bytes = 0;
    for (index, message) in candidates.iter().take(limit).enumerate() {
        if !senders.contains(&&message.sender) {
            if senders.len() == max_senders {
                return index;
            }
            senders.push(&message.sender);
        }
        bytes += entry_bytes(message);
        if bytes > max_bytes && index > 0 {
            return index;
        }
    }
    candidates.len().min(limit)
}

/// The pending pairs of a mailbox from the `by_pending` index, oldest
/// bound first, read a page at a time as the merge asks for more.
struct PendingSenders<'a> {
    store: &'a Store,
    recipient: &'a Identifier,
    page: usize,
    buffered: VecDeque<(Identifier, Timestamp)>,
    start: Option<Item>,
    exhausted: bool,
}

impl<'a> PendingSenders<'a> {
    fn new(store: &'a Store, recipient: &'a Identifier, page: usize) -> Self {
        Self { store, recipient, page, buffered: VecDeque::new(), start: None, exhausted: false }
    }

    async fn peek(&mut self) -> Result<Option<&(Identifier, Timestamp)>, StoreError> {
        while self.buffered.is_empty() && !self.exhausted {
            let page = self
                .store
                .client
                .query()
                .table_name(&self.store.table)
                .index_name(PENDING_INDEX)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(user_pk(self.recipient.as_str())))
                .limit(i32::try_from(self.page).unwrap_or(i32::MAX))
                .consistent_read(true)
                .set_exclusive_start_key(self.start.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await?;
            capacity::read(page.consumed_capacity());
            for entry in page.items() {
                let text = |name: &str| entry.get(name).and_then(|value| value.as_s().ok());
                let sender = text("sk").and_then(|sk| sk.strip_prefix("PAIR#"));
                let since = text("pending_since").and_then(|since| Timestamp::from_stored(since));
                let (Some(sender), Some(since)) = (sender, since) else {
                    return Err(StoreError::Corrupt("pending index entry without sender or time".into()));
                };
                self.buffered.push_back((Identifier::trusted(sender.to_owned()), since));
            }
            self.start = page.last_evaluated_key;
            self.exhausted = self.start.is_none();
        }
        Ok(self.buffered.front())
    }

    fn advance(&mut self) -> Option<(Identifier, Timestamp)> {
        self.buffered.pop_front()
    }
}

impl Store {
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
            let Some((streams, more_senders)) = self.oldest_new(recipient, sender, limit).await? else {
                back_off(attempt).await;
                continue;
            };
            let mut candidates: Vec<&Message> = streams.iter().flat_map(|s| s.read.iter()).collect();
            candidates.sort_by_key(|m| m.timestamp);
            let max_senders = MAX_TRANSACTION_ITEMS - usize::from(claim.is_some());
            candidates.truncate(batch_len(&candidates, limit, max_senders, MAX_REPLY_BYTES));
            let batch: Vec<Message> = candidates.into_iter().cloned().collect();

            let mut taken: BTreeMap<&Identifier, usize> = BTreeMap::new();
            for message in &batch {
                *taken.entry(&message.sender).or_default() += 1;
            }
            let more = more_senders
                || streams.iter().any(|s| s.pair.new_messages > taken.get(&s.pair.sender).copied().unwrap_or(0) as u64);

            let mut items = Vec::with_capacity(taken.len() + 1);
            for stream in &streams {
                if let Some(count) = taken.get(&stream.pair.sender) {
                    items.push(self.cursor_move(recipient, stream, *count)?);
                }
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

    /// Moves a pair's cursor past the first `count` messages read from it,
    /// if no fetch or delete changed the pair since it was read. The pair
    /// leaves the pending index with its last new message; otherwise its
    /// `pending_since` becomes the next new message, when it was read, or
    /// just after the cursor.
    fn cursor_move(
        &self,
        recipient: &Identifier,
        stream: &Stream,
        count: usize,
    ) -> Result<TransactWriteItem, StoreError> {
        let through = stream.read[count - 1].timestamp;
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(pair_key(recipient, &stream.pair.sender)))
            .condition_expression("rev = :rev")
            .expression_attribute_values(":through", s(through.to_string()))
            .expression_attribute_values(":count", n(count))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":rev", n(stream.pair.rev));
        let moved = "SET fetched_through = :through, new_messages = new_messages - :count, rev = rev + :one";
        update = if stream.pair.new_messages == count as u64 {
            // Only if no send has added a message since: sends leave `rev`
            // alone, and a pair with a new message must stay in the index.
            update
                .update_expression(format!("{moved} REMOVE pending_since"))
                .condition_expression("rev = :rev AND new_messages = :count")
        } else {
            let since = stream.read.get(count).map_or_else(|| through.next(), |m| m.timestamp);
            update
                .update_expression(format!("{moved}, pending_since = :since"))
                .expression_attribute_values(":since", s(since.to_string()))
        };
        Ok(TransactWriteItem::builder().update(update.build()?).build())
    }

    /// The pending senders that can hold one of the `limit` oldest new
    /// messages, with those messages read; and whether other senders wait
    /// beyond them. `None` when a concurrent delete left fewer than a
    /// counter promised (the caller reads again, since moving a cursor now
    /// could pass a message unseen).
    ///
    /// A lazy merge: senders are taken from the pending index in order of
    /// their bound until they hold `limit` messages, then only while their
    /// bound is older than the cutoff; each sender's messages are read in
    /// growing chunks while it may still hold one older than the cutoff.
    async fn oldest_new(
        &self,
        recipient: &Identifier,
        sender: Option<&Identifier>,
        limit: usize,
    ) -> Result<Option<(Vec<Stream>, bool)>, StoreError> {
        let mut streams: Vec<Stream> = Vec::new();
        let mut pending = PendingSenders::new(self, recipient, limit.min(100) + 1);
        if let Some(sender) = sender {
            streams.extend(self.pair(recipient, sender).await?.map(|pair| Stream { pair, read: Vec::new() }));
            pending.exhausted = true;
        }
        loop {
            let cutoff = cutoff(&streams, limit);
            let mut admitted = Vec::new();
            let mut promised: usize = streams.iter().map(|s| s.pair.new_messages as usize).sum();
            while let Some((_, since)) = pending.peek().await? {
                let needed = match cutoff {
                    Some(cutoff) => *since < cutoff,
                    None => promised < limit,
                };
                if !needed {
                    break;
                }
                let Some((sender, _)) = pending.advance() else { break };
                // A pair that a concurrent fetch moved along the index can
                // come up again on a later page: it is one stream.
                if streams.iter().any(|s| s.pair.sender == sender) || admitted.contains(&sender) {
                    continue;
                }
                admitted.push(sender);
                promised += 1;
            }
            if !admitted.is_empty() {
                let keys = admitted.iter().map(|sender| pair_key(recipient, sender)).collect();
                let pairs: Vec<Pair> = self.batch_get(keys, None).await?;
                streams.extend(pairs.into_iter().map(|pair| Stream { pair, read: Vec::new() }));
            }
            streams.retain(|s| s.pair.new_messages > 0);
            streams.sort_by_key(|s| s.pair.pending_since);

            let states: Vec<StreamState> = streams.iter().map(Stream::state).collect();
            let wanted = plan_reads(&states, limit, cutoff);
            if wanted.iter().all(|w| *w == 0) {
                let more_senders = pending.peek().await?.is_some();
                return Ok(Some((streams, more_senders)));
            }
            let reads = streams.iter().zip(&wanted).filter(|(_, w)| **w > 0).map(|(stream, wanted)| {
                let after = stream.read.last().map(|m| m.timestamp).or(stream.pair.fetched_through);
                let range = MailboxRange {
                    recipient,
                    sender: Some(&stream.pair.sender),
                    from: after.map(Timestamp::next),
                    to: None,
                };
                // A reply's worth at most: long messages fill a batch long
                // before `limit` does.
                self.read_mailbox_within(range, false, *wanted, MAX_REPLY_BYTES)
            });
            let chunks = try_join_all(reads).await?;
            let reading = streams.iter_mut().zip(&wanted).filter(|(_, w)| **w > 0);
            for ((stream, wanted), chunk) in reading.zip(chunks) {
                let cut_by_size = chunk.iter().map(entry_bytes).sum::<usize>() > MAX_REPLY_BYTES;
                if chunk.len() < *wanted && !cut_by_size {
                    return Ok(None);
                }
                stream.read.extend(chunk);
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: u32) -> Timestamp {
        Timestamp::parse("t", &format!("2026-01-01T00:00:{second:02}Z")).expect("timestamp")
    }

    fn state(unread: usize, read: usize, position: Option<u32>) -> StreamState {
        StreamState { unread, read, position: position.map(at) }
    }

    #[test]
    fn plan_reads_first_shares_then_grows_behind_the_cutoff() {
        // (case, streams, limit, cutoff second, expected reads)
        type Case = (&'static str, Vec<StreamState>, usize, Option<u32>, Vec<usize>);
        let cases: Vec<Case> = vec![
            ("all fits: read everything", vec![state(3, 0, None), state(2, 0, None)], 10, None, vec![3, 2]),
            ("one sender: the limit", vec![state(50, 0, None)], 10, None, vec![10]),
            ("share plus one", vec![state(50, 0, None), state(50, 0, None)], 10, None, vec![6, 6]),
            (
                "ahead of the cutoff: nothing",
                vec![state(5, 6, Some(30)), state(5, 6, Some(10))],
                10,
                Some(20),
                vec![0, 5],
            ),
            ("bound past the cutoff: nothing", vec![state(5, 0, Some(30))], 1, Some(20), vec![0]),
            ("no cutoff yet: double", vec![state(40, 4, Some(9))], 10, None, vec![4]),
            ("drained: nothing", vec![state(0, 4, Some(9))], 10, None, vec![0]),
        ];
        for (case, streams, limit, cutoff, expected) in cases {
            assert_eq!(plan_reads(&streams, limit, cutoff.map(at)), expected, "{case}");
        }
    }

    fn message(sender: &str, second: u32, chars: usize) -> Message {
        Message {
            sender: Identifier::trusted(sender.to_owned()),
            recipient: Identifier::trusted("rcp".to_owned()),
            timestamp: at(second),
            message: "x".repeat(chars),
        }
    }

    #[test]
    fn batch_len_cuts_by_limit_senders_and_bytes() {
        let messages = [message("aaa", 1, 10), message("bbb", 2, 10), message("aaa", 3, 10), message("ccc", 4, 10)];
        let all: Vec<&Message> = messages.iter().collect();
        let one = entry_bytes(&messages[0]);
        let cases = [
            ("limit", 2, 100, usize::MAX, 2),
            ("everything", 10, 100, usize::MAX, 4),
            ("two senders", 10, 2, usize::MAX, 3),
            ("one sender", 10, 1, usize::MAX, 1),
            ("bytes for two", 10, 100, 2 * one + 1, 2),
            ("at least one", 10, 100, 0, 1),
        ];
        for (case, limit, senders, bytes, expected) in cases {
            assert_eq!(batch_len(&all, limit, senders, bytes), expected, "{case}");
        }
    }
}
