//! The two items of each (recipient, sender) pair, kept apart so that a
//! send and a fetch never write the same item (on AWS, two transactions on
//! one item conflict, and a popular recipient's senders and fetches would
//! cancel each other):
//!
//! - the send side, `PAIR#<sender>` (`sender`, `last_message_at`, `sent`,
//!   `pending_since`?), written by sends in `sending.rs`;
//! - the read side, `CURSOR#<sender>` (`sender`, `fetched_through`?,
//!   `settled`, `rev`, `cleared_through`?), written here for fetches
//!   (`fetch_new.rs`), mark_read (`marking.rs`), deletes (`deleting.rs`)
//!   and delete_conversation (`conversation.rs`).
//!
//! A pair's new messages are those sent less those settled (returned as
//! new, or deleted while new), so both counters only grow and each has one
//! kind of writer. This file also keeps `pending_since` tidy after a fetch
//! or delete, outside their transactions.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use futures::future::join_all;
use serde::Deserialize;

use super::capacity::Counted;
use super::transaction::{back_off, Transaction, MAX_ATTEMPTS};
use super::{failed_condition, key, n, query_all, s, user_pk, Item, Store, StoreError};
use crate::model::{Identifier, Timestamp};

const SEND_SIDE: &str = "PAIR";
const READ_SIDE: &str = "CURSOR";

pub(super) fn pair_key(recipient: &Identifier, sender: &Identifier) -> Item {
    key(user_pk(recipient.as_str()), format!("{SEND_SIDE}#{sender}"))
}

fn cursor_key(recipient: &Identifier, sender: &Identifier) -> Item {
    key(user_pk(recipient.as_str()), format!("{READ_SIDE}#{sender}"))
}

#[derive(Debug, Deserialize)]
struct SendSide {
    sender: Identifier,
    last_message_at: Timestamp,
    sent: u64,
    #[serde(default)]
    pending_since: Option<Timestamp>,
}

/// Every field may be missing: delete_conversation can write the read
/// side of a pair no fetch has settled yet.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReadSide {
    fetched_through: Option<Timestamp>,
    settled: u64,
    rev: u64,
    cleared_through: Option<Timestamp>,
}

/// The state of one (recipient, sender) pair, from both its items.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    pub sender: Identifier,
    /// The newest message ever sent; sends commit in increasing order of it.
    pub last_message_at: Timestamp,
    /// Messages ever sent.
    pub sent: u64,
    /// The fetch cursor: every message at or before it has been returned by
    /// fetch_new_messages.
    pub fetched_through: Option<Timestamp>,
    /// Messages after the cursor that still exist.
    pub new_messages: u64,
    /// Present while the pair has new messages (and, until a fetch tidies
    /// it, a while after): no new message is older. The `by_pending` index
    /// sorts pairs by it, so a fetch picks senders without reading every
    /// pair.
    pub pending_since: Option<Timestamp>,
    /// Bumped by every fetch and every delete of a new message; both
    /// condition on it, so neither acts on a stale view of the other. 0
    /// until the first of them creates the read side.
    pub rev: u64,
    /// Set by delete_conversation: the recipient's conversation row stays
    /// hidden until a message newer than it arrives.
    pub cleared_through: Option<Timestamp>,
}

impl Pair {
    fn joined(sent: SendSide, read: ReadSide) -> Self {
        Self {
            sender: sent.sender,
            last_message_at: sent.last_message_at,
            sent: sent.sent,
            fetched_through: read.fetched_through,
            new_messages: sent.sent.saturating_sub(read.settled),
            pending_since: sent.pending_since,
            rev: read.rev,
            cleared_through: read.cleared_through,
        }
    }

    /// Whether the recipient's conversation list shows the pair.
    pub fn is_listed(&self) -> bool {
        self.cleared_through.is_none_or(|cleared| self.last_message_at > cleared)
    }

    pub(super) fn is_new(&self, timestamp: Timestamp) -> bool {
        self.fetched_through.is_none_or(|cursor| timestamp > cursor)
    }

    /// The transaction item that settles `count` of the pair's new messages
    /// (and moves the cursor to `through`, for a fetch), if no fetch or
    /// delete changed the read side since this view of it was read.
    pub(super) fn settle(
        &self,
        store: &Store,
        recipient: &Identifier,
        count: usize,
        through: Option<Timestamp>,
    ) -> Result<TransactWriteItem, StoreError> {
        let settle = "SET sender = :sender, settled = if_not_exists(settled, :zero) + :count, \
                      rev = if_not_exists(rev, :zero) + :one";
        let update = Update::builder()
            .table_name(&store.table)
            .set_key(Some(cursor_key(recipient, &self.sender)))
            .expression_attribute_values(":sender", s(self.sender.as_str()))
            .expression_attribute_values(":count", n(count))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1));
        let update = match through {
            Some(through) => update
                .update_expression(format!("{settle}, fetched_through = :through"))
                .expression_attribute_values(":through", s(through.to_string())),
            None => update.update_expression(settle),
        };
        let update = match self.rev {
            0 => update.condition_expression("attribute_not_exists(rev)"),
            rev => update.condition_expression("rev = :rev").expression_attribute_values(":rev", n(rev)),
        };
        Ok(TransactWriteItem::builder().update(update.build()?).build())
    }
}

/// Pairs from their items, send and read sides in any order. A pair has a
/// read side only once it was fetched or deleted from.
fn join(items: Vec<Item>) -> Result<Vec<Pair>, StoreError> {
    let mut send_sides: Vec<SendSide> = Vec::new();
    let mut read_sides: HashMap<String, ReadSide> = HashMap::new();
    for item in items {
        let sort_key = item.get("sk").and_then(|sk| sk.as_s().ok()).cloned().unwrap_or_default();
        match sort_key.split_once('#') {
            // A send side without messages only carries a block.
            Some((SEND_SIDE, _)) if !item.contains_key("last_message_at") => {}
            Some((SEND_SIDE, _)) => send_sides.push(serde_dynamo::from_item(item)?),
            Some((READ_SIDE, sender)) => {
                read_sides.insert(sender.to_owned(), serde_dynamo::from_item(item)?);
            }
            _ => return Err(StoreError::Corrupt(format!("not a pair item: {sort_key}"))),
        }
    }
    Ok(send_sides
        .into_iter()
        .map(|sent| {
            let read = read_sides.remove(sent.sender.as_str()).unwrap_or_default();
            Pair::joined(sent, read)
        })
        .collect())
}

impl Store {
    pub async fn pair(&self, recipient: &Identifier, sender: &Identifier) -> Result<Option<Pair>, StoreError> {
        Ok(self.pairs_of(recipient, std::slice::from_ref(sender)).await?.pop())
    }

    /// The pairs of `senders` in a mailbox that exist, in no particular order.
    pub(super) async fn pairs_of(
        &self,
        recipient: &Identifier,
        senders: &[Identifier],
    ) -> Result<Vec<Pair>, StoreError> {
        let keys = senders.iter().flat_map(|sender| [pair_key(recipient, sender), cursor_key(recipient, sender)]);
        join(self.batch_get_items(keys.collect(), None).await?)
    }

    /// The read horizons of `senders`' pairs in `recipient`'s mailbox: each
    /// pair's cursor, through which every message counts as read (fetched,
    /// or covered by mark_read). A pair never read from has none.
    pub async fn read_horizons(
        &self,
        recipient: &Identifier,
        senders: &[Identifier],
    ) -> Result<HashMap<Identifier, Timestamp>, StoreError> {
        #[derive(Deserialize)]
        struct Horizon {
            sender: Identifier,
            fetched_through: Option<Timestamp>,
        }
        let keys = senders.iter().map(|sender| cursor_key(recipient, sender)).collect();
        let horizons: Vec<Horizon> = self.batch_get(keys, Some("sender, fetched_through")).await?;
        Ok(horizons.into_iter().filter_map(|h| Some((h.sender, h.fetched_through?))).collect())
    }

    /// Every pair of a mailbox: one per sender who ever wrote to it.
    pub async fn pairs(&self, recipient: &Identifier) -> Result<Vec<Pair>, StoreError> {
        let (send_sides, read_sides) =
            futures::try_join!(self.pair_items(recipient, true), self.pair_items(recipient, false))?;
        join(send_sides.into_iter().chain(read_sides).collect())
    }

    /// The query of one side of every pair of a mailbox, the send side or
    /// the read side (public for the bench's bare calls).
    pub fn pair_sides(&self, recipient: &Identifier, send_side: bool) -> QueryFluentBuilder {
        let side = if send_side { SEND_SIDE } else { READ_SIDE };
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :side)")
            .expression_attribute_values(":pk", s(user_pk(recipient.as_str())))
            .expression_attribute_values(":side", s(format!("{side}#")))
            .consistent_read(true)
    }

    async fn pair_items(&self, recipient: &Identifier, send_side: bool) -> Result<Vec<Item>, StoreError> {
        query_all(self.pair_sides(recipient, send_side)).await
    }

    /// Hides the recipient's conversation row of `sender` until a message
    /// newer than `through` arrives; never moves the mark back. On the
    /// read side, which no send writes; as a transaction, so a fetch or
    /// delete in flight on it makes this wait its turn rather than fail.
    pub(super) async fn clear_conversation(
        &self,
        recipient: &Identifier,
        sender: &Identifier,
        through: Timestamp,
    ) -> Result<(), StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(cursor_key(recipient, sender)))
            .update_expression("SET sender = :sender, cleared_through = :through")
            .condition_expression("attribute_not_exists(cleared_through) OR cleared_through < :through")
            .expression_attribute_values(":sender", s(sender.as_str()))
            .expression_attribute_values(":through", s(through.to_string()))
            .build()?;
        let clear = vec![TransactWriteItem::builder().update(update).build()];
        for attempt in 0..MAX_ATTEMPTS {
            match self.transact(clear.clone()).await? {
                Transaction::Committed => return Ok(()),
                Transaction::Cancelled(reasons) if failed_condition(&reasons, 0) => return Ok(()),
                Transaction::Cancelled(_) => back_off(attempt).await,
            }
        }
        Err(StoreError::Contention)
    }

    /// Takes pairs whose last new messages were settled out of the pending
    /// index: `drained` holds each sender and the `sent` count it was read
    /// with, so a pair that a send has added to since keeps its place.
    /// Outside any transaction and best effort: a send's transaction in
    /// flight on the pair refuses it (and wins, so sends never fail for a
    /// fetch), and a pair left in the index only costs the next fetch that
    /// meets it a read, and that fetch tries again. A pair whose new messages
    /// were only partly fetched keeps its bound: lower than it could be, it
    /// is still true, and raising it would cost a write per sender per fetch.
    pub(super) async fn tidy_pending(&self, recipient: &Identifier, drained: Vec<(Identifier, u64)>) {
        let updates = drained.into_iter().map(|(sender, sent)| {
            let update = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(pair_key(recipient, &sender)))
                .update_expression("REMOVE pending_since")
                .condition_expression("sent = :sent")
                .expression_attribute_values(":sent", n(sent));
            async move {
                let Err(error) = update.counted().await else { return };
                if !error.is_failed_condition() {
                    tracing::info!(%error, "pair left in the pending index");
                }
            }
        });
        join_all(updates).await;
    }
}
