//! A stream record as the Streams API returns it, turned into the record
//! Lambda delivers to a function (`{"Records": [...]}`), so the notifier
//! reads locally what it reads on AWS.

use std::collections::HashMap;

use aws_lambda_events::dynamodb::{EventRecord, StreamRecord, StreamViewType};
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record};
use chrono::{DateTime, Utc};

/// `stream_arn`: the stream the record came from (Lambda's eventSourceARN).
pub fn lambda_record(record: &Record, stream_arn: &str) -> EventRecord {
    let mut event = EventRecord::default();
    event.event_id = record.event_id().unwrap_or_default().to_owned();
    event.event_name = record.event_name().map(|name| name.as_str().to_owned()).unwrap_or_default();
    event.event_version = record.event_version().map(str::to_owned);
    event.event_source = Some(record.event_source().unwrap_or("aws:dynamodb").to_owned());
    event.aws_region = record.aws_region().unwrap_or_default().to_owned();
    event.event_source_arn = Some(stream_arn.to_owned());
    let Some(change) = record.dynamodb() else { return event };
    let mut delivered = StreamRecord::default();
    delivered.approximate_creation_date_time = change
        .approximate_creation_date_time()
        .and_then(|time| DateTime::<Utc>::from_timestamp(time.secs(), time.subsec_nanos()))
        .unwrap_or_default();
    delivered.keys = item(change.keys());
    delivered.new_image = item(change.new_image());
    delivered.old_image = item(change.old_image());
    delivered.sequence_number = change.sequence_number().map(str::to_owned);
    delivered.size_bytes = change.size_bytes().unwrap_or_default();
    delivered.stream_view_type = change.stream_view_type().and_then(|view| view_type(view.as_str()));
    event.change = delivered;
    event
}

fn item(attributes: Option<&HashMap<String, AttributeValue>>) -> serde_dynamo::Item {
    attributes.cloned().unwrap_or_default().into()
}

fn view_type(name: &str) -> Option<StreamViewType> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

/// The record's position in its shard.
pub fn sequence_number(record: &EventRecord) -> &str {
    record.change.sequence_number.as_deref().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodbstreams::primitives::DateTime as SdkDateTime;
    use aws_sdk_dynamodbstreams::types::{OperationType, StreamRecord as SdkStreamRecord, StreamViewType as SdkView};
    use serde_json::json;

    use super::*;

    fn s(text: &str) -> AttributeValue {
        AttributeValue::S(text.to_owned())
    }

    #[test]
    fn records_read_as_lambda_delivers_them() {
        let keys = HashMap::from([("pk".to_owned(), s("USER#bob")), ("sk".to_owned(), s("MSG#1#alice"))]);
        let mut image = keys.clone();
        image.insert("timestamp".to_owned(), AttributeValue::N("1700000000123".to_owned()));
        let record = Record::builder()
            .event_id("e1")
            .event_name(OperationType::Insert)
            .event_version("1.1")
            .event_source("aws:dynamodb")
            .aws_region("ddblocal")
            .dynamodb(
                SdkStreamRecord::builder()
                    .approximate_creation_date_time(SdkDateTime::from_secs(1_700_000_000))
                    .set_keys(Some(keys))
                    .set_new_image(Some(image))
                    .sequence_number("000000000000000000042")
                    .size_bytes(87)
                    .stream_view_type(SdkView::NewImage)
                    .build(),
            )
            .build();
        let event = lambda_record(&record, "arn:stream");
        assert_eq!(sequence_number(&event), "000000000000000000042");
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["eventID"], "e1");
        assert_eq!(json["eventName"], "INSERT");
        assert_eq!(json["eventSource"], "aws:dynamodb");
        assert_eq!(json["eventSourceARN"], "arn:stream");
        assert_eq!(json["awsRegion"], "ddblocal");
        let change = &json["dynamodb"];
        assert_eq!(change["Keys"], json!({"pk": {"S": "USER#bob"}, "sk": {"S": "MSG#1#alice"}}));
        assert_eq!(change["NewImage"]["timestamp"], json!({"N": "1700000000123"}));
        assert_eq!(change["SequenceNumber"], "000000000000000000042");
        assert_eq!(change["SizeBytes"], 87);
        assert_eq!(change["StreamViewType"], "NEW_IMAGE");
        assert_eq!(change["ApproximateCreationDateTime"], 1_700_000_000.0);
    }
}
