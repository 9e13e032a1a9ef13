//! DynamoDB Local: the client, the table (built from `template.yaml`, so
//! local and deployed keys and indexes are the same) and demo data.

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, LocalSecondaryIndex, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;
use serde_yaml::Value;
use shared::auth::token_hash;
use shared::model::{Identifier, Timestamp};
use shared::store::{MailboxRange, Store, TokenRecord, UserRecord};
use shared::App;

use crate::template::table_properties;

/// A client for the endpoint in `AWS_ENDPOINT_URL_DYNAMODB`, with dummy
/// credentials when none are set.
pub async fn dynamodb_client() -> Client {
    client_at(None).await
}

/// A client for `endpoint` (or the environment's), with the functions'
/// own timeouts.
pub async fn client_at(endpoint: Option<&str>) -> Client {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(shared::app::dynamodb_timeouts());
    if std::env::var_os("AWS_REGION").is_none() {
        loader = loader.region("us-east-1");
    }
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        loader = loader.credentials_provider(aws_sdk_dynamodb::config::Credentials::for_tests());
    }
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    Client::new(&loader.load().await)
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

/// Creates the table as `template.yaml` defines it, unless it exists.
pub async fn create_table(client: &Client, name: &str) {
    if client.describe_table().table_name(name).send().await.is_ok() {
        return;
    }
    let properties = table_properties();
    assert_eq!(properties["BillingMode"], "PAY_PER_REQUEST");
    let attributes = properties["AttributeDefinitions"]
        .as_sequence()
        .expect("AttributeDefinitions is a list")
        .iter()
        .map(|attribute| {
            AttributeDefinition::builder()
                .attribute_name(attribute["AttributeName"].as_str().expect("AttributeName"))
                .attribute_type(ScalarAttributeType::from(attribute["AttributeType"].as_str().expect("type")))
                .build()
                .expect("complete attribute definition")
        })
        .collect();
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
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(key_schema(&properties["KeySchema"])))
        .set_local_secondary_indexes(indexes)
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

/// The demo users of `events/`: their logins, passwords and fixed tokens.
/// Local data only; a deployed stack has no such users.
pub const DEMO_USERS: [(&str, &str, &str); 2] =
    [("demo-alice", "demo-alice-password", "demo-token-alice"), ("demo-bob", "demo-bob-password", "demo-token-bob")];

/// Messages of the demo mailboxes: (sender, recipient, timestamp, text).
pub const DEMO_MESSAGES: [(&str, &str, &str, &str); 3] = [
    ("demo-bob", "demo-alice", "2026-01-01T09:00:00.000000Z", "Hi Alice, lunch at noon?"),
    ("demo-bob", "demo-alice", "2026-01-01T09:05:00.000000Z", "Or one o'clock, if that suits you better."),
    ("demo-alice", "demo-bob", "2026-01-01T09:10:00.000000Z", "Noon is fine."),
];

/// Writes the demo users, tokens and messages, unless they exist.
pub async fn seed_demo(store: &Store) {
    for (index, (login, password, token)) in DEMO_USERS.iter().enumerate() {
        let login = Identifier::parse("login", login).expect("demo login");
        let user = UserRecord {
            login: login.clone(),
            password_hash: Some(shared::auth::hash_password(password).expect("hash")),
        };
        let record = TokenRecord {
            hash: token_hash(token),
            login,
            expires_at: Timestamp::now().plus_seconds(10 * 365 * 24 * 3600),
        };
        let created = store.create_user(&user, &record).await.expect("create demo user");
        if !created && index == 0 {
            return;
        }
    }
    for (sender, recipient, at, text) in DEMO_MESSAGES {
        let sender = Identifier::parse("sender", sender).expect("demo sender");
        let recipient = Identifier::parse("recipient", recipient).expect("demo recipient");
        let at = Timestamp::parse("timestamp", at).expect("demo timestamp");
        store.import_message(&sender, &recipient, text, at).await.expect("seed demo message");
    }
}

/// Creates `table` (as `template.yaml` defines it) at the environment's
/// DynamoDB endpoint; with `seed`, writes the demo data too.
pub async fn prepare_table(table: &str, seed: bool) {
    let client = dynamodb_client().await;
    create_table(&client, table).await;
    if seed {
        seed_demo(&Store::new(client, table)).await;
    }
}

/// An App on a fresh table of its own, seeded with the demo data, for
/// calling handlers in-process.
pub async fn demo_app(label: &str) -> App {
    demo_app_via(label, None).await
}

/// Like [`demo_app`], but the App reaches DynamoDB through `endpoint` (a
/// fault proxy, say); the table is set up directly.
pub async fn demo_app_via(label: &str, endpoint: Option<&str>) -> App {
    let table = format!("{label}-{:08x}", rand::random::<u32>());
    prepare_table(&table, true).await;
    app_at(endpoint, &table).await
}

/// An App for `table` at `endpoint` (or the environment's), with the
/// default limits.
pub async fn app_at(endpoint: Option<&str>, table: &str) -> App {
    let config = shared::Config {
        table_name: table.to_owned(),
        max_message_chars: shared::app::DEFAULT_MAX_MESSAGE_CHARS,
        token_ttl_seconds: shared::app::DEFAULT_TOKEN_TTL_SECONDS,
    };
    App { store: Store::new(client_at(endpoint).await, table), config }
}

/// The invariants of PRODUCT.md section 3 for one mailbox: each pair's
/// counter equals the messages after its cursor, and no message is newer
/// than the pair's `last_message_at`.
pub async fn assert_mailbox_consistent(store: &Store, recipient: &Identifier) {
    for pair in store.pairs(recipient).await.expect("read pairs") {
        let after_cursor = MailboxRange {
            recipient,
            sender: Some(&pair.sender),
            from: pair.fetched_through.map(Timestamp::next),
            to: None,
        };
        let unfetched = store.read_mailbox(after_cursor, false, usize::MAX).await.expect("read messages");
        assert_eq!(unfetched.len() as u64, pair.new_messages, "{recipient} from {}: counter vs messages", pair.sender);
        // The pending index holds the pair exactly while it has new
        // messages, under a bound no newer than the oldest of them.
        match (unfetched.first(), pair.pending_since) {
            (None, None) => {}
            (Some(oldest), Some(since)) => assert!(since <= oldest.timestamp, "{recipient} from {}", pair.sender),
            (oldest, since) => {
                panic!("{recipient} from {}: oldest new {oldest:?}, pending since {since:?}", pair.sender)
            }
        }
        let all = MailboxRange { recipient, sender: Some(&pair.sender), from: None, to: None };
        let newest = store.read_mailbox(all, true, 1).await.expect("read newest");
        assert!(newest.iter().all(|m| m.timestamp <= pair.last_message_at), "{recipient} from {}", pair.sender);
    }
}

/// Every item of the table, as sorted JSON text: two snapshots are equal
/// exactly when the table did not change.
pub async fn table_snapshot(table: &str) -> Vec<String> {
    let client = dynamodb_client().await;
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan the table");
        for item in page.items.unwrap_or_default() {
            let value: serde_json::Value = serde_dynamo::from_item(item).expect("item as JSON");
            items.push(value.to_string());
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    items.sort();
    items
}

/// The table the local stack serves (`make test` sets TABLE_NAME).
pub fn stack_table() -> String {
    std::env::var("TABLE_NAME").expect("TABLE_NAME names the local stack's table (run through make test)")
}
