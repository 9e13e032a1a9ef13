//! The socket side over real sockets: a tokio-tungstenite client, the AWS
//! SDK's Management API client, and a stub in place of `cargo lambda
//! watch` that answers as the route functions would.

use std::future::Future;
use std::time::Duration;

use aws_sdk_apigatewaymanagement::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::invoke::Invoker;
use super::serve_sockets;

/// Within this, or the test fails instead of hanging.
async fn soon<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), future).await.unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// The route functions' stand-in: refuses the ticket "bad", answers
/// `{"type":"pong"}` to any frame; reports each invocation.
async fn stub_functions() -> (String, mpsc::UnboundedReceiver<(String, Value)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (invocations, seen) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let invocations = invocations.clone();
            let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                let invocations = invocations.clone();
                async move {
                    let function = request.uri().path().split('/').nth(3).unwrap_or_default().to_owned();
                    let event: Value =
                        serde_json::from_slice(&request.into_body().collect().await?.to_bytes()).unwrap();
                    let reply = match function.as_str() {
                        "realtime_connect" if event["queryStringParameters"]["ticket"] == "bad" => {
                            json!({"statusCode": 401, "body": "{\"error\":\"bad ticket\"}"})
                        }
                        "realtime_default" => json!({"statusCode": 200, "body": "{\"type\":\"pong\"}"}),
                        _ => json!({"statusCode": 200}),
                    };
                    invocations.send((function, event)).unwrap();
                    Ok::<_, hyper::Error>(Response::new(Full::new(Bytes::from(reply.to_string()))))
                }
            });
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    (url, seen)
}

async fn bridge() -> (String, mpsc::UnboundedReceiver<(String, Value)>) {
    let (functions, seen) = stub_functions().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(serve_sockets(listener, Invoker::new(&functions)));
    (address.to_string(), seen)
}

fn management_client(address: &str) -> aws_sdk_apigatewaymanagement::Client {
    let config = aws_sdk_apigatewaymanagement::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "test"))
        .endpoint_url(format!("http://{address}"))
        .build();
    aws_sdk_apigatewaymanagement::Client::from_conf(config)
}

#[tokio::test]
async fn the_management_api_reaches_sockets_as_the_sdk_calls_it() {
    let (address, mut seen) = bridge().await;
    let management = management_client(&address);

    let unknown = management.post_to_connection().connection_id("nobody=").data(Blob::new("hi")).send().await;
    let error = unknown.expect_err("an unknown connection is gone").into_service_error();
    assert!(matches!(error, PostToConnectionError::GoneException(_)), "{error:?}");

    let (mut client, _) =
        soon("connect", tokio_tungstenite::connect_async(format!("ws://{address}/?ticket=good"))).await.unwrap();
    let (function, connect) = soon("$connect", seen.recv()).await.unwrap();
    assert_eq!(function, "realtime_connect");
    assert_eq!(connect["queryStringParameters"]["ticket"], "good");
    let id = connect["requestContext"]["connectionId"].as_str().unwrap().to_owned();
    assert!(id.ends_with('='), "{id}");

    management.post_to_connection().connection_id(&id).data(Blob::new("hello")).send().await.unwrap();
    let frame = soon("the posted frame", client.next()).await.unwrap().unwrap();
    assert_eq!(frame, Message::text("hello"));

    let status = management.get_connection().connection_id(&id).send().await.unwrap();
    assert!(status.connected_at().is_some() && status.last_active_at().is_some());
    assert_eq!(status.identity().and_then(|identity| identity.source_ip()), Some("127.0.0.1"));

    client.send(Message::text(r#"{"type":"ping"}"#)).await.unwrap();
    let (function, message) = soon("$default", seen.recv()).await.unwrap();
    assert_eq!((function.as_str(), message["body"].as_str()), ("realtime_default", Some(r#"{"type":"ping"}"#)));
    let frame = soon("the route's reply", client.next()).await.unwrap().unwrap();
    assert_eq!(frame, Message::text(r#"{"type":"pong"}"#));

    management.delete_connection().connection_id(&id).send().await.unwrap();
    let closing = soon("the close frame", client.next()).await.unwrap().unwrap();
    assert!(matches!(closing, Message::Close(_)), "{closing:?}");
    let (function, disconnect) = soon("$disconnect", seen.recv()).await.unwrap();
    assert_eq!(
        (function.as_str(), disconnect["requestContext"]["connectionId"].as_str()),
        ("realtime_disconnect", Some(id.as_str()))
    );
    let after = management.post_to_connection().connection_id(&id).data(Blob::new("late")).send().await;
    assert!(matches!(after.unwrap_err().into_service_error(), PostToConnectionError::GoneException(_)));
}

#[tokio::test]
async fn connect_refuses_the_handshake_with_its_status_and_a_drop_disconnects() {
    let (address, mut seen) = bridge().await;
    let refused = soon("connect", tokio_tungstenite::connect_async(format!("ws://{address}/?ticket=bad"))).await;
    match refused {
        Err(WsError::Http(response)) => {
            assert_eq!(response.status(), 401);
            assert_eq!(response.body().as_deref(), Some(&b"{\"error\":\"bad ticket\"}"[..]));
        }
        other => panic!("expected a refused handshake, got {other:?}"),
    }
    assert_eq!(soon("$connect", seen.recv()).await.unwrap().0, "realtime_connect");

    let (client, _) = soon("connect", tokio_tungstenite::connect_async(format!("ws://{address}/"))).await.unwrap();
    let (_, connect) = soon("$connect", seen.recv()).await.unwrap();
    drop(client);
    let (function, disconnect) = soon("$disconnect", seen.recv()).await.unwrap();
    assert_eq!(function, "realtime_disconnect");
    assert_eq!(disconnect["requestContext"]["connectionId"], connect["requestContext"]["connectionId"]);
}
