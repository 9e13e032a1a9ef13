//! Users and their bearer tokens.

use aws_sdk_dynamodb::types::{Put, ReturnConsumedCapacity, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::{
    back_off, capacity, failed_condition, key, n, s, user_pk, Item, Store, StoreError, Transaction, MAX_ATTEMPTS,
    PROFILE_SK,
};
use crate::model::{Identifier, Timestamp};

const TOKEN_SK: &str = "TOKEN";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserRecord {
    pub login: Identifier,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
}

/// A token as stored: only its hash, never the token itself.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    pub hash: String,
    pub login: Identifier,
    pub expires_at: Timestamp,
}

fn token_pk(hash: &str) -> String {
    format!("TOKEN#{hash}")
}

impl TokenRecord {
    fn to_item(&self) -> Item {
        let mut item = key(token_pk(&self.hash), TOKEN_SK);
        item.insert("login".into(), s(self.login.as_str()));
        item.insert("expires_at".into(), s(self.expires_at.to_string()));
        // DynamoDB's TTL sweeps expired tokens eventually; reads still
        // check `expires_at` because the sweep can lag by days.
        item.insert("ttl".into(), n(self.expires_at.unix_seconds()));
        item
    }
}

impl Store {
    /// Creates the user and their first token together. Returns false when
    /// the login is taken.
    pub async fn create_user(&self, user: &UserRecord, token: &TokenRecord) -> Result<bool, StoreError> {
        let mut profile: Item = serde_dynamo::to_item(user)?;
        profile.extend(key(user_pk(user.login.as_str()), PROFILE_SK));
        let items = vec![
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(profile))
                        .condition_expression("attribute_not_exists(pk)")
                        .build()?,
                )
                .build(),
            TransactWriteItem::builder()
                .put(Put::builder().table_name(&self.table).set_item(Some(token.to_item())).build()?)
                .build(),
        ];
        for attempt in 0..MAX_ATTEMPTS {
            match self.transact(items.clone()).await? {
                Transaction::Committed => return Ok(true),
                Transaction::Cancelled(reasons) if failed_condition(&reasons, 0) => return Ok(false),
                // A concurrent registration of the same login: try again
                // to learn which one won.
                Transaction::Cancelled(_) => back_off(attempt).await,
            }
        }
        Err(StoreError::Contention)
    }

    pub async fn user(&self, login: &Identifier) -> Result<Option<UserRecord>, StoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(login.as_str()), PROFILE_SK)))
            .projection_expression("login, password_hash")
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await?;
        capacity::read(found.consumed_capacity());
        Ok(found.item.map(serde_dynamo::from_item).transpose()?)
    }

    pub async fn put_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(token.to_item()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await?;
        capacity::write(put.consumed_capacity());
        Ok(())
    }

    /// Strongly consistent, so a logout takes effect at once.
    pub async fn token(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(token_pk(hash), TOKEN_SK)))
            .projection_expression("login, expires_at")
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await?;
        capacity::read(found.consumed_capacity());
        let Some(item) = found.item else {
            return Ok(None);
        };
        #[derive(Deserialize)]
        struct Stored {
            login: Identifier,
            expires_at: Timestamp,
        }
        let stored: Stored = serde_dynamo::from_item(item)?;
        Ok(Some(TokenRecord { hash: hash.to_owned(), login: stored.login, expires_at: stored.expires_at }))
    }

    pub async fn delete_token(&self, hash: &str) -> Result<(), StoreError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(token_pk(hash), TOKEN_SK)))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await?;
        capacity::write(deleted.consumed_capacity());
        Ok(())
    }
}
