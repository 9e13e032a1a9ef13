//! fetch_messages' `read` filter: the read, or the unread, messages of a
//! mailbox range, taken from the oldest or from the newest. Reads go by key
//! conditions only, never a filter expression (DynamoDB applies `Limit`
//! before one). Owns no items.
//!
//! A pair's unread messages are one `by_sender` key range: after its cursor
//! (`fetched_through`, `pairs.rs`), from its `pending_since` and through its
//! `last_message_at`; its read ones are the range through the cursor. So:
//!
//! - unread, of one sender: that pair's range;
//! - unread, of everyone: the ranges of the pending pairs (`pending.rs`;
//!   every pair with unread messages is one), merged lazily: a range is
//!   read only once its bound (its first possible message in the view's
//!   order) can come before the best message already read, a page at a
//!   time, each page asking for what is still wanted and no more than the
//!   pair has unread;
//! - read, of one sender: the range through its cursor;
//! - read, of everyone: the mailbox by time less its unread messages, each
//!   sender's cursor read once, when first met. This reads, beyond what it
//!   returns, the unread messages in the window (at most the mailbox's
//!   unread count): read messages have no per-sender lower bound, so a
//!   merge of per-sender ranges would read a page of every sender who ever
//!   wrote, however few messages are asked for.
//!
//! A group's messages are judged by the member's read state in it
//! (`group_fetch.rs`): the range by time (the unread ones from the member's
//! position, a key condition), less the others (their own messages, which
//! are read, and those a `sender` mark covers).
//!
//! Skipped positions are read as messages: no keys-only index holds the
//! filtered sequence.

use std::cmp::Ordering;
use std::collections::{HashMap, VecDeque};

use super::{GroupReadState, Item, MailboxRange, Pair, Store, StoreError};
use crate::model::{Identifier, Message, Timestamp};
use crate::reply::entry_bytes;

/// Which positions of a filtered sequence to read: `skip` of them from the
/// oldest (from the newest with `newest_first`), then up to `take`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Positions {
    pub newest_first: bool,
    pub skip: usize,
    pub take: usize,
}

impl Store {
    /// The messages of the range at `positions` among its read ones (its
    /// unread ones when `read` is false), in the order read; strongly
    /// consistent. Like [`Store::read_mailbox`], stops once the messages
    /// taken pass `max_bytes`.
    pub async fn read_filtered(
        &self,
        range: MailboxRange<'_>,
        read: bool,
        positions: Positions,
        max_bytes: usize,
    ) -> Result<Vec<Message>, StoreError> {
        let taking = Taking::new(positions, max_bytes);
        let order = Order { newest_first: positions.newest_first };
        if let Some(group) = range.group {
            // A member's own messages are never new to them.
            if !read && range.sender == Some(range.recipient) {
                return Ok(Vec::new());
            }
            let Some(state) = self.group_read_state(range.recipient, group).await? else {
                return Ok(Vec::new());
            };
            // A member's unread messages lie after their position (or mark).
            let from = if read { range.from } else { range.from.max(state.unread_from(range.sender)) };
            let range = MailboxRange { from, ..range };
            return self.take_from(ByTime::new(range, order, Judge::Group(state), read), taking).await;
        }
        match (read, range.sender) {
            (true, None) => self.take_from(ByTime::new(range, order, Judge::horizons(), true), taking).await,
            (true, Some(sender)) => {
                let horizon = self.read_horizons(range.recipient, std::slice::from_ref(sender)).await?.remove(sender);
                let ranges = read_range(range, horizon).map(|read| SenderRange::new(read, usize::MAX, order));
                self.take_from(Merge::new(ranges.into_iter().collect(), order), taking).await
            }
            (false, _) => {
                let pairs = self.unread_pairs(range).await?;
                let ranges = pairs.iter().filter_map(|pair| SenderRange::unread(range, pair, order)).collect();
                self.take_from(Merge::new(ranges, order), taking).await
            }
        }
    }

    /// How many read (or unread) messages the range holds, counting no
    /// further than `at_most`, by reading them.
    pub async fn count_filtered(
        &self,
        range: MailboxRange<'_>,
        read: bool,
        at_most: usize,
    ) -> Result<usize, StoreError> {
        let all = Positions { newest_first: false, skip: 0, take: at_most };
        Ok(self.read_filtered(range, read, all, usize::MAX).await?.len())
    }

    /// The pairs of the range's sender, or of every pending sender: those
    /// that may have unread messages.
    async fn unread_pairs(&self, range: MailboxRange<'_>) -> Result<Vec<Pair>, StoreError> {
        let senders = match range.sender {
            Some(sender) => vec![sender.clone()],
            None => self.pending_pair_senders(range.recipient).await?,
        };
        self.pairs_of(range.recipient, &senders).await
    }

    async fn take_from(&self, mut sequence: impl Sequence, mut taking: Taking) -> Result<Vec<Message>, StoreError> {
        while let Some(wanted) = taking.wanted() {
            match sequence.next(self, wanted).await? {
                Some(message) => taking.offer(message),
                None => break,
            }
        }
        Ok(taking.taken)
    }
}

/// A pair's unread messages in `range`: after its cursor, from its
/// `pending_since` (no unread message is older) and through its last
/// message. `None` when it has none there, as a pending pair whose
/// messages were fetched or deleted has until its `pending_since` is tidied.
fn unread_range<'a>(range: MailboxRange<'a>, pair: &'a Pair) -> Option<MailboxRange<'a>> {
    let after_cursor = pair.fetched_through.map(Timestamp::next);
    let unread = MailboxRange {
        sender: Some(&pair.sender),
        from: range.from.max(after_cursor).max(pair.pending_since),
        to: Some(through(range.to, pair.last_message_at)),
        ..range
    };
    (pair.new_messages > 0 && !unread.is_empty()).then_some(unread)
}

/// One sender's read messages in `range`: through the pair's read horizon.
/// `None` when it has none there.
fn read_range(range: MailboxRange<'_>, horizon: Option<Timestamp>) -> Option<MailboxRange<'_>> {
    let read = MailboxRange { to: Some(through(range.to, horizon?)), ..range };
    (!read.is_empty()).then_some(read)
}

/// The end of a range cut at `limit` (no end is no bound).
fn through(end: Option<Timestamp>, limit: Timestamp) -> Timestamp {
    end.map_or(limit, |end| end.min(limit))
}

/// The order a view takes messages in.
#[derive(Debug, Clone, Copy)]
struct Order {
    newest_first: bool,
}

impl Order {
    fn compare(self, a: Timestamp, b: Timestamp) -> Ordering {
        if self.newest_first {
            b.cmp(&a)
        } else {
            a.cmp(&b)
        }
    }

    /// Bounds in this order, an unknown bound (`None`) first.
    fn cmp_bounds(self, a: Option<Timestamp>, b: Option<Timestamp>) -> Ordering {
        match (a, b) {
            (Some(a), Some(b)) => self.compare(a, b),
            (a, b) => a.cmp(&b),
        }
    }

    /// Whether a range whose next message comes after `frontier` (or at
    /// its bound, before any read) may hold one that comes before `best`,
    /// the best message read so far. Strictly before: timestamps are unique
    /// within a mailbox, so another sender has no message at `best`.
    fn may_precede(self, frontier: Option<Timestamp>, best: Option<Timestamp>) -> bool {
        match (frontier, best) {
            (Some(frontier), Some(best)) => self.compare(frontier, best).is_lt(),
            _ => true,
        }
    }
}

/// What a filtered read keeps of the sequence as it goes by: it passes over
/// the first `skip`, then keeps up to `take`, and stops once those kept
/// pass `max_bytes` (the endpoint cuts the reply to what fits).
#[derive(Debug)]
struct Taking {
    skip: usize,
    take: usize,
    max_bytes: usize,
    bytes: usize,
    taken: Vec<Message>,
}

impl Taking {
    fn new(positions: Positions, max_bytes: usize) -> Self {
        Self { skip: positions.skip, take: positions.take, max_bytes, bytes: 0, taken: Vec::new() }
    }

    /// How many more messages of the sequence it needs; `None` once it has
    /// them.
    fn wanted(&self) -> Option<usize> {
        let done = self.taken.len() >= self.take || self.bytes > self.max_bytes;
        (!done).then(|| self.skip.saturating_add(self.take - self.taken.len()))
    }

    fn offer(&mut self, message: Message) {
        if self.skip > 0 {
            self.skip -= 1;
        } else {
            self.bytes += entry_bytes(&message);
            self.taken.push(message);
        }
    }
}

/// A filtered sequence, read as it is consumed.
trait Sequence {
    /// The next message, reading pages of up to `wanted` messages when none
    /// is at hand; `None` at the end.
    async fn next(&mut self, store: &Store, wanted: usize) -> Result<Option<Message>, StoreError>;
}

/// A key range read a page at a time, in a view's order.
struct Pages<'a> {
    range: MailboxRange<'a>,
    order: Order,
    rest: Option<Item>,
    ended: bool,
}

impl<'a> Pages<'a> {
    fn new(range: MailboxRange<'a>, order: Order) -> Self {
        Self { range, order, rest: None, ended: false }
    }

    /// The next page of up to `limit` messages; empty once the range ended.
    async fn next(&mut self, store: &Store, limit: usize) -> Result<Vec<Message>, StoreError> {
        if self.ended {
            return Ok(Vec::new());
        }
        let page = store.read_page(self.range, self.order.newest_first, limit, self.rest.take()).await?;
        self.ended = page.rest.is_none();
        self.rest = page.rest;
        Ok(page.messages)
    }
}

/// One sender's key range in a merge.
struct SenderRange<'a> {
    pages: Pages<'a>,
    /// No message still to read comes before it: the range's bound until a
    /// page is read, then the last message read. `None`: any may.
    frontier: Option<Timestamp>,
    /// At most this many messages of the range are still to read.
    left: usize,
    /// Read, not taken yet.
    buffered: VecDeque<Message>,
}

impl<'a> SenderRange<'a> {
    fn new(range: MailboxRange<'a>, left: usize, order: Order) -> Self {
        let bound = if order.newest_first { range.to } else { range.from };
        Self { pages: Pages::new(range, order), frontier: bound, left, buffered: VecDeque::new() }
    }

    fn unread(range: MailboxRange<'a>, pair: &'a Pair, order: Order) -> Option<Self> {
        let unread = unread_range(range, pair)?;
        Some(Self::new(unread, usize::try_from(pair.new_messages).unwrap_or(usize::MAX), order))
    }

    fn head(&self) -> Option<Timestamp> {
        self.buffered.front().map(|message| message.timestamp)
    }

    /// Whether a page must be read before `best` can be taken.
    fn must_read(&self, best: Option<Timestamp>) -> bool {
        let drained = self.pages.ended || self.left == 0;
        self.buffered.is_empty() && !drained && self.pages.order.may_precede(self.frontier, best)
    }

    async fn read_page(&mut self, store: &Store, wanted: usize) -> Result<(), StoreError> {
        let page = self.pages.next(store, wanted.min(self.left)).await?;
        self.left = self.left.saturating_sub(page.len());
        self.frontier = page.last().map(|message| message.timestamp).or(self.frontier);
        self.buffered.extend(page);
        Ok(())
    }
}

/// Sender ranges merged lazily in a view's order.
struct Merge<'a> {
    /// By their bounds, so the first that must be read is the best one to.
    ranges: Vec<SenderRange<'a>>,
    order: Order,
}

impl<'a> Merge<'a> {
    fn new(mut ranges: Vec<SenderRange<'a>>, order: Order) -> Self {
        ranges.sort_by(|a, b| order.cmp_bounds(a.frontier, b.frontier));
        Self { ranges, order }
    }

    /// The range holding the best message read and not taken yet.
    fn best(&self) -> Option<usize> {
        let heads = self.ranges.iter().enumerate().filter_map(|(index, range)| Some((index, range.head()?)));
        heads.min_by(|(_, a), (_, b)| self.order.compare(*a, *b)).map(|(index, _)| index)
    }

    /// The range to read a page of before the best message can be taken.
    fn to_read(&self) -> Option<usize> {
        let best = self.best().and_then(|index| self.ranges[index].head());
        self.ranges.iter().position(|range| range.must_read(best))
    }
}

impl Sequence for Merge<'_> {
    async fn next(&mut self, store: &Store, wanted: usize) -> Result<Option<Message>, StoreError> {
        while let Some(index) = self.to_read() {
            self.ranges[index].read_page(store, wanted).await?;
        }
        Ok(self.best().and_then(|index| self.ranges[index].buffered.pop_front()))
    }
}

/// The fewest messages one page of [`ByTime`] asks for.
const MIN_SCAN_PAGE: usize = 100;

/// What tells a read message from an unread one.
enum Judge {
    /// A mailbox's: each sender's read horizon, once met; `None` for a pair
    /// never read.
    Horizons(HashMap<Identifier, Option<Timestamp>>),
    /// A group's: its member's read state.
    Group(GroupReadState),
}

impl Judge {
    fn horizons() -> Self {
        Self::Horizons(HashMap::new())
    }

    /// Learns what it needs to judge `page`: the horizons of senders not
    /// met before, one batch read.
    async fn learn(&mut self, store: &Store, recipient: &Identifier, page: &[Message]) -> Result<(), StoreError> {
        let Self::Horizons(horizons) = self else {
            return Ok(());
        };
        let met = senders_not_in(page, horizons);
        let mut found = store.read_horizons(recipient, &met).await?;
        horizons.extend(met.into_iter().map(|sender| {
            let horizon = found.remove(&sender);
            (sender, horizon)
        }));
        Ok(())
    }

    fn is_read(&self, message: &Message) -> bool {
        match self {
            Self::Horizons(horizons) => message.is_read(horizons.get(&message.sender).copied().flatten()),
            Self::Group(state) => state.has_read(message),
        }
    }
}

/// The read (or the unread) messages of a range by time: the range less the
/// others.
struct ByTime<'a> {
    pages: Pages<'a>,
    judge: Judge,
    read: bool,
    buffered: VecDeque<Message>,
}

impl<'a> ByTime<'a> {
    fn new(range: MailboxRange<'a>, order: Order, judge: Judge, read: bool) -> Self {
        Self { pages: Pages::new(range, order), judge, read, buffered: VecDeque::new() }
    }
}

impl Sequence for ByTime<'_> {
    async fn next(&mut self, store: &Store, wanted: usize) -> Result<Option<Message>, StoreError> {
        while self.buffered.is_empty() && !self.pages.ended {
            // The others between the ones kept are read too: a page as large
            // as a full reply's limit keeps their queries few.
            let page = self.pages.next(store, wanted.max(MIN_SCAN_PAGE)).await?;
            self.judge.learn(store, self.pages.range.recipient, &page).await?;
            let kept = page.into_iter().filter(|message| self.judge.is_read(message) == self.read);
            self.buffered.extend(kept);
        }
        Ok(self.buffered.pop_front())
    }
}

/// The senders of `messages` not in `known`, once each.
fn senders_not_in<V>(messages: &[Message], known: &HashMap<Identifier, V>) -> Vec<Identifier> {
    let mut senders: Vec<Identifier> =
        messages.iter().map(|message| &message.sender).filter(|s| !known.contains_key(*s)).cloned().collect();
    senders.sort();
    senders.dedup();
    senders
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: u32) -> Timestamp {
        Timestamp::parse("t", &format!("2026-01-01T00:00:{second:02}Z")).expect("timestamp")
    }

    fn id(text: &str) -> Identifier {
        Identifier::parse("login", text).expect("identifier")
    }

    fn message(sender: &str, second: u32) -> Message {
        Message { sender: id(sender), recipient: id("rcp"), timestamp: at(second), message: "hi".into(), group: None }
    }

    fn pair(fetched_through: Option<u32>, pending_since: Option<u32>, last: u32, new_messages: u64) -> Pair {
        Pair {
            sender: id("snd"),
            last_message_at: at(last),
            sent: new_messages + 5,
            fetched_through: fetched_through.map(at),
            new_messages,
            pending_since: pending_since.map(at),
            rev: 1,
            cleared_through: None,
        }
    }

    fn ends(range: Option<MailboxRange<'_>>) -> Option<(Option<Timestamp>, Option<Timestamp>)> {
        range.map(|range| (range.from, range.to))
    }

    #[test]
    fn unread_messages_lie_after_the_cursor_and_through_the_last_message() {
        let rcp = id("rcp");
        let whole = MailboxRange { recipient: &rcp, group: None, sender: None, from: None, to: None };
        let after = |second: u32| Some(at(second).next());
        // (case, range's from and to, pair, expected from and to)
        type Case = (&'static str, (Option<u32>, Option<u32>), Pair, Option<(Option<Timestamp>, Option<Timestamp>)>);
        let cases: Vec<Case> = vec![
            ("never read", (None, None), pair(None, None, 30, 3), Some((None, Some(at(30))))),
            ("after the cursor", (None, None), pair(Some(10), None, 30, 3), Some((after(10), Some(at(30))))),
            ("from pending_since", (None, None), pair(Some(10), Some(20), 30, 3), Some((Some(at(20)), Some(at(30))))),
            (
                "period inside",
                (Some(22), Some(25)),
                pair(Some(10), Some(20), 30, 3),
                Some((Some(at(22)), Some(at(25)))),
            ),
            ("period before the cursor", (Some(1), Some(10)), pair(Some(10), None, 30, 3), None),
            ("period after the last", (Some(31), None), pair(Some(10), None, 30, 3), None),
            ("nothing unread", (None, None), pair(Some(10), Some(20), 30, 0), None),
        ];
        for (case, (from, to), pair, expected) in cases {
            let range = MailboxRange { from: from.map(at), to: to.map(at), ..whole };
            let unread = unread_range(range, &pair);
            assert_eq!(ends(unread), expected, "{case}");
            assert!(unread.is_none_or(|unread| unread.sender == Some(&pair.sender)), "{case}");
        }
    }

    #[test]
    fn read_messages_lie_through_the_horizon() {
        let (rcp, snd) = (id("rcp"), id("snd"));
        let whole = MailboxRange { recipient: &rcp, group: None, sender: Some(&snd), from: None, to: None };
        // (case, range's from and to, horizon, expected from and to)
        type Case = (&'static str, (Option<u32>, Option<u32>), Option<u32>, Option<(Option<u32>, Option<u32>)>);
        let cases: Vec<Case> = vec![
            ("never read", (None, None), None, None),
            ("through the horizon", (None, None), Some(10), Some((None, Some(10)))),
            ("period inside", (Some(3), Some(5)), Some(10), Some((Some(3), Some(5)))),
            ("period across", (Some(3), Some(15)), Some(10), Some((Some(3), Some(10)))),
            ("period after", (Some(11), None), Some(10), None),
        ];
        for (case, (from, to), horizon, expected) in cases {
            let range = MailboxRange { from: from.map(at), to: to.map(at), ..whole };
            let expected = expected.map(|(from, to)| (from.map(at), to.map(at)));
            assert_eq!(ends(read_range(range, horizon.map(at))), expected, "{case}");
        }
    }

    #[test]
    fn taking_skips_then_takes_until_the_count_or_the_bytes() {
        let one = entry_bytes(&message("snd", 1));
        // (case, skip, take, max bytes, messages offered, expected taken seconds)
        let cases = [
            ("take all", 0, 3, usize::MAX, 5, vec![1, 2, 3]),
            ("skip two", 2, 2, usize::MAX, 5, vec![3, 4]),
            ("sequence ends", 1, 10, usize::MAX, 3, vec![2, 3]),
            ("past the bytes", 1, 10, one + 1, 5, vec![2, 3]),
            ("at least one", 0, 10, 0, 5, vec![1]),
        ];
        for (case, skip, take, max_bytes, offered, expected) in cases {
            let mut taking = Taking::new(Positions { newest_first: false, skip, take }, max_bytes);
            let mut offers = (1..=offered).map(|second| message("snd", second));
            while let (Some(wanted), Some(message)) = (taking.wanted(), offers.next()) {
                assert!(wanted >= 1, "{case}");
                taking.offer(message);
            }
            let taken: Vec<Timestamp> = taking.taken.iter().map(|message| message.timestamp).collect();
            assert_eq!(taken, expected.into_iter().map(at).collect::<Vec<_>>(), "{case}");
        }
        let taking = Taking::new(Positions { newest_first: true, skip: 3, take: 4 }, usize::MAX);
        assert_eq!(taking.wanted(), Some(7), "what is skipped is read too");
        assert_eq!(Taking::new(Positions { newest_first: true, skip: 3, take: 0 }, 0).wanted(), None);
    }

    #[test]
    fn a_range_may_precede_the_best_only_from_before_it() {
        let (oldest, newest) = (Order { newest_first: false }, Order { newest_first: true });
        // (case, order, frontier, best, may precede)
        let cases = [
            ("nothing read yet", oldest, Some(30), None, true),
            ("no bound", oldest, None, Some(10), true),
            ("older", oldest, Some(5), Some(10), true),
            ("at the best", oldest, Some(10), Some(10), false),
            ("newer", oldest, Some(20), Some(10), false),
            ("newer, from the newest", newest, Some(20), Some(10), true),
            ("older, from the newest", newest, Some(5), Some(10), false),
        ];
        for (case, order, frontier, best, expected) in cases {
            assert_eq!(order.may_precede(frontier.map(at), best.map(at)), expected, "{case}");
        }
    }

    /// A merge of ranges of one sender each, with the bounds given, none
    /// read yet.
    fn merge<'a>(recipient: &'a Identifier, senders: &'a [Identifier], bounds: &[u32], order: Order) -> Merge<'a> {
        let ranges = senders.iter().zip(bounds).map(|(sender, bound)| {
            let (from, to) = if order.newest_first { (None, Some(at(*bound))) } else { (Some(at(*bound)), None) };
            let range = MailboxRange { recipient, group: None, sender: Some(sender), from, to };
            SenderRange::new(range, 10, order)
        });
        Merge::new(ranges.collect(), order)
    }

    /// Puts `seconds` in the merge's range of `sender` as a page read.
    fn read(merge: &mut Merge<'_>, sender: &str, seconds: &[u32], ended: bool) {
        let range = merge.ranges.iter_mut().find(|r| r.pages.range.sender == Some(&id(sender))).expect("range");
        range.buffered.extend(seconds.iter().map(|second| message(sender, *second)));
        range.frontier = seconds.last().map(|second| at(*second)).or(range.frontier);
        range.pages.ended = ended;
    }

    fn sender_to_read(merge: &Merge<'_>) -> Option<String> {
        merge.to_read().and_then(|index| merge.ranges[index].pages.range.sender).map(|s| s.as_str().to_owned())
    }

    #[test]
    fn a_merge_opens_a_range_only_when_its_bound_can_come_before_the_best_read() {
        let rcp = id("rcp");
        let senders = [id("ccc"), id("aaa"), id("bbb")];
        let mut oldest = merge(&rcp, &senders, &[30, 10, 20], Order { newest_first: false });
        assert_eq!(sender_to_read(&oldest).as_deref(), Some("aaa"), "the oldest bound first");
        read(&mut oldest, "aaa", &[11, 25], false);
        assert_eq!(sender_to_read(&oldest), None, "bbb's bound, 20, comes after the best, 11");
        let take = |merge: &mut Merge<'_>| {
            let best = merge.best().expect("a message read");
            merge.ranges[best].buffered.pop_front().map(|message| message.timestamp)
        };
        assert_eq!(take(&mut oldest), Some(at(11)));
        assert_eq!(sender_to_read(&oldest).as_deref(), Some("bbb"), "20 comes before the best, 25");
        read(&mut oldest, "bbb", &[21], true);
        assert_eq!(sender_to_read(&oldest), None, "ccc's bound, 30, comes after the best, 21");
        assert_eq!(take(&mut oldest), Some(at(21)));
        assert_eq!(take(&mut oldest), Some(at(25)));
        assert_eq!(sender_to_read(&oldest).as_deref(), Some("aaa"), "aaa may hold more before ccc's bound");

        let mut newest = merge(&rcp, &senders, &[30, 10, 20], Order { newest_first: true });
        assert_eq!(sender_to_read(&newest).as_deref(), Some("ccc"), "the newest bound first");
        read(&mut newest, "ccc", &[29], false);
        assert_eq!(sender_to_read(&newest), None, "bbb's newest, 20, comes after 29");
        assert_eq!(take(&mut newest), Some(at(29)));
        assert_eq!(sender_to_read(&newest).as_deref(), Some("ccc"), "ccc may hold one before bbb's bound");
    }

    #[test]
    fn a_range_with_nothing_left_unread_is_not_read_again() {
        let (rcp, snd) = (id("rcp"), id("snd"));
        let range = MailboxRange { recipient: &rcp, group: None, sender: Some(&snd), from: None, to: None };
        let mut sender_range = SenderRange::new(range, 0, Order { newest_first: false });
        assert!(!sender_range.must_read(None), "no unread message left");
        sender_range.left = 1;
        assert!(sender_range.must_read(None));
    }

    #[test]
    fn senders_are_looked_up_once() {
        let messages = [message("bbb", 1), message("aaa", 2), message("bbb", 3), message("ccc", 4)];
        let known = HashMap::from([(id("ccc"), None::<Timestamp>)]);
        assert_eq!(senders_not_in(&messages, &known), [id("aaa"), id("bbb")]);
    }
}
