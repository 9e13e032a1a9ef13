//! fetch_new_messages: the oldest new messages of a mailbox, and the
//! cursor moves that make them fetched, in one transaction of the pairs'
//! read sides (`pairs.rs`), which no send writes; keeps a fetch's
//! idempotency record (the batch to replay).
//!
//! Senders are picked from the `by_pending` index (pair keys ordered by
//! `pending_since`, a lower bound of each pair's oldest new message), so a
//! fetch reads pairs and messages of the senders that can be in its batch,
//! not of every sender waiting: 120 senders with one message each cost a
//! `limit: 1` fetch one index entry beyond the one it returns. The merge's
//! decisions are in `merge.rs`, the index reader in `pending.rs`.

use futures::future::try_join_all;
use serde::{Deserialize, Serialize};

use super::group_fetch::GroupStream;
use super::idempotency::{IdempotencyClaim, Recorded};
use super::merge::{
    admits, batch_len, cutoff, more_after, oldest_first, plan_reads, taken_per_group, taken_per_sender, Stream,
};
use super::pending::{PendingSenders, Waiting};
use super::transaction::{after_losses, Transaction};
use super::{failed_condition, MailboxRange, Store, StoreError, MAX_TRANSACTION_ITEMS};
use crate::model::{GroupId, Identifier, Message, Timestamp};
use crate::reply::{entry_bytes, MAX_REPLY_BYTES};

#[derive(Debug, Clone, PartialEq)]
pub struct FetchedBatch {
    pub messages: Vec<Message>,
    pub more: bool,
}

pub enum FetchNewOutcome {
    Fetched(FetchedBatch),
    IdempotencyKeyUsed,
}

/// What an idempotent fetch keeps to replay its batch: each message's
/// sender and timestamp (the text is read again, so a record stays small
/// whatever the batch; the sender guards against a later message that took
/// a deleted one's timestamp) and the `more` flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct FetchReplay {
    messages: Vec<(Identifier, Timestamp)>,
    /// The batch's group messages, by group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    group_messages: Vec<(GroupId, Identifier, Timestamp)>,
    more: bool,
}

impl FetchReplay {
    fn of(batch: &FetchedBatch) -> Self {
        let (in_groups, direct): (Vec<&Message>, Vec<&Message>) =
            batch.messages.iter().partition(|m| m.group.is_some());
        Self {
            messages: direct.iter().map(|m| (m.sender.clone(), m.timestamp)).collect(),
            group_messages: in_groups
                .iter()
                .filter_map(|m| Some((m.group.clone()?, m.sender.clone(), m.timestamp)))
                .collect(),
            more: batch.more,
        }
    }

    /// Whether a message read back is one of the batch.
    fn contains(&self, message: &Message) -> bool {
        self.messages.iter().any(|(sender, timestamp)| *sender == message.sender && *timestamp == message.timestamp)
    }
}

/// What a fetch may return: the pending senders that can hold one of its
/// messages, with those read; whether other senders wait beyond them; and
/// the senders met in the index with nothing new left, with their `sent`.
struct Candidates {
    streams: Vec<Stream>,
    /// Groups met in the index that can hold one of the messages.
    groups: Vec<GroupId>,
    more_senders: bool,
    drained: Vec<(Identifier, u64)>,
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
        // A fetch that loses to another fetch (or a delete) of the same
        // cursors reads again and answers with what is still new, however
        // often it loses within the request's time: each loss is another
        // fetch's progress.
        let mut losses = 0;
        loop {
            after_losses(losses).await?;
            let Some(Candidates { streams, groups, more_senders, mut drained }) =
                self.oldest_new(recipient, sender, limit).await?
            else {
                losses += 1;
                continue;
            };
            let group_streams = self.group_streams(recipient, &groups, limit).await?;
            let mut candidates = oldest_first(&streams);
            candidates.extend(group_streams.iter().flat_map(|g| &g.unread.messages));
            candidates.sort_by_key(|m| m.timestamp);
            let max_senders = MAX_TRANSACTION_ITEMS - usize::from(claim.is_some());
            candidates.truncate(batch_len(&candidates, limit, max_senders, MAX_REPLY_BYTES));
            let batch: Vec<Message> = candidates.into_iter().cloned().collect();
            let taken = taken_per_sender(&batch);
            let taken_of_group = taken_per_group(&batch);
            let taken_from = |g: &GroupStream| taken_of_group.get(g.group()).copied().unwrap_or(0);
            let more = more_after(&streams, &taken, more_senders)
                || group_streams.iter().any(|g| !g.drained_by(taken_from(g)));

            let mut items = Vec::with_capacity(taken.len() + 1);
            for stream in &streams {
                if let Some(&count) = taken.get(&stream.pair.sender) {
                    let through = stream.read[count - 1].timestamp;
                    items.push(stream.pair.settle(self, recipient, count, Some(through))?);
                    if stream.drained_by(count) {
                        drained.push((stream.pair.sender.clone(), stream.pair.sent));
                    }
                }
            }
            let mut drained_groups = Vec::new();
            for stream in &group_streams {
                let count = taken_from(stream);
                if count > 0 {
                    items.push(stream.settle(self, recipient, count)?);
                }
                if let Some(position) = stream.position_after(count).filter(|_| stream.drained_by(count)) {
                    drained_groups.push((stream.group().clone(), position));
                }
            }
            let fetched = FetchedBatch { messages: batch, more };
            let claim_index = items.len();
            if let Some(claim) = claim {
                items.push(self.idempotency_item(claim, FetchReplay::of(&fetched))?);
            }
            if !items.is_empty() {
                match self.transact(items).await? {
                    Transaction::Committed => {}
                    Transaction::Cancelled(reasons) if claim.is_some() && failed_condition(&reasons, claim_index) => {
                        return Ok(FetchNewOutcome::IdempotencyKeyUsed);
                    }
                    Transaction::Cancelled(_) => {
                        losses += 1;
                        continue;
                    }
                }
            }
            futures::join!(self.tidy_pending(recipient, drained), self.tidy_markers(recipient, drained_groups));
            return Ok(FetchNewOutcome::Fetched(fetched));
        }
    }

    /// The batch an earlier fetch with this claim's key returned, read
    /// again: its messages that still exist, and its `more`.
    pub async fn earlier_fetch(
        &self,
        recipient: &Identifier,
        claim: &IdempotencyClaim,
    ) -> Result<Option<Recorded<FetchedBatch>>, StoreError> {
        let replay = match self.idempotency_record::<FetchReplay>(claim).await? {
            Some(Recorded::Response(replay)) => replay,
            Some(Recorded::OtherRequest) => return Ok(Some(Recorded::OtherRequest)),
            None => return Ok(None),
        };
        let timestamps: Vec<Timestamp> = replay.messages.iter().map(|(_, timestamp)| *timestamp).collect();
        let messages = self.messages_at(recipient, &timestamps).await?;
        let mut messages: Vec<Message> = messages.into_iter().filter(|m| replay.contains(m)).collect();
        messages.extend(self.group_messages_at(recipient, &replay.group_messages).await?);
        messages.sort_by_key(|m| m.timestamp);
        Ok(Some(Recorded::Response(FetchedBatch { messages, more: replay.more })))
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
    ) -> Result<Option<Candidates>, StoreError> {
        let mut streams: Vec<Stream> = Vec::new();
        let mut groups: Vec<GroupId> = Vec::new();
        let mut drained = Vec::new();
        let mut pending = PendingSenders::new(self, recipient, limit.min(100) + 1);
        if let Some(sender) = sender {
            streams.extend(self.pair(recipient, sender).await?.map(|pair| Stream { pair, read: Vec::new() }));
            pending.exhausted = true;
        }
        loop {
            let cutoff = cutoff(&streams, limit);
            let mut admitted = Vec::new();
            // A group promises one message: its marker shows it may hold some.
            let mut promised: usize =
                streams.iter().map(|s| s.pair.new_messages as usize).sum::<usize>() + groups.len();
            while let Some((_, since)) = pending.peek().await? {
                if !admits(*since, cutoff, promised, limit) {
                    break;
                }
                // A pair or group that a concurrent fetch moved along the
                // index can come up again on a later page: it is one stream.
                match pending.advance() {
                    None => break,
                    Some((Waiting::Pair(sender), _)) => {
                        if streams.iter().any(|s| s.pair.sender == sender) || admitted.contains(&sender) {
                            continue;
                        }
                        admitted.push(sender);
                    }
                    Some((Waiting::Group(group), _)) => {
                        if groups.contains(&group) {
                            continue;
                        }
                        groups.push(group);
                    }
                }
                promised += 1;
            }
            for pair in self.pairs_of(recipient, &admitted).await? {
                if pair.new_messages == 0 {
                    // Fetched or deleted, its bound not tidied yet.
                    drained.push((pair.sender.clone(), pair.sent));
                }
                streams.push(Stream { pair, read: Vec::new() });
            }
            streams.retain(|s| s.pair.new_messages > 0);
            streams.sort_by_key(|s| s.pair.pending_since);

            let states: Vec<_> = streams.iter().map(Stream::state).collect();
            let wanted = plan_reads(&states, limit, cutoff);
            if wanted.iter().all(|w| *w == 0) {
                let more_senders = pending.peek().await?.is_some();
                return Ok(Some(Candidates { streams, groups, more_senders, drained }));
            }
            let reads = streams.iter().zip(&wanted).filter(|(_, w)| **w > 0).map(|(stream, wanted)| {
                let after = stream.read.last().map(|m| m.timestamp).or(stream.pair.fetched_through);
                let range = MailboxRange {
                    recipient,
                    group: None,
                    sender: Some(&stream.pair.sender),
                    from: after.map(Timestamp::next),
                    to: None,
                };
                // A reply's worth at most: long messages fill a batch long
                // before `limit` does.
                self.read_mailbox(range, false, *wanted, MAX_REPLY_BYTES)
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
