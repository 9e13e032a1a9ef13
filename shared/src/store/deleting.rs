//! Deleting messages (`USER#<recipient>`, `MSG#<timestamp>`). A deleted
//! message that was still new is settled on the pair's read side in the
//! same transaction (`pairs.rs`).

use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};

use super::pairs::Pair;
use super::sending::message_key;
use super::transaction::{back_off, Transaction, MAX_ATTEMPTS};
use super::{s, Store, StoreError, MAX_TRANSACTION_ITEMS};
use crate::model::{Identifier, Timestamp};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeleteOutcome {
    pub deleted: Vec<Timestamp>,
}

/// One transaction of a delete.
#[derive(Debug, PartialEq)]
struct DeleteRound {
    /// How many of the found messages it deletes, from the first.
    take: usize,
    /// How many of those are still new, for the pair's counter.
    still_new: usize,
    /// Whether they are the pair's last new messages, so the pair can leave
    /// the pending index.
    none_left: bool,
}

/// The next transaction of a delete. It holds 100 items: only 100 found
/// messages of which some are new need one more (the counter), and then
/// 99 go first and the rest in the next round.
fn plan_delete(found: &[Timestamp], pair: &Pair) -> DeleteRound {
    let needs_counter = found.iter().any(|t| pair.is_new(*t));
    let take = if needs_counter { found.len().min(MAX_TRANSACTION_ITEMS - 1) } else { found.len() };
    let still_new = found[..take].iter().filter(|t| pair.is_new(**t)).count();
    DeleteRound { take, still_new, none_left: still_new > 0 && pair.new_messages == still_new as u64 }
}

impl Store {
    /// Deletes the messages of `sender` to `recipient` at the given
    /// (distinct) timestamps and reports which existed. Messages still new
    /// leave the pair's counter in the same transaction, guarded by `rev`.
    pub async fn delete_messages(
        &self,
        recipient: &Identifier,
        sender: &Identifier,
        timestamps: &[Timestamp],
    ) -> Result<DeleteOutcome, StoreError> {
        let mut outcome = DeleteOutcome::default();
        for attempt in 0..MAX_ATTEMPTS {
            let Some(pair) = self.pair(recipient, sender).await? else {
                return Ok(outcome);
            };
            let found: Vec<Timestamp> = self
                .messages_at(recipient, timestamps)
                .await?
                .into_iter()
                .filter(|m| &m.sender == sender)
                .map(|m| m.timestamp)
                .collect();
            if found.is_empty() {
                return Ok(outcome);
            }
            let round = plan_delete(&found, &pair);
            let part = &found[..round.take];
            let mut items = Vec::with_capacity(part.len() + 1);
            for timestamp in part {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(message_key(recipient, *timestamp)))
                    .condition_expression("attribute_exists(pk) AND sender = :sender")
                    .expression_attribute_values(":sender", s(sender.as_str()))
                    .build()?;
                items.push(TransactWriteItem::builder().delete(delete).build());
            }
            if round.still_new > 0 {
                items.push(pair.settle(self, recipient, round.still_new, None)?);
            }
            match self.transact(items).await? {
                Transaction::Committed => {
                    outcome.deleted.extend_from_slice(part);
                    if round.none_left {
                        self.tidy_pending(recipient, vec![(sender.clone(), pair.sent)]).await;
                    }
                    if part.len() == found.len() {
                        return Ok(outcome);
                    }
                }
                Transaction::Cancelled(_) => back_off(attempt).await,
            }
        }
        Err(StoreError::Contention)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: u32) -> Timestamp {
        Timestamp::parse("t", &format!("2026-01-01T00:{:02}:{:02}Z", second / 60, second % 60)).expect("timestamp")
    }

    fn pair(fetched_through: Option<u32>, new_messages: u64) -> Pair {
        Pair {
            sender: Identifier::parse("s", "bob").expect("sender"),
            last_message_at: at(3000),
            sent: 200,
            fetched_through: fetched_through.map(at),
            new_messages,
            pending_since: None,
            rev: 7,
            cleared_through: None,
        }
    }

    fn round(take: usize, still_new: usize, none_left: bool) -> DeleteRound {
        DeleteRound { take, still_new, none_left }
    }

    #[test]
    fn a_delete_takes_what_one_transaction_holds_and_counts_the_new() {
        let ten: Vec<Timestamp> = (1..=10).map(at).collect();
        let hundred: Vec<Timestamp> = (1..=100).map(at).collect();
        // (case, found, pair, expected round)
        let cases = [
            ("all fetched: no counter", &ten, pair(Some(10), 0), round(10, 0, false)),
            ("some new, others remain", &ten, pair(Some(5), 8), round(10, 5, false)),
            ("the last new ones", &ten, pair(Some(5), 5), round(10, 5, true)),
            ("100 fetched fit", &hundred, pair(Some(100), 0), round(100, 0, false)),
            ("100 with new: 99 first", &hundred, pair(None, 100), round(99, 99, false)),
            ("100, new only at the end", &hundred, pair(Some(99), 1), round(99, 0, false)),
        ];
        for (case, found, pair, expected) in cases {
            assert_eq!(plan_delete(found, &pair), expected, "{case}");
        }
    }
}
