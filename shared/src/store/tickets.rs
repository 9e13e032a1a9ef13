//! WebSocket tickets (`TICKET#<sha256 of ticket>`, `TICKET`): written by
//! `POST /realtime_ticket`, consumed by `$connect`.

use aws_sdk_dynamodb::types::ReturnValue;
use serde::{Deserialize, Serialize};

use super::capacity::Counted;
use super::{key, keyed, n, Item, Store, StoreError};
use crate::model::{Identifier, Timestamp};

const TICKET_SK: &str = "TICKET";

#[derive(Serialize, Deserialize)]
struct TicketAttributes {
    login: Identifier,
    expires_at: Timestamp,
    /// The expiry in unix seconds: DynamoDB's TTL sweeps the ticket, and
    /// consuming it compares against it (the sweep can lag by days).
    ttl: i64,
}

fn ticket_key(hash: &str) -> Item {
    key(format!("TICKET#{hash}"), TICKET_SK)
}

impl Store {
    pub async fn put_ticket(&self, hash: &str, login: &Identifier, expires_at: Timestamp) -> Result<(), StoreError> {
        let attributes = TicketAttributes { login: login.clone(), expires_at, ttl: expires_at.unix_seconds() };
        let item = keyed(ticket_key(hash), &attributes)?;
        self.client.put_item().table_name(&self.table).set_item(Some(item)).counted().await?;
        Ok(())
    }

    /// Consumes a ticket: one conditional delete, so two sockets racing
    /// with one ticket cannot both have it. The user it was issued to, or
    /// None when it is unknown, already used or expired.
    pub async fn take_ticket(&self, hash: &str) -> Result<Option<Identifier>, StoreError> {
        let taken = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(ticket_key(hash)))
            .condition_expression("attribute_exists(pk) AND #ttl > :now")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":now", n(Timestamp::now().unix_seconds()))
            .return_values(ReturnValue::AllOld)
            .counted()
            .await;
        match taken {
            Ok(output) => {
                let old =
                    output.attributes.ok_or_else(|| StoreError::Corrupt("a deleted ticket had no item".into()))?;
                let ticket: TicketAttributes = serde_dynamo::from_item(old)?;
                Ok(Some(ticket.login))
            }
            Err(error) if error.is_failed_condition() => Ok(None),
            Err(error) => Err(error),
        }
    }
}
