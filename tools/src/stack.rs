//! The local stack's DynamoDB: a client for DynamoDB Local, the table the
//! stack serves, and an App on any table, as the functions build theirs.

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::Client;
use shared::realtime::notifier::Notifier;
use shared::store::Store;
use shared::App;

/// A client for the endpoint in `AWS_ENDPOINT_URL_DYNAMODB`, with dummy
/// credentials when none are set.
pub async fn dynamodb_client() -> Client {
    client_at(None).await
}

/// A client for `endpoint` (or the environment's), with the functions'
/// own timeouts.
pub async fn client_at(endpoint: Option<&str>) -> Client {
    Client::new(&local_sdk_config(endpoint).await)
}

/// The SDK settings of the local stack's clients: `endpoint` (or the
/// environment's), a region and dummy credentials when none are set, the
/// functions' timeouts.
pub async fn local_sdk_config(endpoint: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(shared::app::aws_timeouts());
    if std::env::var_os("AWS_REGION").is_none() {
        loader = loader.region("us-east-1");
    }
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        loader = loader.credentials_provider(aws_sdk_dynamodb::config::Credentials::for_tests());
    }
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}

/// An App for `table` at `endpoint` (or the environment's), with the
/// default limits, but no rate limits: as `make test` lifts them for its
/// stack, since the suites send and register far more than a user would
/// (the rate-limit suite sets its own).
pub async fn app_at(endpoint: Option<&str>, table: &str) -> App {
    let config = shared::Config {
        table_name: table.to_owned(),
        max_message_chars: shared::app::DEFAULT_MAX_MESSAGE_CHARS,
        token_ttl_seconds: shared::app::DEFAULT_TOKEN_TTL_SECONDS,
        send_rate_per_minute: 0,
        registrations_per_hour: 0,
        // The dev stack's (`make dev`); in-process, nothing connects to it.
        websocket_url: Some("ws://127.0.0.1:9001".to_owned()),
    };
    App { store: Store::new(client_at(endpoint).await, table), config }
}

/// A notifier for `table`, posting frames to the Management API at
/// `management_endpoint`.
pub async fn notifier_at(management_endpoint: &str, table: &str) -> Notifier {
    let management = aws_sdk_apigatewaymanagement::Client::new(&local_sdk_config(Some(management_endpoint)).await);
    Notifier::new(Store::new(client_at(None).await, table), management)
}

/// The table the local stack serves (`make test` sets TABLE_NAME).
pub fn stack_table() -> String {
    std::env::var("TABLE_NAME").expect("TABLE_NAME names the local stack's table (run through make test)")
}
