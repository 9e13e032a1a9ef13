//! The notifier: fed by the table's stream (only new message items pass
//! the event source mapping's filter), it pushes each message to every
//! connection of its recipient and forgets connections API Gateway says
//! are gone.
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

use super::Frame;
use crate::app::{aws_config, App};
use crate::model::{Identifier, Message};
use crate::store::Store;

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
        let app = App::from_env().await?;
        let management = aws_sdk_apigatewaymanagement::Client::new(&aws_config().await);
        Ok(Self::new(app.store, management))
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

/// One stream record's message, with the sequence number that reports it.
struct Pushed {
    sequence_number: String,
    message: Message,
}

/// The records' messages grouped by recipient, each group in stream order;
/// a record that is not a message is logged and left out.
fn by_recipient(records: Vec<EventRecord>) -> Vec<(Identifier, Vec<Pushed>)> {
    let mut groups: Vec<(Identifier, Vec<Pushed>)> = Vec::new();
    for record in records {
        let sequence_number = record.change.sequence_number.unwrap_or_default();
        let message: Message = match serde_dynamo::from_item(record.change.new_image) {
            Ok(message) => message,
            Err(error) => {
                tracing::warn!(sequence_number, error = %error, "passed over a stream record that is not a message");
                continue;
            }
        };
        let pushed = Pushed { sequence_number, message };
        match groups.iter_mut().find(|(recipient, _)| *recipient == pushed.message.recipient) {
            Some((_, messages)) => messages.push(pushed),
            None => groups.push((pushed.message.recipient.clone(), vec![pushed])),
        }
    }
    groups
}

pub async fn handle(notifier: &Notifier, event: Event) -> Result<DynamoDbEventResponse, Error> {
    let records = event.records.len();
    let failed: Vec<String> = futures::stream::iter(by_recipient(event.records))
        .map(|(recipient, messages)| notifier.push(recipient, messages))
        .buffer_unordered(CONCURRENT_RECIPIENTS)
        .flat_map(futures::stream::iter)
        .collect()
        .await;
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
    /// Pushes `recipient`'s messages, in order, to each of their
    /// connections; returns the sequence numbers worth sending again.
    async fn push(&self, recipient: Identifier, messages: Vec<Pushed>) -> Vec<String> {
        let mut connections = match self.store.connections(&recipient).await {
            Ok(connections) => connections,
            Err(error) => {
                tracing::warn!(error = %error, "could not look up connections; the records will be sent again");
                return messages.into_iter().map(|pushed| pushed.sequence_number).collect();
            }
        };
        let mut failed = Vec::new();
        for Pushed { sequence_number, message } in messages {
            if connections.is_empty() {
                break;
            }
            let frame = Frame::Message { message: &message }.to_json();
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
            self.forget(&recipient, &gone).await;
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

    fn record(sequence_number: &str, image: serde_json::Value) -> EventRecord {
        serde_json::from_value(serde_json::json!({
            "eventID": sequence_number,
            "eventName": "INSERT",
            "awsRegion": "us-east-1",
            "dynamodb": {"SequenceNumber": sequence_number, "NewImage": image, "SizeBytes": 1},
        }))
        .unwrap()
    }

    fn message_image(sender: &str, recipient: &str, timestamp: &str) -> serde_json::Value {
        serde_json::json!({
            "pk": {"S": format!("USER#{recipient}")}, "sk": {"S": format!("MSG#{timestamp}")},
            "sender": {"S": sender}, "recipient": {"S": recipient}, "timestamp": {"S": timestamp},
            "message": {"S": "hi"}, "sender_ts": {"S": format!("{sender}#{timestamp}")},
        })
    }

    #[test]
    fn records_group_by_recipient_in_stream_order_and_non_messages_are_passed_over() {
        let records = vec![
            record("1", message_image("ann", "bob", "2026-11-22T10:00:00.000001Z")),
            record("2", message_image("cid", "dee", "2026-11-22T10:00:00.000002Z")),
            record("3", serde_json::json!({"pk": {"S": "USER#bob"}, "sk": {"S": "MSG#x"}, "message": {"N": "1"}})),
            record("4", message_image("cid", "bob", "2026-11-22T10:00:00.000003Z")),
        ];
        let groups = by_recipient(records);
        let shape: Vec<(&str, Vec<&str>)> = groups
            .iter()
            .map(|(recipient, messages)| {
                (recipient.as_str(), messages.iter().map(|pushed| pushed.sequence_number.as_str()).collect())
            })
            .collect();
        assert_eq!(shape, [("bob", vec!["1", "4"]), ("dee", vec!["2"])]);
    }
}
