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

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::groups::{membership_key, Membership};
use super::idempotency::{IdempotencyClaim, Recorded};
use super::merge::batch_len;
use super::transaction::{after_losses, Transaction};
use super::{failed_condition, n, s, FetchedBatch, Item, MailboxRange, Store, StoreError};
use crate::model::{GroupId, Identifier, Message, Timestamp};
use crate::reply::{entry_bytes, MAX_REPLY_BYTES};

/// A member's read state in a group, as their history shows it.
pub struct GroupReadState {
    member: Identifier,
    state: Membership,
}

impl GroupReadState {
    /// The earliest message of the member's: the first after their join.
    pub fn first_after_join(&self) -> Option<Timestamp> {
        self.state.joined_after.map(Timestamp::next)
    }

    /// Whether the member has read a message of the group.
    pub fn has_read(&self, message: &Message) -> bool {
        self.state.has_read(&self.member, &message.sender, message.timestamp)
    }

    /// Where the member's unread messages (of `sender`, if named) start.
    pub(super) fn unread_from(&self, sender: Option<&Identifier>) -> Option<Timestamp> {
        self.state.unread_from(sender)
    }
}

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
    pub(super) fn has_read(&self, member: &Identifier, sender: &Identifier, timestamp: Timestamp) -> bool {
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
            let next = advanced(&state, sender, &unread.examined, fits);
            // Drained for good: the group's marker can leave the pending
            // index, as after a fetch of the whole mailbox.
            let drained = sender.is_none() && unread.complete && !more;
            let tidy = next.fetched_through.filter(|_| drained).map(|position| vec![(group.clone(), position)]);
            let batch: Vec<Message> = unread.messages.into_iter().take(fits).collect();
            let fetched = FetchedBatch { messages: batch, more };
            if next == state && claim.is_none() {
                self.tidy_markers(member, tidy.unwrap_or_default()).await;
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
                Transaction::Committed => {
                    self.tidy_markers(member, tidy.unwrap_or_default()).await;
                    return Ok(GroupFetchOutcome::Fetched(fetched));
                }
                Transaction::Cancelled(reasons) if claim.is_some() && failed_condition(&reasons, 1) => {
                    return Ok(GroupFetchOutcome::IdempotencyKeyUsed);
                }
                Transaction::Cancelled(_) => losses += 1,
            }
        }
    }

    /// A member's read state in a group; `None` if they are not a member.
    pub async fn group_read_state(
        &self,
        member: &Identifier,
        group: &GroupId,
    ) -> Result<Option<GroupReadState>, StoreError> {
        let state = self.membership(member, group).await?;
        Ok(state.map(|state| GroupReadState { member: member.clone(), state }))
    }

    /// The unread messages of `groups` (up to `limit + 1` each) for a
    /// fetch of `member`'s whole mailbox; a group they left is passed over.
    pub(super) async fn group_streams(
        &self,
        member: &Identifier,
        groups: &[GroupId],
        limit: usize,
    ) -> Result<Vec<GroupStream>, StoreError> {
        let reads = groups.iter().map(|group| async move {
            let Some(state) = self.membership(member, group).await? else {
                return Ok(None);
            };
            let unread = self.unread_in_group(member, group, &state, None, limit).await?;
            Ok::<_, StoreError>(Some(GroupStream { state, unread }))
        });
        Ok(futures::future::try_join_all(reads).await?.into_iter().flatten().collect())
    }

    /// Group messages by key, as `member` is shown them, oldest first;
    /// missing ones (deleted since) are left out.
    pub(super) async fn group_messages_at(
        &self,
        member: &Identifier,
        keys: &[(GroupId, Identifier, Timestamp)],
    ) -> Result<Vec<Message>, StoreError> {
        let groups: BTreeSet<&GroupId> = keys.iter().map(|(group, _, _)| group).collect();
        let mut messages = Vec::new();
        for group in groups {
            let of_group = keys.iter().filter(|(g, _, _)| g == group);
            let timestamps: Vec<Timestamp> = of_group.clone().map(|(_, _, timestamp)| *timestamp).collect();
            let mailbox = MailboxRange { recipient: member, group: Some(group), sender: None, from: None, to: None };
            let asked = |m: &Message| of_group.clone().any(|(_, sender, at)| *sender == m.sender && *at == m.timestamp);
            messages.extend(self.messages_in(mailbox, &timestamps).await?.into_iter().filter(asked));
        }
        messages.sort_by_key(|m| m.timestamp);
        Ok(messages)
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
        let keys: Vec<_> =
            replay.messages.into_iter().map(|(sender, timestamp)| (group.clone(), sender, timestamp)).collect();
        let messages = self.group_messages_at(member, &keys).await?;
        Ok(Some(Recorded::Response(FetchedBatch { messages, more: replay.more })))
    }

    /// How many messages of a group `member` has not read: a count over the
    /// keys-only `by_time` index after their position.
    pub(super) async fn unread_count(&self, member: &Identifier, state: &Membership) -> Result<u64, StoreError> {
        let after = MailboxRange {
            recipient: member,
            group: Some(&state.group),
            sender: None,
            from: state.unread_from(None),
            to: None,
        };
        let positions = self.positions_in(after).await?;
        Ok(positions.iter().filter(|p| !state.has_read(member, &p.sender, p.timestamp)).count() as u64)
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
        let mut unread = Unread { messages: Vec::new(), examined: Vec::new(), complete: true };
        if sender == Some(member) {
            return Ok(unread);
        }
        let range =
            MailboxRange { recipient: member, group: Some(group), sender, from: state.unread_from(sender), to: None };
        let mut start: Option<Item> = None;
        let mut bytes = 0;
        loop {
            let page = self.read_page(range, false, limit + 1 - unread.messages.len(), start).await?;
            for message in page.messages {
                let is_unread = !state.has_read(member, &message.sender, message.timestamp);
                unread.examined.push((message.timestamp, is_unread));
                if is_unread {
                    bytes += entry_bytes(&message);
                    unread.messages.push(message);
                }
            }
            start = page.rest;
            unread.complete = start.is_none();
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
            .expression_attribute_values(":next", n(state.rev + 1));
        let mut set = "SET rev = :next".to_owned();
        if let Some(through) = next.fetched_through {
            set.push_str(", fetched_through = :through");
            update = update.expression_attribute_values(":through", s(through.to_string()));
        }
        // An empty map is removed rather than stored: with one in a record,
        // DynamoDB Local's stream answered GetRecords with JSON the Streams
        // SDK refused ("Union did not contain a valid variant").
        let expression = if ahead.is_empty() {
            format!("{set} REMOVE ahead")
        } else {
            update = update.expression_attribute_values(":ahead", AttributeValue::M(ahead.into_iter().collect()));
            format!("{set}, ahead = :ahead")
        };
        let update = update.update_expression(expression).build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

/// What a read of a group's unread messages found.
pub(super) struct Unread {
    pub(super) messages: Vec<Message>,
    /// Every message read, in order: its timestamp, and whether it is unread.
    examined: Vec<(Timestamp, bool)>,
    /// Whether the read reached the group's newest message.
    complete: bool,
}

/// One group's unread messages, read for a fetch of the whole mailbox.
pub(super) struct GroupStream {
    state: Membership,
    pub(super) unread: Unread,
}

impl GroupStream {
    pub(super) fn group(&self) -> &GroupId {
        &self.state.group
    }

    /// Whether returning the first `taken` unread messages leaves none.
    pub(super) fn drained_by(&self, taken: usize) -> bool {
        self.unread.complete && taken == self.unread.messages.len()
    }

    /// The member's read state once the first `taken` unread are returned.
    fn after(&self, taken: usize) -> Membership {
        advanced(&self.state, None, &self.unread.examined, taken)
    }

    /// The write that moves the member's read state past the first `taken`
    /// unread messages, under the fetch's transaction.
    pub(super) fn settle(
        &self,
        store: &Store,
        member: &Identifier,
        taken: usize,
    ) -> Result<TransactWriteItem, StoreError> {
        store.read_state_update(member, &self.state, &self.after(taken))
    }

    /// Where the member's position stands once `taken` are returned, for
    /// tidying the group's marker; none before any message was read.
    pub(super) fn position_after(&self, taken: usize) -> Option<Timestamp> {
        self.after(taken).fetched_through
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: u32) -> Timestamp {
        Timestamp::parse("t", &format!("2026-01-01T00:00:{second:02}Z")).expect("timestamp")
    }

    fn id(login: &str) -> Identifier {
        Identifier::parse("login", login).expect("login")
    }

    fn state(position: Option<u32>, ahead: &[(&str, u32)]) -> Membership {
        Membership {
            group: GroupId::parse("group", &"a".repeat(32)).expect("group"),
            joined_at: at(0),
            joined_after: None,
            fetched_through: position.map(at),
            ahead: ahead.iter().map(|(sender, mark)| (id(sender), at(*mark))).collect(),
            rev: 3,
        }
    }

    #[test]
    fn a_member_has_read_their_own_what_their_position_passed_and_what_a_mark_covers() {
        let member = state(Some(10), &[("bob", 20)]);
        // (case, sender, second, read)
        let cases = [
            ("own, however new", "ann", 50, true),
            ("at the position", "cat", 10, true),
            ("past the position", "cat", 11, false),
            ("covered by bob's mark", "bob", 20, true),
            ("past bob's mark", "bob", 21, false),
        ];
        for (case, sender, second, expected) in cases {
            assert_eq!(member.has_read(&id("ann"), &id(sender), at(second)), expected, "{case}");
        }
        assert_eq!(member.unread_from(None), Some(at(10).next()));
        assert_eq!(member.unread_from(Some(&id("bob"))), Some(at(20).next()));
        assert_eq!(state(None, &[]).unread_from(None), None, "a member who joined an empty group");
    }

    #[test]
    fn a_fetch_moves_the_position_through_what_it_returned_and_skipped_never_past_an_unread_one() {
        // Read in order: 11 (own, skipped), 12 unread, 13 unread, 14 (skipped), 15 unread.
        let examined = [(at(11), false), (at(12), true), (at(13), true), (at(14), false), (at(15), true)];
        // (case, returned, new position)
        let cases = [
            ("none returned: through the skipped ones before the first unread", 0, 11),
            ("one", 1, 12),
            ("two: through the skipped one after them", 2, 14),
            ("all", 3, 15),
        ];
        for (case, returned, position) in cases {
            let next = advanced(&state(Some(10), &[("bob", 14), ("cat", 30)]), None, &examined, returned);
            assert_eq!(next.fetched_through, Some(at(position)), "{case}");
            // Marks the position passed are dropped; later ones stay.
            let bob_kept = position < 14;
            assert_eq!(next.ahead.contains_key(&id("bob")), bob_kept, "{case}: bob's mark");
            assert!(next.ahead.contains_key(&id("cat")), "{case}: cat's mark");
        }
    }

    #[test]
    fn a_fetch_of_one_sender_moves_only_their_mark() {
        let examined = [(at(12), true), (at(13), true)];
        let next = advanced(&state(Some(10), &[]), Some(&id("bob")), &examined, 1);
        assert_eq!((next.fetched_through, next.ahead.get(&id("bob"))), (Some(at(10)), Some(&at(12))));
        let untouched = advanced(&state(Some(10), &[("bob", 11)]), Some(&id("bob")), &[], 0);
        assert_eq!(untouched, state(Some(10), &[("bob", 11)]));
    }
}
