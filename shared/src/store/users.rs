//! Users and their bearer tokens. Owns the user items (`USER#<login>`,
//! `PROFILE`) and the token items (`TOKEN#<sha256>`, `TOKEN`).

use aws_sdk_dynamodb::operation::get_item::builders::GetItemFluentBuilder;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::capacity::Counted;
use super::transaction::{back_off, Transaction, MAX_ATTEMPTS};
use super::{failed_condition, key, keyed, user_pk, Item, Store, StoreError, PROFILE_SK};
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

/// A token item's attributes besides its key.
#[derive(Serialize, Deserialize)]
struct TokenAttributes {
    login: Identifier,
    expires_at: Timestamp,
    /// DynamoDB's TTL sweeps expired tokens eventually; reads still check
    /// `expires_at` because the sweep can lag by days.
    #[serde(default)]
    ttl: i64,
}

fn token_key(hash: &str) -> Item {
    key(format!("TOKEN#{hash}"), TOKEN_SK)
}

impl TokenRecord {
    fn to_item(&self) -> Result<Item, StoreError> {
        let attributes = TokenAttributes {
            login: self.login.clone(),
            expires_at: self.expires_at,
            ttl: self.expires_at.unix_seconds(),
        };
        keyed(token_key(&self.hash), &attributes)
    }
}

impl Store {
    /// Creates the user and their first token together. Returns false when
    /// the login is taken.
    pub async fn create_user(&self, user: &UserRecord, token: &TokenRecord) -> Result<bool, StoreError> {
        let token_put = Put::builder().table_name(&self.table).set_item(Some(token.to_item()?)).build()?;
        let items = vec![
            self.put_if_absent(keyed(key(user_pk(user.login.as_str()), PROFILE_SK), user)?)?,
            TransactWriteItem::builder().put(token_put).build(),
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
            .counted()
            .await?;
        Ok(found.item.map(serde_dynamo::from_item).transpose()?)
    }

    /// Which of `logins` no user holds, in the order given.
    pub async fn unknown_users(&self, logins: &[Identifier]) -> Result<Vec<Identifier>, StoreError> {
        #[derive(Deserialize)]
        struct Login {
            login: Identifier,
        }
        let keys = logins.iter().map(|login| key(user_pk(login.as_str()), PROFILE_SK)).collect();
        let known: Vec<Login> = self.batch_get(keys, Some("login")).await?;
        Ok(logins.iter().filter(|login| !known.iter().any(|k| k.login == **login)).cloned().collect())
    }

    pub async fn put_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        self.client.put_item().table_name(&self.table).set_item(Some(token.to_item()?)).counted().await?;
        Ok(())
    }

    /// Strongly consistent, so a logout takes effect at once.
    pub async fn token(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let found = self.token_lookup(hash).counted().await?;
        let Some(item) = found.item else {
            return Ok(None);
        };
        let stored: TokenAttributes = serde_dynamo::from_item(item)?;
        Ok(Some(TokenRecord { hash: hash.to_owned(), login: stored.login, expires_at: stored.expires_at }))
    }

    /// The read of a token item (public for the bench's bare calls).
    pub fn token_lookup(&self, hash: &str) -> GetItemFluentBuilder {
        self.client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(token_key(hash)))
            .projection_expression("login, expires_at")
            .consistent_read(true)
    }

    pub async fn delete_token(&self, hash: &str) -> Result<(), StoreError> {
        self.client.delete_item().table_name(&self.table).set_key(Some(token_key(hash))).counted().await?;
        Ok(())
    }
}
