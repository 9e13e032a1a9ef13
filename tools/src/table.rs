//! The table of `template.yaml`, created in DynamoDB Local so that local
//! and deployed keys and indexes are the same.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, LocalSecondaryIndex, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;
use serde_yaml::Value;
use shared::store::Store;

use crate::demo::seed_demo;
use crate::stack::dynamodb_client;
use crate::template::table_properties;

/// Creating a table with its indexes takes DynamoDB Local seconds under load.
fn table_creation_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .operation_attempt_timeout(Duration::from_secs(30))
        .operation_timeout(Duration::from_secs(30))
        .build()
}

fn key_schema(value: &Value) -> Vec<KeySchemaElement> {
    value
        .as_sequence()
        .expect("KeySchema is a list")
        .iter()
        .map(|element| {
            KeySchemaElement::builder()
                .attribute_name(element["AttributeName"].as_str().expect("AttributeName"))
                .key_type(KeyType::from(element["KeyType"].as_str().expect("KeyType")))
                .build()
                .expect("complete key schema element")
        })
        .collect()
}

/// Who a table is for. Only the local stack's has the template's stream,
/// which the WebSocket bridge reads: nothing reads an in-process test's,
/// and DynamoDB Local keeps a stream record of every write to a table
/// with one, which slows the suites that load it hard.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TableFor {
    Stack,
    InProcess,
}

/// Creates the table as `template.yaml` defines it, unless it exists.
pub async fn create_table(client: &Client, name: &str, table_for: TableFor) {
    if client.describe_table().table_name(name).send().await.is_ok() {
        return;
    }
    let properties = table_properties();
    assert_eq!(properties["BillingMode"], "PAY_PER_REQUEST");
    let mut attributes = Vec::new();
    for attribute in properties["AttributeDefinitions"].as_sequence().expect("AttributeDefinitions is a list") {
        let name = attribute["AttributeName"].as_str().expect("AttributeName");
        let kind = ScalarAttributeType::from(attribute["AttributeType"].as_str().expect("AttributeType"));
        let definition = AttributeDefinition::builder().attribute_name(name).attribute_type(kind).build();
        attributes.push(definition.expect("complete attribute definition"));
    }
    let indexes = properties["LocalSecondaryIndexes"].as_sequence().map(|indexes| {
        indexes
            .iter()
            .map(|index| {
                LocalSecondaryIndex::builder()
                    .index_name(index["IndexName"].as_str().expect("IndexName"))
                    .set_key_schema(Some(key_schema(&index["KeySchema"])))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::from(
                                index["Projection"]["ProjectionType"].as_str().expect("ProjectionType"),
                            ))
                            .set_non_key_attributes(index["Projection"]["NonKeyAttributes"].as_sequence().map(
                                |names| {
                                    names.iter().map(|name| name.as_str().expect("attribute name").to_owned()).collect()
                                },
                            ))
                            .build(),
                    )
                    .build()
                    .expect("complete index")
            })
            .collect()
    });
    // The notifier's stream (read locally by the WebSocket bridge). In the
    // template a StreamViewType alone enables it; the API wants both.
    let stream = properties["StreamSpecification"]["StreamViewType"].as_str().filter(|_| table_for == TableFor::Stack);
    let stream = stream.map(|view| {
        StreamSpecification::builder()
            .stream_enabled(true)
            .stream_view_type(StreamViewType::from(view))
            .build()
            .expect("complete stream specification")
    });
    client
        .create_table()
        .table_name(name)
        .set_stream_specification(stream)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(key_schema(&properties["KeySchema"])))
        .set_local_secondary_indexes(indexes)
        // On a busy machine DynamoDB Local can take longer than a function's
        // timeout to create a table with its indexes, and a retry would then
        // find the table the first attempt made.
        .customize()
        .config_override(aws_sdk_dynamodb::config::Builder::default().timeout_config(table_creation_timeouts()))
        .send()
        .await
        .unwrap_or_else(|error| panic!("cannot create table {name}: {error:?}"));
    if let Some(ttl) = properties["TimeToLiveSpecification"]["AttributeName"].as_str() {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder().attribute_name(ttl).enabled(true).build().expect("ttl spec"),
            )
            .send()
            .await
            .expect("enable TTL");
    }
}

/// Creates `table` (as `template.yaml` defines it) at the environment's
/// DynamoDB endpoint; with `seed`, writes the demo data too.
pub async fn prepare_table(table: &str, seed: bool, table_for: TableFor) {
    let client = dynamodb_client().await;
    create_table(&client, table, table_for).await;
    if seed {
        seed_demo(&Store::new(client, table)).await;
    }
}
