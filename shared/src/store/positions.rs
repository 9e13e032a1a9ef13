//! Positions in a mailbox without its texts, from the `by_time` index of
//! the message items: it carries each message's keys and sender only, so
//! skipping or counting positions for a slice costs about 100 bytes of
//! reads a message, not the message. Owns no items.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::types::Select;

use serde::Deserialize;

use super::capacity::Counted;
use super::{query_all, s, MailboxRange, Store, StoreError};
use crate::model::{Identifier, Timestamp};

const TIME_INDEX: &str = "by_time";

impl MailboxRange<'_> {
    /// The range on the `by_time` index. One sender's positions are picked
    /// by a filter, which reads the other senders' keys in the window, as
    /// any sender-filtered read by time would.
    fn positions_query(&self, store: &Store, newest_first: bool, at_most: usize) -> QueryFluentBuilder {
        // Every canonical timestamp starts with a digit: "0" is below all
        // of them and "~" above.
        let low = self.from.map_or_else(|| "0".to_owned(), |t| t.to_string());
        let high = self.to.map_or_else(|| "~".to_owned(), |t| t.to_string());
        let mut query = store
            .client
            .query()
            .table_name(&store.table)
            .index_name(TIME_INDEX)
            .key_condition_expression("pk = :pk AND #ts BETWEEN :low AND :high")
            .expression_attribute_names("#ts", "timestamp")
            .expression_attribute_values(":pk", s(self.pk()))
            .expression_attribute_values(":low", s(low))
            .expression_attribute_values(":high", s(high))
            .scan_index_forward(!newest_first)
            .limit(i32::try_from(at_most).unwrap_or(i32::MAX))
            .consistent_read(true);
        if let Some(sender) = self.sender {
            query =
                query.filter_expression("sender = :sender").expression_attribute_values(":sender", s(sender.as_str()));
        }
        query
    }
}

/// A message's place in a mailbox: who sent it, and when.
#[derive(Debug, Deserialize)]
pub(super) struct Position {
    pub(super) sender: Identifier,
    pub(super) timestamp: Timestamp,
}

impl Store {
    /// Every position of the range (of every sender: its `sender` is not
    /// applied), oldest first.
    pub(super) async fn positions_in(&self, range: MailboxRange<'_>) -> Result<Vec<Position>, StoreError> {
        let everyone = MailboxRange { sender: None, ..range };
        let query = everyone.positions_query(self, false, 1).set_limit(None).select(Select::AllProjectedAttributes);
        Ok(serde_dynamo::from_items(query_all(query).await?)?)
    }

    /// The timestamp of the `skip`-th message of the range (counting from
    /// the oldest, or the newest with `newest_first`), reading keys only;
    /// `None` when the range holds fewer.
    pub async fn skip_positions(
        &self,
        range: MailboxRange<'_>,
        newest_first: bool,
        skip: usize,
    ) -> Result<Option<Timestamp>, StoreError> {
        let mut last_skipped = None;
        // The projected attributes as they are: naming some would read them
        // from the table, at a table read's price.
        let select = Select::AllProjectedAttributes;
        self.page_positions(range, newest_first, select, skip, |page, before| {
            if let Some(item) = page.items().get(skip - before - 1) {
                last_skipped = Some(item.get("timestamp").and_then(|value| value.as_s().ok()).cloned());
            }
            page.items().len()
        })
        .await?;
        last_skipped
            .map(|stored| {
                stored
                    .and_then(|text| Timestamp::from_stored(&text))
                    .ok_or_else(|| StoreError::Corrupt("message without a timestamp".into()))
            })
            .transpose()
    }

    /// How many messages the range holds, counting no further than
    /// `at_most`; reads keys only.
    pub async fn count_positions(&self, range: MailboxRange<'_>, at_most: usize) -> Result<usize, StoreError> {
        let counted = self
            .page_positions(range, false, Select::Count, at_most, |page, _| usize::try_from(page.count).unwrap_or(0))
            .await?;
        Ok(counted.min(at_most))
    }

    /// Reads the range's positions a page at a time, each page asking for
    /// no more than the `wanted` positions still missing (so `Limit` bounds
    /// what is read), until `visit` has been given them all or the range
    /// ends. `visit` gets each page and how many positions came before it,
    /// and says how many the page gave; the total is returned.
    async fn page_positions(
        &self,
        range: MailboxRange<'_>,
        newest_first: bool,
        select: Select,
        wanted: usize,
        mut visit: impl FnMut(&QueryOutput, usize) -> usize,
    ) -> Result<usize, StoreError> {
        let mut given = 0;
        let mut start = None;
        while given < wanted && !range.is_empty() {
            let page = range
                .positions_query(self, newest_first, wanted - given)
                .select(select.clone())
                .set_exclusive_start_key(start)
                .counted()
                .await?;
            given += visit(&page, given);
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        Ok(given)
    }
}
