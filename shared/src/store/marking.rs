//! mark_read: moves a pair's cursor forward as if fetch_new_messages had
//! returned every message up to a given one (a read horizon), settling the
//! messages it passes on the pair's read side (`pairs.rs`), under the same
//! `rev` condition as a fetch or a delete. Owns no items.

use super::transaction::{after_losses, Transaction};
use super::{MailboxRange, Store, StoreError};
use crate::model::{Identifier, Timestamp};

impl Store {
    /// Marks `recipient`'s messages from `sender` up to and including
    /// `through` read; returns how many were new. The cursor moves to the
    /// newest of them, not to `through` itself: a send still in flight
    /// with an earlier timestamp than `through` must stay new, and one
    /// pair's sends commit in timestamp order, so none can land behind a
    /// message that exists. The cursor never moves back.
    pub async fn mark_read(
        &self,
        recipient: &Identifier,
        sender: &Identifier,
        through: Timestamp,
    ) -> Result<usize, StoreError> {
        let mut losses = 0;
        loop {
            after_losses(losses).await?;
            let Some(pair) = self.pair(recipient, sender).await? else {
                return Ok(0);
            };
            let passed = MailboxRange {
                recipient,
                group: None,
                sender: Some(sender),
                from: pair.fetched_through.map(Timestamp::next),
                to: Some(through),
            };
            let passed = self.timestamps_in(passed, usize::MAX).await?;
            let Some(&newest) = passed.last() else {
                return Ok(0);
            };
            let settle = pair.settle(self, recipient, passed.len(), Some(newest))?;
            match self.transact(vec![settle]).await? {
                Transaction::Committed => {
                    if pair.new_messages <= passed.len() as u64 {
                        self.tidy_pending(recipient, vec![(sender.clone(), pair.sent)]).await;
                    }
                    return Ok(passed.len());
                }
                // A fetch, a delete or another mark_read of the pair went
                // first: read again.
                Transaction::Cancelled(_) => losses += 1,
            }
        }
    }
}
