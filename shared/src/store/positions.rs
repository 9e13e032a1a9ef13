//! Positions in a mailbox without its texts: the `by_time` index carries
//! each message's keys and sender only, so skipping or counting positions
//! for a slice costs about 100 bytes of reads a message, not the message.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{ReturnConsumedCapacity, Select};

use super::{capacity, s, user_pk, MailboxRange, Store, StoreError};
use crate::model::Timestamp;

const TIME_INDEX: &str = "by_time";

impl MailboxRange<'_> {
    /// The range on the `by_time` index. One sender's positions are picked
    /// by a filter, which reads the other senders' keys in the window: the
    /// cost PRODUCT.md allows a sender-filtered read.
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
            .expression_attribute_values(":pk", s(user_pk(self.recipient.as_str())))
            .expression_attribute_values(":low", s(low))
            .expression_attribute_values(":high", s(high))
            .scan_index_forward(!newest_first)
            .limit(i32::try_from(at_most).unwrap_or(i32::MAX))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        if let Some(sender) = self.sender {
            query =
                query.filter_expression("sender = :sender").expression_attribute_values(":sender", s(sender.as_str()));
        }
        query
    }
}

impl Store {
    /// The timestamp of the `skip`-th message of the range (counting from
    /// the oldest, or the newest with `newest_first`), reading keys only;
    /// `None` when the range holds fewer.
    pub async fn skip_positions(
        &self,
        range: MailboxRange<'_>,
        newest_first: bool,
        skip: usize,
    ) -> Result<Option<Timestamp>, StoreError> {
        let mut skipped = 0;
        let mut start = None;
        while skipped < skip && !range.is_empty() {
            // The projected attributes as they are: naming some would read
            // them from the table, at a table read's price.
            let page = range
                .positions_query(self, newest_first, skip - skipped)
                .select(Select::AllProjectedAttributes)
                .set_exclusive_start_key(start)
                .send()
                .await?;
            capacity::read(page.consumed_capacity());
            for item in page.items() {
                skipped += 1;
                if skipped == skip {
                    let stored = item.get("timestamp").and_then(|value| value.as_s().ok());
                    return stored
                        .and_then(|text| Timestamp::from_stored(text))
                        .map(Some)
                        .ok_or_else(|| StoreError::Corrupt("message without a timestamp".into()));
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        Ok(None)
    }

    /// How many messages the range holds, counting no further than
    /// `at_most`; reads keys only.
    pub async fn count_positions(&self, range: MailboxRange<'_>, at_most: usize) -> Result<usize, StoreError> {
        let mut count = 0;
        let mut start = None;
        while count < at_most && !range.is_empty() {
            let page = range
                .positions_query(self, false, at_most - count)
                .select(Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await?;
            capacity::read(page.consumed_capacity());
            count += usize::try_from(page.count).unwrap_or(0);
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        Ok(count.min(at_most))
    }
}
