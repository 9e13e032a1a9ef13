//! Idempotency records (`IDEM#<sha256 of endpoint, caller, key>`, `IDEM`):
//! what an endpoint needs to answer a repeat of a successful request, kept
//! for a day under a key that belongs to one caller and one endpoint. A
//! record is written in the same transaction as the change it describes,
//! so there is never a record without its change, nor a change without
//! its record. Each operation that takes a claim has its own record type
//! (`sending.rs`, `fetch_new.rs`), written and read back beside it.

use aws_sdk_dynamodb::types::TransactWriteItem;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::capacity::Counted;
use super::{key, keyed, Item, Store, StoreError};
use crate::model::{Identifier, Timestamp};

const IDEMPOTENCY_SK: &str = "IDEM";
pub const IDEMPOTENCY_WINDOW_SECONDS: i64 = 24 * 60 * 60;

/// A request's claim on an idempotency key.
#[derive(Debug, Clone)]
pub struct IdempotencyClaim {
    key_hash: String,
    /// Hash of the request's normalised content: the same key with another
    /// request is a conflict, not a replay.
    request_hash: String,
}

/// What a live record under a claim's key holds for the claiming request.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded<T> {
    /// The same request succeeded before: its response.
    Response(T),
    /// The key was used with another request.
    OtherRequest,
}

/// An idempotency item's attributes besides its key.
#[derive(Serialize, Deserialize)]
struct Stored<R> {
    request_hash: String,
    response: R,
    ttl: i64,
}

fn hex_sha256(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        // A separator that cannot occur in the parts keeps ("ab","c") and
        // ("a","bc") apart.
        hasher.update([0u8]);
    }
    format!("{:x}", hasher.finalize())
}

impl IdempotencyClaim {
    pub fn new(endpoint: &str, caller: &Identifier, key: &str, normalised_request: &str) -> Self {
        Self {
            key_hash: hex_sha256(&[endpoint, caller.as_str(), key]),
            request_hash: hex_sha256(&[normalised_request]),
        }
    }

    fn key(&self) -> Item {
        key(format!("IDEM#{}", self.key_hash), IDEMPOTENCY_SK)
    }
}

impl Store {
    /// The live record under a claim's key, if any. Expired records are
    /// ignored: DynamoDB's TTL sweep can lag by days.
    pub(super) async fn idempotency_record<R: DeserializeOwned>(
        &self,
        claim: &IdempotencyClaim,
    ) -> Result<Option<Recorded<R>>, StoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(claim.key()))
            .consistent_read(true)
            .counted()
            .await?;
        let Some(item) = found.item else {
            return Ok(None);
        };
        let stored: Stored<R> = serde_dynamo::from_item(item)?;
        Ok(match stored {
            Stored { ttl, .. } if ttl < Timestamp::now().unix_seconds() => None,
            Stored { request_hash, response, .. } if request_hash == claim.request_hash => {
                Some(Recorded::Response(response))
            }
            Stored { .. } => Some(Recorded::OtherRequest),
        })
    }

    /// The transaction item that records `response` under the claim's key,
    /// unless a live record already holds the key.
    pub(super) fn idempotency_item<R: Serialize>(
        &self,
        claim: &IdempotencyClaim,
        response: R,
    ) -> Result<TransactWriteItem, StoreError> {
        let ttl = Timestamp::now().plus_seconds(IDEMPOTENCY_WINDOW_SECONDS).unix_seconds();
        let stored = Stored { request_hash: claim.request_hash.clone(), response, ttl };
        self.put_if_absent(keyed(claim.key(), &stored)?)
    }
}
