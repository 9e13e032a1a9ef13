//! Reading messages (`USER#<recipient>`, `MSG#<timestamp>`, written by
//! `sending.rs`): stretches of a mailbox by time, optionally of one sender
//! through the `by_sender` index, and messages by key. Owns no items.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::KeysAndAttributes;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::capacity::Counted;
use super::groups::group_pk;
use super::transaction::{back_off, MAX_ATTEMPTS};
use super::{key, s, user_pk, Item, Store, StoreError};
use crate::model::{GroupId, Identifier, Message, Timestamp};
use crate::reply::entry_bytes;

const SENDER_INDEX: &str = "by_sender";
/// DynamoDB's cap on the keys of one BatchGetItem call.
const MAX_BATCH_GET_KEYS: usize = 100;
/// `timestamp` is a DynamoDB reserved word, hence the placeholder.
const MESSAGE_PROJECTION: &str = "sender, recipient, #ts, message";

/// A time-ordered stretch of one mailbox, optionally of one sender only;
/// both ends inclusive. With `group`, the mailbox is the group's, as its
/// member `recipient` reads it.
#[derive(Debug, Clone, Copy)]
pub struct MailboxRange<'a> {
    pub recipient: &'a Identifier,
    pub group: Option<&'a GroupId>,
    pub sender: Option<&'a Identifier>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

/// A message as a range reads it: a group message has no `recipient` of
/// its own; the member reading it is its recipient.
#[derive(Deserialize)]
struct StoredMessage {
    sender: Identifier,
    recipient: Option<Identifier>,
    timestamp: Timestamp,
    message: String,
}

/// A page of a range's messages, and where the rest of the range starts
/// (`None` when the page is its last).
pub(super) struct MessagePage {
    pub(super) messages: Vec<Message>,
    pub(super) rest: Option<Item>,
}

impl MailboxRange<'_> {
    /// The partition the range reads: the recipient's or the group's.
    pub(super) fn pk(&self) -> String {
        self.group.map_or_else(|| user_pk(self.recipient.as_str()), group_pk)
    }

    /// A message read from the range, as its reader is shown it.
    fn shown(&self, stored: StoredMessage) -> Message {
        Message {
            sender: stored.sender,
            recipient: stored.recipient.unwrap_or_else(|| self.recipient.clone()),
            timestamp: stored.timestamp,
            message: stored.message,
            group: self.group.cloned(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        matches!((self.from, self.to), (Some(from), Some(to)) if from > to)
    }

    /// The key condition of the range: on the table's sort key for the whole
    /// mailbox, on the `by_sender` index for one sender. Never a filter, so
    /// a query's `Limit` counts exactly the messages in the range.
    pub fn query(&self, store: &Store) -> QueryFluentBuilder {
        let (sort_attribute, prefix) = match self.sender {
            Some(sender) => ("sender_ts", format!("{sender}#")),
            None => ("sk", "MSG#".to_owned()),
        };
        let low = format!("{prefix}{}", self.from.map(|t| t.to_string()).unwrap_or_default());
        // `~` sorts after every digit, so it bounds any timestamp from above.
        let high = format!("{prefix}{}", self.to.map_or_else(|| "~".to_owned(), |t| t.to_string()));
        let query = store
            .client
            .query()
            .table_name(&store.table)
            .key_condition_expression("pk = :pk AND #sort BETWEEN :low AND :high")
            .expression_attribute_names("#sort", sort_attribute)
            .expression_attribute_values(":pk", s(self.pk()))
            .expression_attribute_values(":low", s(low))
            .expression_attribute_values(":high", s(high));
        match self.sender {
            Some(_) => query.index_name(SENDER_INDEX),
            None => query,
        }
    }
}

impl Store {
    /// Up to `max` messages of the range, oldest first unless
    /// `newest_first`; strongly consistent. Stops reading once the messages
    /// read pass `max_bytes` (a reply's worth, `MAX_REPLY_BYTES`, for a
    /// page of long messages), so reading `max` long messages does not cost
    /// `max` messages' reads. Reads page by page, each page asking only for
    /// what is still wanted, so `Limit` bounds what is read (the SDK's
    /// paginator would ask every page for the first page's limit).
    pub async fn read_mailbox(
        &self,
        range: MailboxRange<'_>,
        newest_first: bool,
        max: usize,
        max_bytes: usize,
    ) -> Result<Vec<Message>, StoreError> {
        let mut messages = Vec::new();
        let mut bytes = 0;
        if max == 0 {
            return Ok(messages);
        }
        let mut start = None;
        loop {
            let page = self.read_page(range, newest_first, max - messages.len(), start).await?;
            bytes += page.messages.iter().map(entry_bytes).sum::<usize>();
            messages.extend(page.messages);
            start = page.rest;
            if start.is_none() || messages.len() >= max || bytes > max_bytes {
                return Ok(messages);
            }
        }
    }

    /// One page of the range: up to `limit` messages from where the page
    /// before ended (`start`, its `rest`); strongly consistent. An empty
    /// range reads nothing (DynamoDB refuses a `BETWEEN` whose ends cross).
    pub(super) async fn read_page(
        &self,
        range: MailboxRange<'_>,
        newest_first: bool,
        limit: usize,
        start: Option<Item>,
    ) -> Result<MessagePage, StoreError> {
        if range.is_empty() {
            return Ok(MessagePage { messages: Vec::new(), rest: None });
        }
        let page = range
            .query(self)
            .scan_index_forward(!newest_first)
            .projection_expression(MESSAGE_PROJECTION)
            .expression_attribute_names("#ts", "timestamp")
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .counted()
            .await?;
        let stored: Vec<StoredMessage> = serde_dynamo::from_items(page.items.unwrap_or_default())?;
        let messages = stored.into_iter().map(|stored| range.shown(stored)).collect();
        Ok(MessagePage { messages, rest: page.last_evaluated_key })
    }

    /// The timestamps of the oldest `max` messages in the range, oldest
    /// first; strongly consistent.
    pub(super) async fn timestamps_in(
        &self,
        range: MailboxRange<'_>,
        max: usize,
    ) -> Result<Vec<Timestamp>, StoreError> {
        #[derive(serde::Deserialize)]
        struct Stamp {
            timestamp: Timestamp,
        }
        let mut timestamps = Vec::new();
        if range.is_empty() || max == 0 {
            return Ok(timestamps);
        }
        let mut start = None;
        loop {
            let remaining = max - timestamps.len();
            let page = range
                .query(self)
                .projection_expression("#ts")
                .limit(i32::try_from(remaining).unwrap_or(i32::MAX))
                .expression_attribute_names("#ts", "timestamp")
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .counted()
                .await?;
            let stamps: Vec<Stamp> = serde_dynamo::from_items(page.items.unwrap_or_default())?;
            timestamps.extend(stamps.into_iter().map(|stamp| stamp.timestamp));
            start = page.last_evaluated_key;
            if start.is_none() || timestamps.len() >= max {
                return Ok(timestamps);
            }
        }
    }

    /// Messages of a mailbox by timestamp, oldest first; missing ones
    /// (deleted since) are left out.
    pub async fn messages_at(
        &self,
        recipient: &Identifier,
        timestamps: &[Timestamp],
    ) -> Result<Vec<Message>, StoreError> {
        let mailbox = MailboxRange { recipient, group: None, sender: None, from: None, to: None };
        self.messages_in(mailbox, timestamps).await
    }

    /// Messages of the range's mailbox (a recipient's or a group's) by
    /// timestamp, as its reader is shown them, oldest first; missing ones
    /// are left out. The range's sender and ends are not applied.
    pub(super) async fn messages_in(
        &self,
        mailbox: MailboxRange<'_>,
        timestamps: &[Timestamp],
    ) -> Result<Vec<Message>, StoreError> {
        let keys: Vec<Item> = timestamps.iter().map(|t| key(mailbox.pk(), format!("MSG#{t}"))).collect();
        let stored: Vec<StoredMessage> = self.batch_get(keys, Some(MESSAGE_PROJECTION)).await?;
        let mut messages: Vec<Message> = stored.into_iter().map(|stored| mailbox.shown(stored)).collect();
        messages.sort_by_key(|m| m.timestamp);
        Ok(messages)
    }

    /// The items at `keys` that exist, in no particular order; strongly
    /// consistent, 100 keys a call, unprocessed keys sent again.
    pub(super) async fn batch_get<T: DeserializeOwned>(
        &self,
        keys: Vec<Item>,
        projection: Option<&str>,
    ) -> Result<Vec<T>, StoreError> {
        Ok(serde_dynamo::from_items(self.batch_get_items(keys, projection).await?)?)
    }

    /// Like [`Store::batch_get`], the items as they are.
    pub(super) async fn batch_get_items(
        &self,
        keys: Vec<Item>,
        projection: Option<&str>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(MAX_BATCH_GET_KEYS) {
            found.extend(self.batch_get_chunk(chunk.to_vec(), projection).await?);
        }
        Ok(found)
    }

    async fn batch_get_chunk(&self, keys: Vec<Item>, projection: Option<&str>) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        let mut keys = KeysAndAttributes::builder().set_keys(Some(keys)).consistent_read(true);
        if let Some(projection) = projection {
            keys = keys.projection_expression(projection);
            // DynamoDB refuses a name placeholder that the projection does not use.
            if projection.contains("#ts") {
                keys = keys.expression_attribute_names("#ts", "timestamp");
            }
        }
        let mut request = Some(keys.build()?);
        let mut attempt = 0;
        while let Some(keys) = request.take() {
            let reply = self.client.batch_get_item().request_items(&self.table, keys).counted().await?;
            found.extend(reply.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default());
            request = reply.unprocessed_keys.and_then(|mut u| u.remove(&self.table));
            if request.is_some() {
                attempt += 1;
                if attempt >= MAX_ATTEMPTS {
                    return Err(StoreError::Contention);
                }
                back_off(attempt).await;
            }
        }
        Ok(found)
    }
}
