//! Blocking: owns the block records (`USER#<blocker>`, `BLOCKED#<login>`:
//! `login`, `blocked_at`), which `GET /blocked` lists, and the `blocked`
//! flag on the send side of the pair (`PAIR#<login>` in the blocker's
//! mailbox), which a send's condition reads (`sending.rs`). The flag is
//! where a send already looks, so blocking costs an ordinary send nothing;
//! the records keep the list a query of its own, not a scan of every pair.
//! Both change in one transaction.

use std::future::Future;

use aws_sdk_dynamodb::types::{ConditionCheck, Delete, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::capacity::Counted;
use super::pairs::pair_key;
use super::transaction::{after_losses, Transaction};
use super::{key, query_all, s, user_pk, Item, Store, StoreError};
use crate::model::{Identifier, Timestamp};

/// The send side's attribute that refuses the pair's sends.
pub(super) const BLOCKED_FLAG: &str = "blocked";

const RECORD_PREFIX: &str = "BLOCKED#";

fn record_key(blocker: &Identifier, login: &Identifier) -> Item {
    key(user_pk(blocker.as_str()), format!("{RECORD_PREFIX}{login}"))
}

/// One login a user blocked, and since when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockRecord {
    pub login: Identifier,
    pub blocked_at: Timestamp,
}

impl Store {
    /// Refuses `login`'s sends to `blocker` from now on; blocking again
    /// keeps the first `blocked_at`.
    pub async fn block(&self, blocker: &Identifier, login: &Identifier) -> Result<(), StoreError> {
        let flag = Update::builder()
            .table_name(&self.table)
            .set_key(Some(pair_key(blocker, login)))
            .update_expression("SET sender = :login, blocked = :yes")
            .expression_attribute_values(":login", s(login.as_str()))
            .expression_attribute_values(":yes", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
            .build()?;
        let record = Update::builder()
            .table_name(&self.table)
            .set_key(Some(record_key(blocker, login)))
            .update_expression("SET login = :login, blocked_at = if_not_exists(blocked_at, :now)")
            .expression_attribute_values(":login", s(login.as_str()))
            .expression_attribute_values(":now", s(Timestamp::now().to_string()))
            .build()?;
        let items = [flag, record].map(|update| TransactWriteItem::builder().update(update).build());
        self.until_committed(|| async { Ok(items.to_vec()) }).await
    }

    /// Accepts `login`'s sends to `blocker` again.
    pub async fn unblock(&self, blocker: &Identifier, login: &Identifier) -> Result<(), StoreError> {
        self.until_committed(|| self.unblock_items(blocker, login)).await
    }

    /// Unblocking as the pair item is now: the record goes, and the flag,
    /// if set, with it.
    async fn unblock_items(
        &self,
        blocker: &Identifier,
        login: &Identifier,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let flag = Update::builder()
            .table_name(&self.table)
            .set_key(Some(pair_key(blocker, login)))
            .update_expression("REMOVE blocked")
            // Never creates a pair item that was not there.
            .condition_expression("attribute_exists(pk)")
            .build()?;
        let record = Delete::builder().table_name(&self.table).set_key(Some(record_key(blocker, login))).build()?;
        let mut items = vec![TransactWriteItem::builder().delete(record).build()];
        if self.is_blocked_pair(blocker, login).await? {
            items.push(TransactWriteItem::builder().update(flag).build());
        } else {
            // A block that commits between the read and this transaction
            // cancels it, and the next try reads the flag it set.
            let unflagged = ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(pair_key(blocker, login)))
                .condition_expression("attribute_not_exists(blocked)")
                .build()?;
            items.push(TransactWriteItem::builder().condition_check(unflagged).build());
        }
        Ok(items)
    }

    /// The logins `blocker` blocked, in login order.
    pub async fn blocked(&self, blocker: &Identifier) -> Result<Vec<BlockRecord>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(user_pk(blocker.as_str())))
            .expression_attribute_values(":prefix", s(RECORD_PREFIX))
            .consistent_read(true);
        Ok(serde_dynamo::from_items(query_all(query).await?)?)
    }

    async fn is_blocked_pair(&self, blocker: &Identifier, login: &Identifier) -> Result<bool, StoreError> {
        let found = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(pair_key(blocker, login)))
            .projection_expression(BLOCKED_FLAG)
            .consistent_read(true)
            .counted()
            .await?;
        Ok(found.item().is_some_and(|item| item.contains_key(BLOCKED_FLAG)))
    }

    /// Runs the transaction `items` builds until it commits, building it
    /// again after each cancellation. Sends in flight on the pair cancel it
    /// (on AWS), and each is another send committing, so a block change
    /// waits as long as a send would.
    async fn until_committed<F, Built>(&self, items: F) -> Result<(), StoreError>
    where
        F: Fn() -> Built,
        Built: Future<Output = Result<Vec<TransactWriteItem>, StoreError>>,
    {
        let mut losses = 0;
        loop {
            after_losses(losses).await?;
            match self.transact(items().await?).await? {
                Transaction::Committed => return Ok(()),
                Transaction::Cancelled(_) => losses += 1,
            }
        }
    }
}
