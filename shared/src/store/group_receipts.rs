//! Read receipts in groups: what a member's fetch made read, told to the
//! senders. A fetch writes only its read state (`group_fetch.rs`); the
//! table's stream brings that item's old and new images to the notifier,
//! which asks here what the move made read: the group's messages its
//! position passed that were unread before (their keys and senders, from
//! the `by_time` index), and each sender mark it moved. A receipt covers a
//! sender's messages up to its `through`; a sender no longer in the group
//! gets none, as they get nothing else of it. Owns no items.

use std::collections::BTreeMap;

use super::groups::Membership;
use super::positions::Position;
use super::{MailboxRange, Store, StoreError};
use crate::model::{GroupId, Identifier, Timestamp};

/// A member's read state in a group before and after a fetch moved it.
pub struct GroupReadMove {
    member: Identifier,
    before: Membership,
    after: Membership,
}

impl GroupReadMove {
    /// From a stream record of a member's read state: the login its key
    /// names, and its old and new images.
    pub fn from_images(
        member: Identifier,
        before: serde_dynamo::Item,
        after: serde_dynamo::Item,
    ) -> Result<Self, serde_dynamo::Error> {
        Ok(Self { member, before: serde_dynamo::from_item(before)?, after: serde_dynamo::from_item(after)? })
    }

    pub fn member(&self) -> &Identifier {
        &self.member
    }

    pub fn group(&self) -> &GroupId {
        &self.after.group
    }

    /// The stretch of the group's messages the position moved over, if it
    /// moved: from the first after where it stood (or after the join).
    fn passed(&self) -> Option<MailboxRange<'_>> {
        let to = self.after.fetched_through.filter(|to| Some(*to) > self.before.fetched_through)?;
        let from = self.before.fetched_through.or(self.before.joined_after).map(Timestamp::next);
        Some(MailboxRange { recipient: &self.member, group: Some(&self.after.group), sender: None, from, to: Some(to) })
    }

    /// Each sender's newest message the move made read: of the messages
    /// `passed` (oldest first), those unread before it; and each sender
    /// mark it moved on.
    fn made_read(&self, passed: &[Position]) -> BTreeMap<Identifier, Timestamp> {
        let mut receipts = BTreeMap::new();
        for position in passed {
            if !self.before.has_read(&self.member, &position.sender, position.timestamp) {
                receipts.insert(position.sender.clone(), position.timestamp);
            }
        }
        for (sender, mark) in &self.after.ahead {
            if self.before.ahead.get(sender) < Some(mark) {
                let through = receipts.entry(sender.clone()).or_insert(*mark);
                *through = (*through).max(*mark);
            }
        }
        receipts
    }
}

impl Store {
    /// The read receipts of a member's fetch in a group, for the senders
    /// still in it: each with the newest of their messages it made read.
    /// Reads the keys of the messages the position passed (about 100 bytes
    /// each), and one member record a sender.
    pub async fn group_receipts(&self, read: &GroupReadMove) -> Result<Vec<(Identifier, Timestamp)>, StoreError> {
        let passed = match read.passed() {
            Some(range) => self.positions_in(range).await?,
            None => Vec::new(),
        };
        let receipts = read.made_read(&passed);
        let members = self.members_among(read.group(), receipts.keys()).await?;
        Ok(receipts.into_iter().filter(|(sender, _)| members.contains(sender)).collect())
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

    fn state(joined_after: Option<u32>, position: Option<u32>, ahead: &[(&str, u32)]) -> Membership {
        Membership {
            group: GroupId::parse("group", &"a".repeat(32)).expect("group"),
            joined_at: at(0),
            joined_after: joined_after.map(at),
            fetched_through: position.map(at),
            ahead: ahead.iter().map(|(sender, mark)| (id(sender), at(*mark))).collect(),
            rev: 1,
        }
    }

    fn moved(before: Membership, after: Membership) -> GroupReadMove {
        GroupReadMove { member: id("ann"), before, after }
    }

    fn positions(of: &[(&str, u32)]) -> Vec<Position> {
        of.iter().map(|(sender, second)| Position { sender: id(sender), timestamp: at(*second) }).collect()
    }

    #[test]
    fn a_moved_position_passes_from_where_it_stood_or_from_the_join() {
        let ends = |read: &GroupReadMove| read.passed().map(|range| (range.from, range.to));
        let first = moved(state(Some(5), None, &[]), state(Some(5), Some(9), &[]));
        assert_eq!(ends(&first), Some((Some(at(5).next()), Some(at(9)))));
        let later = moved(state(Some(5), Some(7), &[]), state(Some(5), Some(9), &[]));
        assert_eq!(ends(&later), Some((Some(at(7).next()), Some(at(9)))));
        let empty_at_join = moved(state(None, None, &[]), state(None, Some(9), &[]));
        assert_eq!(ends(&empty_at_join), Some((None, Some(at(9)))));
        let only_a_mark = moved(state(Some(5), Some(7), &[]), state(Some(5), Some(7), &[("bob", 9)]));
        assert_eq!(ends(&only_a_mark), None);
    }

    #[test]
    fn each_sender_is_told_their_newest_message_the_move_made_read() {
        // Ann's position moves from 10 to 20; bob's mark stood at 14, cat's
        // moves from 25 to 30 (a fetch of cat's alone, earlier or now).
        let before = state(Some(1), Some(10), &[("bob", 14), ("cat", 25)]);
        let after = state(Some(1), Some(20), &[("cat", 30)]);
        let passed = positions(&[("bob", 12), ("ann", 13), ("bob", 14), ("dan", 15), ("bob", 16), ("ann", 20)]);
        let receipts = moved(before, after).made_read(&passed);
        // bob: 12 and 14 were read through his mark, 16 is new; ann's own
        // are no receipt; dan's 15; cat's moved mark.
        let expected = [(id("bob"), at(16)), (id("cat"), at(30)), (id("dan"), at(15))];
        assert_eq!(receipts, BTreeMap::from(expected));
        let nothing_new = moved(state(Some(1), Some(10), &[("bob", 14)]), state(Some(1), Some(14), &[]));
        assert!(nothing_new.made_read(&positions(&[("bob", 12), ("bob", 14)])).is_empty());
    }
}
