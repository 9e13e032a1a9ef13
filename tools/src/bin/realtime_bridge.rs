//! The dev-only WebSocket bridge (PRODUCT.md section 6): stands in for API
//! Gateway's WebSocket API and for the event source mapping from the
//! table's stream to the notifier, invoking the functions that
//! `cargo lambda watch` serves.
//!
//! ```text
//! realtime_bridge [--port N] [--watch URL]
//! ```
//! - `--port` (else `REALTIME_PORT`, else 9001): WebSocket clients connect
//!   to `ws://127.0.0.1:N/?ticket=...`; the Management API is served on
//!   the same port (`AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI=http://127.0.0.1:N`).
//! - `--watch` (else `WATCH_URL`, else `http://127.0.0.1:9000`): where
//!   `cargo lambda watch` invokes functions by name.
//! - `TABLE_NAME` and `AWS_ENDPOINT_URL_DYNAMODB`: the table whose stream
//!   feeds `realtime_notifier`, with the mapping's batch size, retries and
//!   filter read from template.yaml. Without TABLE_NAME only the sockets
//!   are served.

use messenger_tools::bridge::invoke::Invoker;
use messenger_tools::bridge::mapping::Mapping;
use messenger_tools::bridge::serve_sockets;
use messenger_tools::bridge::stream::StreamPoller;
use messenger_tools::stack::{client_at, local_sdk_config};
use messenger_tools::template::template;
use tokio::net::TcpListener;

fn option(flag: &str, variable: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    let given = args.iter().position(|arg| arg == flag).and_then(|i| args.get(i + 1)).cloned();
    given.or_else(|| std::env::var(variable).ok()).unwrap_or_else(|| default.to_owned())
}

fn fail(message: &str) -> ! {
    eprintln!("bridge: {message}");
    std::process::exit(1);
}

#[tokio::main]
async fn main() {
    let port = option("--port", "REALTIME_PORT", "9001");
    let invoker = Invoker::new(&option("--watch", "WATCH_URL", "http://127.0.0.1:9000"));
    // Checked before anything is served: a filter the bridge cannot apply
    // must stop it rather than let every record through.
    let mapping = Mapping::from_template(&template()).unwrap_or_else(|error| fail(&error));
    let listener = TcpListener::bind(format!("127.0.0.1:{port}"))
        .await
        .unwrap_or_else(|error| fail(&format!("cannot listen on 127.0.0.1:{port}: {error}")));
    eprintln!("bridge: WebSocket API and Management API on 127.0.0.1:{port}");
    match std::env::var("TABLE_NAME") {
        Ok(table) => {
            // The Streams SDK reads AWS_ENDPOINT_URL_DYNAMODB_STREAMS: DynamoDB
            // Local serves both APIs at the DynamoDB endpoint.
            let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").ok();
            let streams = aws_sdk_dynamodbstreams::Client::new(&local_sdk_config(endpoint.as_deref()).await);
            let dynamodb = client_at(endpoint.as_deref()).await;
            let poller = StreamPoller { dynamodb, streams, table, mapping, invoker: invoker.clone() };
            tokio::spawn(poller.run());
        }
        Err(_) => eprintln!("bridge: no TABLE_NAME, so no stream to read: sockets only"),
    }
    serve_sockets(listener, invoker).await;
}
