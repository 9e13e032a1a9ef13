//! The notifier: fed by the table's stream (only new message items and
//! writes of read states, pairs' and members', pass the event source
//! mapping's filter), it pushes each message to every connection of its
//! recipient (of a group message, to every member but its sender, after
//! noting it on their markers), and each moved read state to every
//! connection of the senders it read as a read receipt; it forgets
//! connections API Gateway says are gone.
//!
//! Delivery is at least once: a record that could not reach some
//! connection for a passing reason is reported as a batch item failure,
//! and Lambda sends it again (to every connection: clients tell messages
//! apart by sender and timestamp). A record that can never be delivered
//! (not a message at all) is logged and passed over, so it cannot hold up
//! the records behind it.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use aws_sdk_apigatewaymanagement::error::{DisplayErrorContext, SdkError};
use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use futures::future::join_all;
use futures::StreamExt;
use lambda_http::Error;
use serde::Deserialize;

use super::Frame;
use crate::app::{aws_config, App};
use crate::model::{GroupId, Identifier, Message, Timestamp};
use crate::store::{GroupMember, GroupReadMove, Store};

/// Recipients served at once within one batch; each one's messages go out
/// in stream order.
const CONCURRENT_RECIPIENTS: usize = 8;

pub struct Notifier {
    store: Store,
    management: aws_sdk_apigatewaymanagement::Client,
}

impl Notifier {
    pub fn new(store: Store, management: aws_sdk_apigatewaymanagement::Client) -> Self {
        Self { store, management }
    }

    /// The Management API client finds its endpoint (the WebSocket stage's
    /// address) in `AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI`, the SDK's
    /// standard variable, which the template sets.
    pub async fn from_env() -> Result<Self, Error> {
        let aws = aws_config().await;
        let app = App::with_aws(&aws)?;
        Ok(Self::new(app.store, aws_sdk_apigatewaymanagement::Client::new(&aws)))
    }
}

/// What became of one frame posted to one connection.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// The connection is closed (410 Gone): forget it.
    Gone,
    /// A passing failure (throttling, a server error, a timeout): the
    /// record is worth sending again.
    Retry(String),
    /// Sending it again cannot help (the frame is too large, the function
    /// may not post to this API): logged, not retried.
    Undeliverable(String),
}

impl Delivery {
    pub fn of(posted: Result<(), SdkError<PostToConnectionError>>) -> Self {
        let Err(error) = posted else {
            return Self::Delivered;
        };
        let why = DisplayErrorContext(&error).to_string();
        match error.as_service_error() {
            Some(PostToConnectionError::GoneException(_)) => Self::Gone,
            Some(PostToConnectionError::ForbiddenException(_) | PostToConnectionError::PayloadTooLargeException(_)) => {
                Self::Undeliverable(why)
            }
            _ => Self::Retry(why),
        }
    }
}

/// A frame for one user from one stream record, with the record's
/// sequence number (to report it for a retry).
struct Notice {
    sequence_number: String,
    frame: String,
}

#[derive(Deserialize)]
struct Keys {
    pk: String,
    sk: String,
}

/// A pair's read side, as the stream shows it before and after a write.
#[derive(Deserialize)]
struct Cursor {
    sender: Option<Identifier>,
    fetched_through: Option<Timestamp>,
}

/// Who a record concerns and the frames it makes: a new message, for its
/// recipient; a cursor that moved (a fetch or a mark_read), a read receipt
/// for the pair's sender. None for a write that tells no one anything (a
/// delete that settled a message without moving the cursor).
fn notices_of(record: EventRecord) -> Result<Vec<(Identifier, String)>, String> {
    let change = record.change;
    let keys: Keys = serde_dynamo::from_item(change.keys).map_err(|e| e.to_string())?;
    if keys.sk.starts_with("MSG#") {
        let message: Message = serde_dynamo::from_item(change.new_image).map_err(|e| e.to_string())?;
        return Ok(vec![(message.recipient.clone(), Frame::Message { message: &message }.to_json())]);
    }
    let by = reader(&keys)?;
    if !keys.sk.starts_with("CURSOR#") {
        return Err(format!("the filter admitted an item it should not: {}", keys.sk));
    }
    let after: Cursor = serde_dynamo::from_item(change.new_image).map_err(|e| e.to_string())?;
    let before: Cursor = serde_dynamo::from_item(change.old_image).map_err(|e| e.to_string())?;
    let Some(sender) = after.sender else {
        return Err("a cursor without its sender".into());
    };
    // A read side that no fetch or mark_read has moved yet: delete_conversation
    // can create one to clear the row.
    let Some(through) = after.fetched_through else {
        return Ok(Vec::new());
    };
    if before.fetched_through == Some(through) {
        return Ok(Vec::new());
    }
    Ok(vec![(sender, Frame::Read { by: &by, group: None, through }.to_json())])
}

/// Whose read state a record's item is (a pair's read side or a member's
/// in a group): the login of its partition.
fn reader(keys: &Keys) -> Result<Identifier, String> {
    let login = keys.pk.strip_prefix("USER#").ok_or("a read state outside a mailbox")?;
    Identifier::try_from(login.to_owned()).map_err(|e| e.to_string())
}

/// Whether a record is a member's read state in a group, which a fetch
/// moved (`Notifier::group_receipts`).
fn is_group_read_state(record: &EventRecord) -> bool {
    let keys = serde_dynamo::from_item::<_, Keys>(record.change.keys.clone());
    keys.is_ok_and(|keys| keys.pk.starts_with("USER#") && keys.sk.starts_with("GROUP#"))
}

/// A group message as the stream shows it.
#[derive(Deserialize)]
struct GroupMessage {
    sender: Identifier,
    group: GroupId,
    timestamp: Timestamp,
    message: String,
}

/// Whether a record is a new message of a group, which goes to its
/// members (`Notifier::fan_out`) rather than to one user.
fn is_group_message(record: &EventRecord) -> bool {
    let keys = serde_dynamo::from_item::<_, Keys>(record.change.keys.clone());
    keys.is_ok_and(|keys| keys.pk.starts_with("GROUP#") && keys.sk.starts_with("MSG#"))
}

/// The records' frames grouped by the user they are for, each group in
/// stream order; a record that makes no sense is logged and left out.
fn by_user(records: Vec<EventRecord>) -> Vec<(Identifier, Vec<Notice>)> {
    let mut groups: Vec<(Identifier, Vec<Notice>)> = Vec::new();
    for record in records {
        let sequence_number = record.change.sequence_number.clone().unwrap_or_default();
        let frames = match notices_of(record) {
            Ok(frames) => frames,
            Err(error) => {
                tracing::warn!(sequence_number, error, "passed over a stream record that notifies no one");
                continue;
            }
        };
        for (user, frame) in frames {
            let notice = Notice { sequence_number: sequence_number.clone(), frame };
            match groups.iter_mut().find(|(to, _)| *to == user) {
                Some((_, notices)) => notices.push(notice),
                None => groups.push((user, vec![notice])),
            }
        }
    }
    groups
}

/// The new messages of one group in a batch, in stream order, each with
/// its record's sequence number.
struct GroupBatch {
    group: GroupId,
    messages: Vec<(String, GroupMessage)>,
}

/// A batch's group messages by group, each group's in stream order; a
/// record that is not a message is logged and left out.
fn by_group(records: Vec<EventRecord>) -> Vec<GroupBatch> {
    let mut batches: Vec<GroupBatch> = Vec::new();
    for record in records {
        let sequence_number = record.change.sequence_number.clone().unwrap_or_default();
        let message: GroupMessage = match serde_dynamo::from_item(record.change.new_image) {
            Ok(message) => message,
            Err(error) => {
                tracing::warn!(sequence_number, %error, "passed over a group record that is not a message");
                continue;
            }
        };
        match batches.iter_mut().find(|batch| batch.group == message.group) {
            Some(batch) => batch.messages.push((sequence_number, message)),
            None => {
                batches.push(GroupBatch { group: message.group.clone(), messages: vec![(sequence_number, message)] })
            }
        }
    }
    batches
}

impl GroupBatch {
    /// What `member` is told of the batch: the span of the timestamps of
    /// the messages others sent (for their marker, a lower bound is safe),
    /// and those sent since their join, as shown to them (a message sent
    /// before is not theirs to see, though a member added in the middle of a
    /// batch is listed with it); `None` if all are their own.
    fn for_member(&self, member: &GroupMember) -> Option<(Vec<Notice>, Timestamp, Timestamp)> {
        let theirs: Vec<&(String, GroupMessage)> =
            self.messages.iter().filter(|(_, message)| message.sender != member.login).collect();
        let oldest = theirs.iter().map(|(_, message)| message.timestamp).min()?;
        let newest = theirs.iter().map(|(_, message)| message.timestamp).max()?;
        let since_join = theirs.into_iter().filter(|(_, message)| message.timestamp >= member.joined_at);
        let notices = since_join.map(|(sequence_number, message)| {
            let shown = Message {
                sender: message.sender.clone(),
                recipient: member.login.clone(),
                timestamp: message.timestamp,
                message: message.message.clone(),
                group: Some(self.group.clone()),
            };
            Notice { sequence_number: sequence_number.clone(), frame: Frame::Message { message: &shown }.to_json() }
        });
        Some((notices.collect(), oldest, newest))
    }
}

pub async fn handle(notifier: &Notifier, event: Event) -> Result<DynamoDbEventResponse, Error> {
    let records = event.records.len();
    let (group_messages, others): (Vec<EventRecord>, Vec<EventRecord>) =
        event.records.into_iter().partition(is_group_message);
    let (group_reads, direct): (Vec<EventRecord>, Vec<EventRecord>) = others.into_iter().partition(is_group_read_state);
    let mut failed: Vec<String> = futures::stream::iter(by_user(direct))
        .map(|(user, notices)| notifier.push(user, notices))
        .buffer_unordered(CONCURRENT_RECIPIENTS)
        .flat_map(futures::stream::iter)
        .collect()
        .await;
    let receipts = group_reads.into_iter().map(|record| notifier.group_receipts(record));
    let unsent: Vec<Option<String>> =
        futures::stream::iter(receipts).buffer_unordered(CONCURRENT_RECIPIENTS).collect().await;
    failed.extend(unsent.into_iter().flatten());
    for batch in by_group(group_messages) {
        failed.extend(notifier.fan_out(batch).await);
    }
    failed.sort();
    failed.dedup();
    tracing::info!(records, failed = failed.len(), "batch pushed");
    let mut response = DynamoDbEventResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|sequence_number| {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(sequence_number);
            failure
        })
        .collect();
    Ok(response)
}

impl Notifier {
    /// Tells each member of a group but the sender about the batch's new
    /// messages of the group: notes them on the member's marker, so their
    /// next fetch reads the group, and pushes them, in order, to their
    /// connections. Per member and batch, whatever the number of messages:
    /// one conditional write of a small item and one query of their
    /// connections. Returns the sequence numbers worth sending again.
    async fn fan_out(&self, batch: GroupBatch) -> Vec<String> {
        let every_record = || batch.messages.iter().map(|(sequence_number, _)| sequence_number.clone()).collect();
        let members = match self.store.member_records(&batch.group).await {
            Ok(members) => members,
            Err(error) => {
                tracing::warn!(%error, "could not look up a group's members; the records will be sent again");
                return every_record();
            }
        };
        let batch = &batch;
        let each = members.into_iter().filter_map(|member| {
            let (notices, oldest, newest) = batch.for_member(&member)?;
            Some(async move {
                let noted = self.store.note_group_messages(&member.login, &batch.group, oldest, newest).await;
                if let Err(error) = noted {
                    tracing::warn!(%error, "could not note group messages; the records will be sent again");
                    return notices.into_iter().map(|notice| notice.sequence_number).collect();
                }
                self.push(member.login, notices).await
            })
        });
        futures::stream::iter(each)
            .buffer_unordered(CONCURRENT_RECIPIENTS)
            .flat_map(futures::stream::iter)
            .collect()
            .await
    }

    /// Tells the senders a member's fetch in a group read (each still a
    /// member) with a read receipt: `Store::group_receipts` works out whom
    /// and through when from the record's old and new images. Returns the
    /// record's sequence number if it is worth sending again.
    async fn group_receipts(&self, record: EventRecord) -> Option<String> {
        let sequence_number = record.change.sequence_number.clone().unwrap_or_default();
        let read = serde_dynamo::from_item::<_, Keys>(record.change.keys).map_err(|e| e.to_string()).and_then(|keys| {
            let member = reader(&keys)?;
            GroupReadMove::from_images(member, record.change.old_image, record.change.new_image)
                .map_err(|e| e.to_string())
        });
        let read = match read {
            Ok(read) => read,
            Err(error) => {
                tracing::warn!(sequence_number, error, "passed over a read state that notifies no one");
                return None;
            }
        };
        let receipts = match self.store.group_receipts(&read).await {
            Ok(receipts) => receipts,
            Err(error) => {
                tracing::warn!(%error, "could not work out group receipts; the record will be sent again");
                return Some(sequence_number);
            }
        };
        let pushes = receipts.into_iter().map(|(sender, through)| {
            let frame = Frame::Read { by: read.member(), group: Some(read.group()), through }.to_json();
            self.push(sender, vec![Notice { sequence_number: sequence_number.clone(), frame }])
        });
        let failed: Vec<Vec<String>> = join_all(pushes).await;
        failed.into_iter().flatten().next()
    }

    /// Pushes `user`'s frames, in order, to each of their connections;
    /// returns the sequence numbers worth sending again.
    async fn push(&self, user: Identifier, notices: Vec<Notice>) -> Vec<String> {
        let mut connections = match self.store.connections(&user).await {
            Ok(connections) => connections,
            Err(error) => {
                tracing::warn!(error = %error, "could not look up connections; the records will be sent again");
                return notices.into_iter().map(|notice| notice.sequence_number).collect();
            }
        };
        let mut failed = Vec::new();
        for Notice { sequence_number, frame } in notices {
            if connections.is_empty() {
                break;
            }
            let posts = connections.iter().map(|id| self.post(id, &frame));
            let deliveries = join_all(posts).await;
            let mut gone = Vec::new();
            let mut retry = false;
            for (id, delivery) in connections.iter().zip(deliveries) {
                match delivery {
                    Delivery::Delivered => {}
                    Delivery::Gone => gone.push(id.clone()),
                    Delivery::Retry(why) => {
                        tracing::warn!(connection = id, error = why, "push failed; the record will be sent again");
                        retry = true;
                    }
                    Delivery::Undeliverable(why) => tracing::warn!(connection = id, error = why, "push refused"),
                }
            }
            if retry {
                failed.push(sequence_number);
            }
            self.forget(&user, &gone).await;
            connections.retain(|id| !gone.contains(id));
        }
        failed
    }

    async fn post(&self, connection: &str, frame: &str) -> Delivery {
        let posted = self
            .management
            .post_to_connection()
            .connection_id(connection)
            .data(Blob::new(frame.as_bytes()))
            .send()
            .await;
        Delivery::of(posted.map(|_| ()))
    }

    /// Forgets the connections that answered 410 Gone, each awaited: a
    /// delete that never ran would leave them to be posted to again. One
    /// that fails is left to the next push (another 410) or its TTL.
    async fn forget(&self, recipient: &Identifier, gone: &[String]) {
        for id in gone {
            match self.store.forget_connection(recipient, id).await {
                Ok(()) => tracing::info!(connection = id, "forgot a closed connection"),
                Err(error) => tracing::warn!(connection = id, error = %error, "could not forget a closed connection"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_apigatewaymanagement::types::error::{GoneException, LimitExceededException, PayloadTooLargeException};
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;

    use super::*;

    fn refused(error: PostToConnectionError, status: u16) -> SdkError<PostToConnectionError> {
        let raw = Response::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        SdkError::service_error(error, raw)
    }

    #[test]
    fn gone_connections_are_forgotten_and_only_passing_failures_retried() {
        assert_eq!(Delivery::of(Ok(())), Delivery::Delivered);
        let gone = PostToConnectionError::GoneException(GoneException::builder().build());
        assert_eq!(Delivery::of(Err(refused(gone, 410))), Delivery::Gone);
        let throttled = PostToConnectionError::LimitExceededException(LimitExceededException::builder().build());
        assert!(matches!(Delivery::of(Err(refused(throttled, 429))), Delivery::Retry(_)));
        assert!(matches!(Delivery::of(Err(SdkError::timeout_error("timed out"))), Delivery::Retry(_)));
        let too_large = PostToConnectionError::PayloadTooLargeException(PayloadTooLargeException::builder().build());
        assert!(matches!(Delivery::of(Err(refused(too_large, 413))), Delivery::Undeliverable(_)));
    }

    /// A stream record of the item `after` (`before` it was written; null
    /// for a new item), keyed by its `pk` and `sk`.
    fn record(sequence_number: &str, before: serde_json::Value, after: serde_json::Value) -> EventRecord {
        let keys = serde_json::json!({"pk": after["pk"], "sk": after["sk"]});
        serde_json::from_value(serde_json::json!({
            "eventID": sequence_number,
            "eventName": if before.is_null() { "INSERT" } else { "MODIFY" },
            "awsRegion": "us-east-1",
            "dynamodb": {
                "SequenceNumber": sequence_number, "Keys": keys, "SizeBytes": 1,
                "NewImage": after, "OldImage": if before.is_null() { serde_json::json!({}) } else { before },
            },
        }))
        .unwrap()
    }

    fn message(sender: &str, recipient: &str, timestamp: &str) -> serde_json::Value {
        serde_json::json!({
            "pk": {"S": format!("USER#{recipient}")}, "sk": {"S": format!("MSG#{timestamp}")},
            "sender": {"S": sender}, "recipient": {"S": recipient}, "timestamp": {"S": timestamp},
            "message": {"S": "hi"}, "sender_ts": {"S": format!("{sender}#{timestamp}")},
        })
    }

    fn cursor(sender: &str, recipient: &str, through: Option<&str>, settled: u64) -> serde_json::Value {
        let mut cursor = serde_json::json!({
            "pk": {"S": format!("USER#{recipient}")}, "sk": {"S": format!("CURSOR#{sender}")},
            "sender": {"S": sender}, "settled": {"N": settled.to_string()}, "rev": {"N": settled.to_string()},
        });
        if let Some(through) = through {
            cursor["fetched_through"] = serde_json::json!({"S": through});
        }
        cursor
    }

    /// Each group's user, and its frames' sequence numbers and types.
    fn shape(groups: &[(Identifier, Vec<Notice>)]) -> Vec<(&str, Vec<(&str, String)>)> {
        groups
            .iter()
            .map(|(user, notices)| {
                let frames = notices.iter().map(|notice| {
                    let frame: serde_json::Value = serde_json::from_str(&notice.frame).unwrap();
                    (notice.sequence_number.as_str(), frame["type"].as_str().unwrap().to_owned())
                });
                (user.as_str(), frames.collect())
            })
            .collect()
    }

    #[test]
    fn messages_go_to_their_recipient_in_stream_order_and_nonsense_is_passed_over() {
        let null = serde_json::Value::Null;
        let records = vec![
            record("1", null.clone(), message("ann", "bob", "2026-11-22T10:00:00.000001Z")),
            record("2", null.clone(), message("cid", "dee", "2026-11-22T10:00:00.000002Z")),
            record(
                "3",
                null.clone(),
                serde_json::json!({"pk": {"S": "USER#bob"}, "sk": {"S": "MSG#x"}, "message": {"N": "1"}}),
            ),
            record("4", null.clone(), message("cid", "bob", "2026-11-22T10:00:00.000003Z")),
        ];
        let message = || "message".to_owned();
        assert_eq!(
            shape(&by_user(records)),
            [("bob", vec![("1", message()), ("4", message())]), ("dee", vec![("2", message())])]
        );
    }

    #[test]
    fn a_moved_cursor_is_a_read_receipt_for_the_sender_and_a_settled_delete_is_nothing() {
        let (t1, t2) = ("2026-11-22T10:00:00.000001Z", "2026-11-22T10:00:00.000002Z");
        let records = vec![
            // The first fetch creates the read side.
            record("1", serde_json::Value::Null, cursor("ann", "bob", Some(t1), 1)),
            // A delete of a new message settles it without moving the cursor.
            record("2", cursor("ann", "bob", Some(t1), 1), cursor("ann", "bob", Some(t1), 2)),
            // A mark_read moves it on.
            record("3", cursor("ann", "bob", Some(t1), 2), cursor("ann", "bob", Some(t2), 3)),
        ];
        let groups = by_user(records);
        assert_eq!(shape(&groups), [("ann", vec![("1", "read".to_owned()), ("3", "read".to_owned())])]);
        let receipt: serde_json::Value = serde_json::from_str(&groups[0].1[1].frame).unwrap();
        assert_eq!(receipt, serde_json::json!({"type": "read", "by": "bob", "through": t2}));
        // delete_conversation can clear a row before any fetch: a read side
        // without a cursor, which tells no one anything and is no error.
        let cleared = record("4", serde_json::Value::Null, cursor("cid", "bob", None, 0));
        assert_eq!(notices_of(cleared), Ok(Vec::new()));
    }

    #[test]
    fn a_batchs_group_messages_go_to_each_member_but_their_sender_as_one_note_and_their_frames_in_order() {
        let (one, two) = ("0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210");
        let group_message = |group: &str, sender: &str, timestamp: &str| {
            serde_json::json!({
                "pk": {"S": format!("GROUP#{group}")}, "sk": {"S": format!("MSG#{timestamp}")},
                "sender": {"S": sender}, "group": {"S": group}, "timestamp": {"S": timestamp},
                "message": {"S": format!("{sender} at {timestamp}")}, "sender_ts": {"S": format!("{sender}#{timestamp}")},
            })
        };
        let (t1, t2, t3) =
            ("2026-11-22T10:00:00.000001Z", "2026-11-22T10:00:00.000002Z", "2026-11-22T10:00:00.000003Z");
        let null = serde_json::Value::Null;
        let records = vec![
            record("1", null.clone(), group_message(one, "ann", t1)),
            record("2", null.clone(), group_message(two, "ann", t2)),
            record("3", null.clone(), serde_json::json!({"pk": {"S": format!("GROUP#{one}")}, "sk": {"S": "MSG#x"}})),
            record("4", null.clone(), group_message(one, "bob", t3)),
        ];
        let batches = by_group(records);
        assert_eq!(batches.iter().map(|b| b.group.as_str()).collect::<Vec<_>>(), [one, two]);
        let member = |login: &str, joined_at: &str| GroupMember {
            login: Identifier::try_from(login.to_owned()).unwrap(),
            joined_at: Timestamp::parse("joined_at", joined_at).unwrap(),
        };
        let told_since = |login: &str, joined_at: &str| {
            batches[0].for_member(&member(login, joined_at)).map(|(notices, oldest, newest)| {
                let frames = notices.iter().map(|n| {
                    let frame: serde_json::Value = serde_json::from_str(&n.frame).unwrap();
                    (n.sequence_number.clone(), frame["message"]["message"].as_str().unwrap().to_owned())
                });
                (frames.collect::<Vec<_>>(), oldest.to_string(), newest.to_string())
            })
        };
        let told = |login: &str| told_since(login, "2026-11-22T09:00:00Z");
        let frame = |sequence_number: &str, text: String| (sequence_number.to_owned(), text);
        assert_eq!(
            told("cid"),
            Some((vec![frame("1", format!("ann at {t1}")), frame("4", format!("bob at {t3}"))], t1.into(), t3.into()))
        );
        assert_eq!(told("ann"), Some((vec![frame("4", format!("bob at {t3}"))], t3.into(), t3.into())));
        // Added between the two: noted from the first, shown the second only.
        let added = told_since("dee", t2);
        assert_eq!(added, Some((vec![frame("4", format!("bob at {t3}"))], t1.into(), t3.into())));
        assert_eq!(batches[1].for_member(&member("ann", t1)).map(|_| ()), None);
    }
}
