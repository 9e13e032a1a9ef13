//! All DynamoDB access. One table holds every item, and each item belongs
//! to the one file of this module that writes it:
//!
//! | item | pk | sk | other attributes | in `store/` |
//! |---|---|---|---|---|
//! | user | `USER#<login>` | `PROFILE` | `login`, `password_hash`? | `users.rs` |
//! | token | `TOKEN#<sha256 of token>` | `TOKEN` | `login`, `expires_at`, `ttl` | `users.rs` |
//! | message | `USER#<recipient>` | `MSG#<timestamp>` | `sender`, `recipient`, `timestamp`, `message`, `sender_ts` | `sending.rs` (written), `deleting.rs` (deleted) |
//! | pair, send side | `USER#<recipient>` | `PAIR#<sender>` | `sender`, `last_message_at`, `sent`, `pending_since`?, `blocked`? | `sending.rs` (written), `pairs.rs` (read; `pending_since` tidied), `blocking.rs` (`blocked`) |
//! | pair, read side | `USER#<recipient>` | `CURSOR#<sender>` | `sender`, `fetched_through`?, `settled`, `rev`, `cleared_through`? | `pairs.rs` (read, and settled for `fetch_new.rs`, `marking.rs` and `deleting.rs`; cleared for `conversation.rs`) |
//! | block record | `USER#<blocker>` | `BLOCKED#<login>` | `login`, `blocked_at` | `blocking.rs` |
//! | group head | `GROUP#<id>` | `GROUP` | `group`, `name`, `admin`, `created_at`, `members`, `last_message_at`?, `sent`? | `groups.rs`; `group_sending.rs` (`last_message_at`, `sent`) |
//! | group member | `GROUP#<id>` | `MEMBER#<login>` | `login`, `joined_at` | `groups.rs` |
//! | group message | `GROUP#<id>` | `MSG#<timestamp>` | `sender`, `group`, `timestamp`, `message`, `sender_ts` | `group_sending.rs` (written), `group_deleting.rs` (deleted) |
//! | membership (a member's read state) | `USER#<login>` | `GROUP#<id>` | `group`, `joined_at`, `joined_after`?, `fetched_through`?, `ahead`?, `rev` | `groups.rs` (made, deleted), `group_fetch.rs` (moved) |
//! | group marker | `USER#<login>` | `GPENDING#<id>` | `group`, `notified_through`?, `pending_since`? | `group_pending.rs` (noted by the notifier, tidied by fetches), `groups.rs` (made, deleted) |
//! | idempotency record | `IDEM#<sha256 of endpoint, caller, key>` | `IDEM` | `request_hash`, `response`, `ttl` | `idempotency.rs` |
//! | WebSocket ticket | `TICKET#<sha256 of ticket>` | `TICKET` | `login`, `expires_at`, `ttl` | `tickets.rs` |
//! | WebSocket connection, by user | `CONNS#<login>` | `<connection id>` | `login`, `connected_at`, `ttl` | `connections.rs` |
//! | WebSocket connection, by id | `CONNECTION#<connection id>` | `CONNECTION` | `login`, `connected_at`, `ttl` | `connections.rs` |
//! | rate-limit counter | `RATE#<kind>#<subject>` (`send#<login>`, `register#<source address>`) | `<window start, unix seconds>` | `count`, `ttl` | `rate_limits.rs` |
//!
//! The local secondary index `by_sender` sorts a mailbox by `sender_ts`
//! (`<sender>#<timestamp>`), so one sender's messages to one recipient are
//! a contiguous, time-ordered key range that can be read with strong
//! consistency (a global index could not: it lags the table). Two more
//! local indexes hold small entries: `by_time` (a message's keys and
//! sender, by `timestamp`; `positions.rs`) for skipping and counting slice
//! positions, and `by_pending` (send-side pair keys by `pending_since`,
//! present while a pair has new messages, and group markers while a group
//! may hold unread messages; `pending.rs`) for choosing which senders and
//! groups a fetch reads.
//!
//! No two senders to one recipient write a common item, and no fetch
//! writes an item a send writes (in a transaction): on AWS, transactions
//! that touch one item at once cancel each other, which DynamoDB Local
//! never shows.
//!
//! A group's messages live once, in the group's partition; each member
//! keeps a read position of their own (`groups.rs`, `group_fetch.rs`).
//!
//! Reads of messages are in `history.rs`, and of only the read or only the
//! unread ones (fetch_messages' `read` filter) in `read_filter.rs`; every
//! call's consumed capacity is counted by `capacity.rs`; transactions,
//! their resends and the request's deadline are in `transaction.rs`.

mod blocking;
pub mod capacity;
mod connections;
mod conversation;
mod deleting;
mod fetch_new;
mod group_deleting;
mod group_fetch;
mod group_pending;
mod group_receipts;
mod group_sending;
mod groups;
mod history;
mod idempotency;
mod marking;
mod merge;
mod ordering;
mod pairs;
mod pending;
mod positions;
mod rate_limits;
mod read_filter;
mod sending;
mod tickets;
mod transaction;
mod users;

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{BuildError, DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason, Put, ReturnConsumedCapacity, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use serde::Serialize;

pub use blocking::BlockRecord;
pub use connections::CONNECTION_LIFETIME_SECONDS;
pub use conversation::ConversationDeleted;
pub use deleting::DeleteOutcome;
pub use fetch_new::{FetchNewOutcome, FetchedBatch};
pub use group_fetch::{GroupFetchOutcome, GroupReadState};
pub use group_receipts::GroupReadMove;
pub use group_sending::GroupSendOutcome;
pub use groups::{Added, GroupChange, GroupMember, GroupRow, GroupView};
pub use history::MailboxRange;
pub use idempotency::{IdempotencyClaim, Recorded};
pub use pairs::Pair;
pub use rate_limits::{RateLimit, Rated};
pub use read_filter::Positions;
pub use sending::SendOutcome;
pub use transaction::{RequestScope, REQUEST_DEADLINE};
pub use users::{TokenRecord, UserRecord};

use transaction::MAX_ATTEMPTS;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The SDK's own text of a failure is often just "unhandled error": the
    /// cause (a timeout, a refused connection, throttling) is further down
    /// its chain, which `DisplayErrorContext` writes out.
    #[error("DynamoDB request failed: {}", DisplayErrorContext(.0))]
    Dynamo(Box<aws_sdk_dynamodb::Error>),
    #[error("too many concurrent changes to the same items; gave up after {MAX_ATTEMPTS} attempts")]
    Contention,
    #[error("DynamoDB did not answer in time")]
    Timeout,
    /// A transaction was sent, and whether it committed was still unknown
    /// when the request's deadline came.
    #[error("transaction outcome unknown at the request deadline: {}", DisplayErrorContext(.0))]
    OutcomeUnknown(Box<aws_sdk_dynamodb::Error>),
    #[error("could not build a DynamoDB request: {0}")]
    Build(#[from] BuildError),
    #[error("stored item is malformed: {0}")]
    Corrupt(String),
}

impl<E, R> From<SdkError<E, R>> for StoreError
where
    aws_sdk_dynamodb::Error: From<SdkError<E, R>>,
{
    fn from(error: SdkError<E, R>) -> Self {
        Self::Dynamo(Box::new(error.into()))
    }
}

impl From<serde_dynamo::Error> for StoreError {
    fn from(error: serde_dynamo::Error) -> Self {
        Self::Corrupt(error.to_string())
    }
}

impl StoreError {
    /// Whether a single conditional write was refused by its condition.
    fn is_failed_condition(&self) -> bool {
        matches!(self, Self::Dynamo(error) if matches!(**error, aws_sdk_dynamodb::Error::ConditionalCheckFailedException(_)))
    }
}

pub type Item = HashMap<String, AttributeValue>;

#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A transaction item that puts `item` unless a live item holds its
    /// key: any item without a `ttl`, or one whose `ttl` has not passed
    /// (DynamoDB's TTL sweep can lag by days, so an expired item may still
    /// be there).
    fn put_if_absent(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #ttl < :now")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":now", n(crate::model::Timestamp::now().unix_seconds()))
            .build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// A transaction item that puts `item` where no item is.
    fn put_new(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn key(pk: String, sk: impl Into<String>) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

/// The item of `attributes` stored under `key`.
fn keyed(key: Item, attributes: &impl Serialize) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(attributes)?;
    item.extend(key);
    Ok(item)
}

fn user_pk(login: &str) -> String {
    format!("USER#{login}")
}

/// The sort key of a user's profile item, under [`user_pk`].
const PROFILE_SK: &str = "PROFILE";

/// Every item a query finds, page after page, its reads counted.
async fn query_all(query: QueryFluentBuilder) -> Result<Vec<Item>, StoreError> {
    let mut pages = query.return_consumed_capacity(ReturnConsumedCapacity::Total).into_paginator().send();
    let mut items = Vec::new();
    while let Some(page) = pages.try_next().await? {
        capacity::read(page.consumed_capacity());
        items.extend(page.items.unwrap_or_default());
    }
    Ok(items)
}

/// DynamoDB's cap on the items of one transaction.
const MAX_TRANSACTION_ITEMS: usize = 100;

/// Whether a cancelled transaction's item failed its condition.
fn failed_condition(reasons: &[CancellationReason], index: usize) -> bool {
    reasons.get(index).and_then(CancellationReason::code) == Some("ConditionalCheckFailed")
}

#[cfg(test)]
mod tests {
    use std::io;

    use aws_sdk_dynamodb::error::ConnectorError;
    use aws_sdk_dynamodb::operation::get_item::GetItemError;

    use super::*;

    #[test]
    fn a_store_error_says_why_the_sdk_failed() {
        let refused = io::Error::new(io::ErrorKind::ConnectionRefused, "connection refused by 127.0.0.1:8000");
        let cases: [(SdkError<GetItemError>, &str); 2] = [
            (SdkError::dispatch_failure(ConnectorError::io(Box::new(refused))), "connection refused by 127.0.0.1:8000"),
            (SdkError::timeout_error("operation attempt timed out after 2s"), "operation attempt timed out after 2s"),
        ];
        for (error, cause) in cases {
            let text = StoreError::from(error).to_string();
            assert!(text.starts_with("DynamoDB request failed: "), "{text}");
            assert!(text.contains(cause), "{text}");
        }
    }
}
