//! The `by_pending` index (send-side pair keys by `pending_since`, present
//! while a pair has new messages, `pairs.rs` keeps it; and group markers,
//! present while a group may hold unread messages, `group_pending.rs`):
//! which senders and groups a fetch reads, and whether a long-poll has
//! anything to wait for. Owns no items.

use std::collections::VecDeque;

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::ReturnConsumedCapacity;

use super::capacity::{self, Counted};
use super::group_pending::MARKER_PREFIX;
use super::pairs::pair_key;
use super::{s, user_pk, Item, Store, StoreError};
use crate::model::{GroupId, Identifier, Timestamp};

const PENDING_INDEX: &str = "by_pending";

/// What waits to be read: one sender's pair, or a group.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Waiting {
    Pair(Identifier),
    Group(GroupId),
}

/// The pending pairs and groups of a mailbox from the `by_pending` index,
/// oldest bound first, read a page at a time as the merge asks for more.
pub(super) struct PendingSenders<'a> {
    store: &'a Store,
    recipient: &'a Identifier,
    page: usize,
    buffered: VecDeque<(Waiting, Timestamp)>,
    start: Option<Item>,
    pub(super) exhausted: bool,
}

impl<'a> PendingSenders<'a> {
    pub(super) fn new(store: &'a Store, recipient: &'a Identifier, page: usize) -> Self {
        Self { store, recipient, page, buffered: VecDeque::new(), start: None, exhausted: false }
    }

    pub(super) async fn peek(&mut self) -> Result<Option<&(Waiting, Timestamp)>, StoreError> {
        while self.buffered.is_empty() && !self.exhausted {
            let page = self
                .store
                .pending_senders(self.recipient)
                .limit(i32::try_from(self.page).unwrap_or(i32::MAX))
                .set_exclusive_start_key(self.start.take())
                .counted()
                .await?;
            for entry in page.items() {
                self.buffered.push_back(pending_entry(entry)?);
            }
            self.start = page.last_evaluated_key;
            self.exhausted = self.start.is_none();
        }
        Ok(self.buffered.front())
    }

    pub(super) fn advance(&mut self) -> Option<(Waiting, Timestamp)> {
        self.buffered.pop_front()
    }
}

/// What one `by_pending` entry stands for, and its bound.
fn pending_entry(entry: &Item) -> Result<(Waiting, Timestamp), StoreError> {
    let text = |name: &str| entry.get(name).and_then(|value| value.as_s().ok());
    let since = text("pending_since").and_then(|since| Timestamp::from_stored(since));
    let sort_key = text("sk").map(String::as_str).unwrap_or_default();
    let waiting = if let Some(sender) = sort_key.strip_prefix("PAIR#") {
        Identifier::parse("sender", sender).ok().map(Waiting::Pair)
    } else {
        let group = sort_key.strip_prefix(MARKER_PREFIX);
        group.and_then(|group| GroupId::parse("group", group).ok()).map(Waiting::Group)
    };
    match (waiting, since) {
        (Some(waiting), Some(since)) => Ok((waiting, since)),
        _ => Err(StoreError::Corrupt(format!("pending index entry {sort_key:?} without a sender or group, or time"))),
    }
}

impl Store {
    /// Every sender of a pending pair of a mailbox, oldest bound first
    /// (groups left out).
    pub(super) async fn pending_pair_senders(&self, recipient: &Identifier) -> Result<Vec<Identifier>, StoreError> {
        let mut pages = self
            .pending_senders(recipient)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .into_paginator()
            .send();
        let mut senders = Vec::new();
        while let Some(page) = pages.try_next().await? {
            capacity::read(page.consumed_capacity());
            for entry in page.items() {
                if let (Waiting::Pair(sender), _) = pending_entry(entry)? {
                    senders.push(sender);
                }
            }
        }
        Ok(senders)
    }

    /// The query of a mailbox's pending pairs, oldest bound first (public
    /// for the bench's bare calls).
    pub fn pending_senders(&self, recipient: &Identifier) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .index_name(PENDING_INDEX)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(user_pk(recipient.as_str())))
            .consistent_read(true)
    }

    /// Whether anything may be new in a mailbox (from `sender`, if named):
    /// one strongly consistent read of one small item or index entry, a
    /// read unit, so a long-poll can ask it every second. A pair whose
    /// bound a fetch or delete has not tidied yet counts too; the fetch
    /// that follows tidies it.
    pub async fn may_have_new(&self, recipient: &Identifier, sender: Option<&Identifier>) -> Result<bool, StoreError> {
        let Some(sender) = sender else {
            return Ok(!self.pending_senders(recipient).limit(1).counted().await?.items().is_empty());
        };
        let send_side = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(pair_key(recipient, sender)))
            .projection_expression("pending_since")
            .consistent_read(true)
            .counted()
            .await?;
        Ok(send_side.item().is_some_and(|item| item.contains_key("pending_since")))
    }
}
