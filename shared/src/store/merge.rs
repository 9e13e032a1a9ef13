//! The decisions of fetch_new_messages' lazy merge of pending senders,
//! pure so that they can be checked without DynamoDB: which senders to
//! admit, how many messages to read from each, where a full batch ends,
//! and how many of the oldest messages make one batch. Owns no items.

use std::collections::BTreeMap;

use super::pairs::Pair;
use crate::model::{GroupId, Identifier, Message, Timestamp};
use crate::reply::{entry_bytes, MAX_REPLY_BYTES};

/// One pending sender during the merge: its pair, and its new messages
/// read so far, oldest first.
pub(super) struct Stream {
    pub(super) pair: Pair,
    pub(super) read: Vec<Message>,
}

impl Stream {
    /// Whether fetching the first `count` messages read settles the pair's
    /// last new one.
    pub(super) fn drained_by(&self, count: usize) -> bool {
        self.pair.new_messages == count as u64
    }

    pub(super) fn state(&self) -> StreamState {
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
pub(super) struct StreamState {
    /// New messages not read yet.
    unread: usize,
    read: usize,
    /// No unread message is older: the last one read, else the pair's
    /// `pending_since`.
    position: Option<Timestamp>,
}

/// Whether the next pending sender, whose oldest new message is no older
/// than `since`, can hold a message of the batch: while the senders
/// admitted so far promise fewer than `limit` messages, any can; once the
/// batch has a cutoff, only one older than it.
pub(super) fn admits(since: Timestamp, cutoff: Option<Timestamp>, promised: usize, limit: usize) -> bool {
    match cutoff {
        Some(cutoff) => since < cutoff,
        None => promised < limit,
    }
}

/// The newest message of a full batch of the messages read so far (full
/// by `limit` or by the reply's size): no newer message can be in the
/// batch. `None` while the batch could still take more.
pub(super) fn cutoff(streams: &[Stream], limit: usize) -> Option<Timestamp> {
    let read = oldest_first(streams);
    let fits = batch_len(&read, limit, usize::MAX, MAX_REPLY_BYTES);
    (fits == limit || fits < read.len()).then(|| read[fits - 1].timestamp)
}

/// Every message read from the streams, oldest first.
pub(super) fn oldest_first(streams: &[Stream]) -> Vec<&Message> {
    let mut read: Vec<&Message> = streams.iter().flat_map(|s| s.read.iter()).collect();
    read.sort_by_key(|m| m.timestamp);
    read
}

/// How many messages to read next from each stream. First each stream's
/// share of the batch plus one (the extra one shows, when it is newer than
/// the batch, that the sender holds nothing older); then, from streams that
/// may still hold a message older than the cutoff, as many again as read.
pub(super) fn plan_reads(streams: &[StreamState], limit: usize, cutoff: Option<Timestamp>) -> Vec<usize> {
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

/// The read state a message settles: its pair's (by sender) or its group's.
fn settled_by(message: &Message) -> (Option<&GroupId>, Option<&Identifier>) {
    match &message.group {
        Some(group) => (Some(group), None),
        None => (None, Some(&message.sender)),
    }
}

/// How many of the oldest candidates make one batch: at most `limit`, from
/// at most `max_senders` pairs and groups (each a write of the fetch's
/// transaction), and no more than one reply carries.
pub(super) fn batch_len(candidates: &[&Message], limit: usize, max_senders: usize, max_bytes: usize) -> usize {
    let mut senders = Vec::new();
    let mut bytes = 0;
    for (index, message) in candidates.iter().take(limit).enumerate() {
        if !senders.contains(&settled_by(message)) {
            if senders.len() == max_senders {
                return index;
            }
            senders.push(settled_by(message));
        }
        bytes += entry_bytes(message);
        if bytes > max_bytes && index > 0 {
            return index;
        }
    }
    candidates.len().min(limit)
}

/// How many messages a batch takes from each sender's pair (group
/// messages left out).
pub(super) fn taken_per_sender(batch: &[Message]) -> BTreeMap<&Identifier, usize> {
    let mut taken = BTreeMap::new();
    for message in batch.iter().filter(|m| m.group.is_none()) {
        *taken.entry(&message.sender).or_default() += 1;
    }
    taken
}

/// How many messages a batch takes from each group.
pub(super) fn taken_per_group(batch: &[Message]) -> BTreeMap<&GroupId, usize> {
    let mut taken = BTreeMap::new();
    for message in batch {
        if let Some(group) = &message.group {
            *taken.entry(group).or_default() += 1;
        }
    }
    taken
}

/// Whether new messages remain after a batch: some sender beyond the
/// streams read, or a stream the batch did not drain.
pub(super) fn more_after(streams: &[Stream], taken: &BTreeMap<&Identifier, usize>, more_senders: bool) -> bool {
    more_senders || streams.iter().any(|s| s.pair.new_messages > taken.get(&s.pair.sender).copied().unwrap_or(0) as u64)
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

    #[test]
    fn senders_are_admitted_until_the_batch_is_full_then_only_behind_its_cutoff() {
        // (case, since, cutoff, promised, limit, admitted)
        let cases = [
            ("room left", 30, None, 9, 10, true),
            ("promised enough", 30, None, 10, 10, false),
            ("older than the cutoff", 10, Some(20), 50, 10, true),
            ("at the cutoff", 20, Some(20), 0, 10, false),
            ("newer than the cutoff", 30, Some(20), 0, 10, false),
        ];
        for (case, since, cutoff, promised, limit, expected) in cases {
            assert_eq!(admits(at(since), cutoff.map(at), promised, limit), expected, "{case}");
        }
    }

    fn message(sender: &str, second: u32, chars: usize) -> Message {
        Message {
            sender: Identifier::parse("s", sender).expect("sender"),
            recipient: Identifier::parse("r", "rcp").expect("recipient"),
            timestamp: at(second),
            message: "x".repeat(chars),
            group: None,
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

    fn stream(sender: &str, new_messages: u64) -> Stream {
        let pair = Pair {
            sender: Identifier::parse("s", sender).expect("sender"),
            last_message_at: at(59),
            sent: new_messages + 3,
            fetched_through: None,
            new_messages,
            pending_since: Some(at(1)),
            rev: 0,
            cleared_through: None,
        };
        Stream { pair, read: Vec::new() }
    }

    #[test]
    fn a_stream_is_drained_when_its_last_new_message_is_fetched() {
        let read = vec![message("aaa", 1, 1), message("aaa", 3, 1)];
        // (case, new messages, fetched of the read, drained)
        let cases = [("all new fetched", 2, 2, true), ("the next was read", 2, 1, false), ("more beyond", 5, 2, false)];
        for (case, new_messages, count, expected) in cases {
            let stream = Stream { read: read.clone(), ..stream("aaa", new_messages) };
            assert_eq!(stream.drained_by(count), expected, "{case}");
        }
    }

    #[test]
    fn more_remains_unless_the_batch_drains_every_stream_and_no_sender_waits() {
        let batch = [message("aaa", 1, 1), message("bbb", 2, 1), message("aaa", 3, 1)];
        let taken = taken_per_sender(&batch);
        assert_eq!(taken.values().copied().collect::<Vec<_>>(), [2, 1]);
        // (case, streams' new messages, other senders waiting, more)
        let cases = [
            ("drained", [2, 1], false, false),
            ("another sender waits", [2, 1], true, true),
            ("aaa has one more", [3, 1], false, true),
        ];
        for (case, [aaa, bbb], waiting, expected) in cases {
            let streams = [stream("aaa", aaa), stream("bbb", bbb)];
            assert_eq!(more_after(&streams, &taken, waiting), expected, "{case}");
        }
    }
}
