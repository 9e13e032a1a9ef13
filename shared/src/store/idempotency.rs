//! Idempotency records: the outcome of a successful request, kept for a
//! day under a key that belongs to one caller and one endpoint. A record is
//! written in the same transaction as the change it describes, so there is
//! never a record without its change, nor a change without its record.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use sha2::{Digest, Sha256};

use aws_sdk_dynamodb::types::ReturnConsumedCapacity;

use super::{capacity, key, n, s, Store, StoreError};
use crate::model::{Identifier, Timestamp};

const IDEMPOTENCY_SK: &str = "IDEM";
pub const IDEMPOTENCY_WINDOW_SECONDS: i64 = 24 * 60 * 60;

/// A request's claim on an idempotency key.
#[derive(Debug, Clone)]
pub struct IdempotencyClaim {
    key_hash: String,
    /// Hash of the request's normalised content: the same key with another
    /// request is a conflict, not a replay.
    pub request_hash: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IdempotencyRecord {
    pub request_hash: String,
    /// What the endpoint needs to rebuild its first response.
    pub result: String,
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

    fn pk(&self) -> String {
        format!("IDEM#{}", self.key_hash)
    }

    /// The transaction item that records `result`, unless a live record
    /// already holds the key.
    fn record_item(&self, table: &str, result: &str, now: Timestamp) -> Result<TransactWriteItem, StoreError> {
        let mut item = key(self.pk(), IDEMPOTENCY_SK);
        item.insert("request_hash".into(), s(&self.request_hash));
        item.insert("result".into(), s(result));
        item.insert("ttl".into(), n(now.plus_seconds(IDEMPOTENCY_WINDOW_SECONDS).unix_seconds()));
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #ttl < :now")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":now", n(now.unix_seconds()))
            .build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}

impl Store {
    /// The live record for a claim's key, if any. Expired records are
    /// ignored: DynamoDB's TTL sweep can lag by days.
    pub async fn idempotency_record(&self, claim: &IdempotencyClaim) -> Result<Option<IdempotencyRecord>, StoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(claim.pk(), IDEMPOTENCY_SK)))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await?;
        capacity::read(found.consumed_capacity());
        let Some(item) = found.item else {
            return Ok(None);
        };
        #[derive(serde::Deserialize)]
        struct Stored {
            request_hash: String,
            result: String,
            ttl: i64,
        }
        let stored: Stored = serde_dynamo::from_item(item)?;
        if stored.ttl < Timestamp::now().unix_seconds() {
            return Ok(None);
        }
        Ok(Some(IdempotencyRecord { request_hash: stored.request_hash, result: stored.result }))
    }

    pub(super) fn idempotency_item(
        &self,
        claim: &IdempotencyClaim,
        result: &str,
        now: Timestamp,
    ) -> Result<TransactWriteItem, StoreError> {
        claim.record_item(&self.table, result, now)
    }
}
