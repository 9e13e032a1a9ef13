//! Reading the pair item of each (recipient, sender): `USER#<recipient>`,
//! `PAIR#<sender>`, which holds the fetch cursor and the counters. Sends,
//! fetches and deletes change it (`sending.rs`, `fetch_new.rs`,
//! `deleting.rs`), each in a transaction guarded by a condition on it.

use serde::Deserialize;

use super::capacity::{self, Counted};
use super::{key, s, user_pk, Item, Store, StoreError};
use crate::model::{Identifier, Timestamp};

pub(super) fn pair_key(recipient: &Identifier, sender: &Identifier) -> Item {
    key(user_pk(recipient.as_str()), format!("PAIR#{sender}"))
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
    pub(super) fn is_new(&self, timestamp: Timestamp) -> bool {
        self.fetched_through.is_none_or(|cursor| timestamp > cursor)
    }
}

impl Store {
    pub async fn pair(&self, recipient: &Identifier, sender: &Identifier) -> Result<Option<Pair>, StoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(pair_key(recipient, sender)))
            .consistent_read(true)
            .counted()
            .await?;
        Ok(found.item.map(serde_dynamo::from_item).transpose()?)
    }

    /// Every pair of a mailbox: one per sender who ever wrote to it.
    pub async fn pairs(&self, recipient: &Identifier) -> Result<Vec<Pair>, StoreError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :pair)")
            .expression_attribute_values(":pk", s(user_pk(recipient.as_str())))
            .expression_attribute_values(":pair", s("PAIR#"))
            .consistent_read(true)
            .return_consumed_capacity(aws_sdk_dynamodb::types::ReturnConsumedCapacity::Total)
            .into_paginator()
            .send();
        let mut pairs = Vec::new();
        while let Some(page) = pages.try_next().await? {
            capacity::read(page.consumed_capacity());
            pairs.extend(serde_dynamo::from_items::<_, Pair>(page.items.unwrap_or_default())?);
        }
        Ok(pairs)
    }
}
