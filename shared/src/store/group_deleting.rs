//! Deleting group messages (`GROUP#<id>`, `MSG#<timestamp>`, written by
//! `group_sending.rs`): by their sender, or by the group's admin. Members
//! count their unread messages by reading (`group_fetch.rs`), so no
//! counter changes with a delete, and a marker left pending by a deleted
//! message costs its member one read before the fetch tidies it.

use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};

use super::group_sending::group_message_key;
use super::groups::GroupChange;
use super::transaction::{after_losses, Transaction};
use super::{s, DeleteOutcome, Store, StoreError};
use crate::model::{GroupId, Identifier, Timestamp};

impl Store {
    /// Deletes `sender`'s messages at `timestamps` from a group, for the
    /// sender or the group's admin: one transaction of the messages found,
    /// each conditioned on being there still, so a delete racing another
    /// reads again and the answer says exactly what this one deleted.
    pub async fn delete_group_messages(
        &self,
        group: &GroupId,
        caller: &Identifier,
        sender: &Identifier,
        timestamps: &[Timestamp],
    ) -> Result<GroupChange<DeleteOutcome>, StoreError> {
        let looked = self.look(group, caller, &[]).await?;
        let Some(head) = looked.head.filter(|_| looked.members.contains(caller)) else {
            return Ok(GroupChange::NoGroup);
        };
        if caller != sender && head.admin != *caller {
            return Ok(GroupChange::NotAdmin);
        }
        let mut losses = 0;
        loop {
            after_losses(losses).await?;
            let keys: Vec<_> = timestamps.iter().map(|t| (group.clone(), sender.clone(), *t)).collect();
            let found: Vec<Timestamp> =
                self.group_messages_at(caller, &keys).await?.into_iter().map(|m| m.timestamp).collect();
            if found.is_empty() {
                return Ok(GroupChange::Done(DeleteOutcome { deleted: found }));
            }
            let deletes = found.iter().map(|timestamp| {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(group_message_key(group, *timestamp)))
                    .condition_expression("sender = :sender")
                    .expression_attribute_values(":sender", s(sender.as_str()))
                    .build()?;
                Ok(TransactWriteItem::builder().delete(delete).build())
            });
            match self.transact(deletes.collect::<Result<_, StoreError>>()?).await? {
                Transaction::Committed => return Ok(GroupChange::Done(DeleteOutcome { deleted: found })),
                Transaction::Cancelled(_) => losses += 1,
            }
        }
    }
}
