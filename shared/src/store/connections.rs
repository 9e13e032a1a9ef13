//! WebSocket connections, each stored twice: under its user
//! (`CONNS#<login>`, `<connection id>`), so that the notifier finds a
//! user's connections with one query, and under its id
//! (`CONNECTION#<connection id>`, `CONNECTION`), so that `$disconnect`,
//! which knows only the id, finds the user. Both expire with API Gateway's
//! longest connection.

use aws_sdk_dynamodb::types::{Put, ReturnValue, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::capacity::Counted;
use super::transaction::{back_off, Transaction, MAX_ATTEMPTS};
use super::{key, keyed, query_all, s, Item, Store, StoreError};
use crate::model::{Identifier, Timestamp};

/// API Gateway closes a WebSocket connection after two hours.
pub const CONNECTION_LIFETIME_SECONDS: i64 = 2 * 60 * 60;

const CONNECTION_SK: &str = "CONNECTION";

fn user_connections_pk(login: &Identifier) -> String {
    format!("CONNS#{login}")
}

fn connection_key(id: &str) -> Item {
    key(format!("CONNECTION#{id}"), CONNECTION_SK)
}

fn user_connection_key(login: &Identifier, id: &str) -> Item {
    key(user_connections_pk(login), id)
}

#[derive(Serialize, Deserialize)]
struct ConnectionAttributes {
    login: Identifier,
    connected_at: Timestamp,
    ttl: i64,
}

impl Store {
    /// Records connection `id` of `login`, both items or neither.
    pub async fn add_connection(&self, login: &Identifier, id: &str) -> Result<(), StoreError> {
        let connected_at = Timestamp::now();
        let attributes = ConnectionAttributes {
            login: login.clone(),
            connected_at,
            ttl: connected_at.unix_seconds() + CONNECTION_LIFETIME_SECONDS,
        };
        let items = [connection_key(id), user_connection_key(login, id)]
            .into_iter()
            .map(|key| {
                let put = Put::builder().table_name(&self.table).set_item(Some(keyed(key, &attributes)?)).build()?;
                Ok(TransactWriteItem::builder().put(put).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        for attempt in 0..MAX_ATTEMPTS {
            match self.transact(items.clone()).await? {
                Transaction::Committed => return Ok(()),
                // Unconditional puts are cancelled only by a conflict.
                Transaction::Cancelled(_) => back_off(attempt).await,
            }
        }
        Err(StoreError::Contention)
    }

    /// Forgets connection `id` (at `$disconnect`), returning whose it was;
    /// None when it was unknown or already forgotten.
    pub async fn remove_connection(&self, id: &str) -> Result<Option<Identifier>, StoreError> {
        let removed = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(connection_key(id)))
            .return_values(ReturnValue::AllOld)
            .counted()
            .await?;
        let Some(old) = removed.attributes else {
            return Ok(None);
        };
        let connection: ConnectionAttributes = serde_dynamo::from_item(old)?;
        self.delete_user_connection(&connection.login, id).await?;
        Ok(Some(connection.login))
    }

    /// Forgets connection `id` of `login`, both items (when API Gateway
    /// answered that it is gone).
    pub async fn forget_connection(&self, login: &Identifier, id: &str) -> Result<(), StoreError> {
        let by_id = self.client.delete_item().table_name(&self.table).set_key(Some(connection_key(id))).counted();
        futures::try_join!(by_id, self.delete_user_connection(login, id))?;
        Ok(())
    }

    async fn delete_user_connection(&self, login: &Identifier, id: &str) -> Result<(), StoreError> {
        let key = user_connection_key(login, id);
        self.client.delete_item().table_name(&self.table).set_key(Some(key)).counted().await?;
        Ok(())
    }

    /// The ids of `login`'s live connections. Expired ones are left out:
    /// the TTL sweep can lag by days.
    pub async fn connections(&self, login: &Identifier) -> Result<Vec<String>, StoreError> {
        let now = Timestamp::now().unix_seconds();
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(user_connections_pk(login)))
            .projection_expression("sk, #ttl")
            .expression_attribute_names("#ttl", "ttl")
            .consistent_read(true);
        let listed: Vec<ListedConnection> = serde_dynamo::from_items(query_all(query).await?)?;
        let ids = listed.into_iter().filter(|listed| listed.ttl > now).map(|listed| listed.sk).collect();
        Ok(ids)
    }
}

#[derive(Deserialize)]
struct ListedConnection {
    sk: String,
    ttl: i64,
}
