//! All DynamoDB access. One table holds every item:
//!
//! | item | pk | sk | other attributes |
//! |---|---|---|---|
//! | user | `USER#<login>` | `PROFILE` | `login`, `password_hash`? |
//! | message | `USER#<recipient>` | `MSG#<timestamp>` | `sender`, `recipient`, `timestamp`, `message`, `sender_ts` |
//! | pair (cursor + counter) | `USER#<recipient>` | `PAIR#<sender>` | `sender`, `last_message_at`, `fetched_through`?, `new_messages`, `pending_since`?, `rev` |
//! | token | `TOKEN#<sha256 of token>` | `TOKEN` | `login`, `expires_at`, `ttl` |
//! | idempotency record | `IDEM#<sha256 of endpoint, caller, key>` | `IDEM` | `request_hash`, `result`, `ttl` |
//!
//! The local secondary index `by_sender` sorts a mailbox by `sender_ts`
//! (`<sender>#<timestamp>`), so one sender's messages to one recipient are
//! a contiguous, time-ordered key range that can be read with strong
//! consistency (a global index could not: it lags the table). Two more
//! local indexes hold small entries: `by_time` (a message's keys and
//! sender, by `timestamp`) for skipping and counting slice positions, and
//! `by_pending` (pair keys by `pending_since`, present only while a pair
//! has new messages) for choosing which senders a fetch reads.

pub mod capacity;
mod fetch_new;
mod idempotency;
mod messages;
mod positions;
mod users;

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::error::{BuildError, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason, ReturnConsumedCapacity, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use rand::Rng;

pub use fetch_new::{FetchNewOutcome, FetchReplay, FetchedBatch};
pub use idempotency::{IdempotencyClaim, IdempotencyRecord};
pub use messages::{DeleteOutcome, MailboxRange, Pair, SendOutcome};
pub use users::{TokenRecord, UserRecord};

pub const SENDER_INDEX: &str = "by_sender";

/// How often a change that lost an optimistic-concurrency race is tried
/// again before the request gives up with a retryable 503.
const MAX_ATTEMPTS: u32 = 12;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DynamoDB request failed: {0}")]
    Dynamo(#[from] Box<aws_sdk_dynamodb::Error>),
    #[error("too many concurrent changes to the same items; gave up after {MAX_ATTEMPTS} attempts")]
    Contention,
    #[error("DynamoDB did not answer in time")]
    Timeout,
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

pub type Item = HashMap<String, AttributeValue>;

#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
}

/// What became of a transaction: committed, or cancelled with one reason
/// per item, in the order the items were given.
enum Transaction {
    Committed,
    Cancelled(Vec<CancellationReason>),
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

    /// Runs a transaction. When its outcome is unknown (a timeout, a lost
    /// connection, a server error) the identical request is sent again with
    /// the same client request token: DynamoDB applies a token at most once
    /// in ten minutes, so a resend can only learn the outcome, never apply
    /// the change twice.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<Transaction, StoreError> {
        let token = format!("{:032x}", rand::rng().random::<u128>());
        let started = std::time::Instant::now();
        let mut attempt = 0;
        loop {
            let sent = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .client_request_token(&token)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await;
            let error = match sent {
                Ok(committed) => {
                    capacity::writes(committed.consumed_capacity());
                    return Ok(Transaction::Committed);
                }
                Err(error) => error,
            };
            if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = error.as_service_error() {
                return Ok(Transaction::Cancelled(cancelled.cancellation_reasons().to_vec()));
            }
            attempt += 1;
            if attempt >= TRANSACTION_SENDS || started.elapsed() > RESEND_WINDOW || !outcome_unknown(&error) {
                return Err(error.into());
            }
            back_off(attempt).await;
        }
    }
}

/// How often, and for how long, one transaction is sent while its outcome
/// stays unknown.
const TRANSACTION_SENDS: u32 = 3;
const RESEND_WINDOW: Duration = Duration::from_secs(3);

fn outcome_unknown<R>(error: &SdkError<TransactWriteItemsError, R>) -> bool {
    use TransactWriteItemsError as E;
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(service) => matches!(
            service.err(),
            E::InternalServerError(_)
                | E::TransactionInProgressException(_)
                | E::ThrottlingException(_)
                | E::RequestLimitExceeded(_)
                | E::ProvisionedThroughputExceededException(_)
        ),
        _ => false,
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

fn user_pk(login: &str) -> String {
    format!("USER#{login}")
}

/// The sort key of a user's profile item, under [`user_pk`].
const PROFILE_SK: &str = "PROFILE";

/// Whether a cancelled transaction's item failed its condition.
fn failed_condition(reasons: &[CancellationReason], index: usize) -> bool {
    reasons.get(index).and_then(CancellationReason::code) == Some("ConditionalCheckFailed")
}

/// Waits before another optimistic attempt: random, growing with each
/// attempt, so racing writers spread out instead of colliding again.
async fn back_off(attempt: u32) {
    let ceiling_ms = (4u64 << attempt.min(6)).min(250);
    let wait = rand::rng().random_range(1..=ceiling_ms);
    tokio::time::sleep(Duration::from_millis(wait)).await;
}
