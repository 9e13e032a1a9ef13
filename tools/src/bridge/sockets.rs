//! The WebSocket side: the handshake decided by `$connect`, each text
//! frame to `$default` (its reply's body back to the client, as the
//! template's route response makes API Gateway do), `$disconnect` once.
//!
//! hyper answers the handshake itself, so the asynchronous `$connect`
//! invocation can choose its status; tokio-tungstenite's own accept takes
//! only a synchronous callback.

use std::net::SocketAddr;
use std::sync::Arc;

use aws_lambda_events::apigw::ApiGatewayProxyResponse;
use aws_lambda_events::encodings::Body;
use bytes::Bytes;
use chrono::Utc;
use futures::{SinkExt, StreamExt};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::connections::{Command, Connections};
use super::invoke::{InvokeError, Invoker};
use super::management::MAX_MESSAGE_BYTES;
use super::websocket_events::{connect_event, disconnect_event, message_event, new_connection_id, Peer};

pub const CONNECT_FUNCTION: &str = "realtime_connect";
pub const DEFAULT_FUNCTION: &str = "realtime_default";
pub const DISCONNECT_FUNCTION: &str = "realtime_disconnect";

pub struct Sockets {
    pub connections: Connections,
    pub invoker: Invoker,
}

pub fn is_upgrade(request: &Request<Incoming>) -> bool {
    let upgrade = request.headers().get(hyper::header::UPGRADE).and_then(|v| v.to_str().ok());
    upgrade.is_some_and(|v| v.eq_ignore_ascii_case("websocket")) && request.headers().contains_key("sec-websocket-key")
}

/// How `$connect`'s result answers the handshake.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Accept,
    Refuse { status: u16, body: String },
}

pub fn verdict(result: &Result<Value, InvokeError>) -> Verdict {
    // API Gateway's answer when the function fails or replies nonsense.
    let internal_error =
        || Verdict::Refuse { status: 500, body: json!({"message": "Internal server error"}).to_string() };
    let Ok(reply) = result else { return internal_error() };
    let Ok(response) = serde_json::from_value::<ApiGatewayProxyResponse>(reply.clone()) else {
        return internal_error();
    };
    match response.status_code {
        200..=299 => Verdict::Accept,
        status @ 100..=599 => Verdict::Refuse { status: status as u16, body: body_text(response.body) },
        _ => internal_error(),
    }
}

/// A route reply's body, for the client's frame.
pub fn reply_frame(reply: &Value) -> Option<String> {
    let response = serde_json::from_value::<ApiGatewayProxyResponse>(reply.clone()).ok()?;
    Some(body_text(response.body)).filter(|text| !text.is_empty())
}

fn body_text(body: Option<Body>) -> String {
    match body {
        Some(Body::Text(text)) => text,
        Some(Body::Binary(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        _ => String::new(),
    }
}

/// Answers a WebSocket handshake as `$connect` decides.
pub async fn upgrade(
    sockets: Arc<Sockets>,
    mut request: Request<Incoming>,
    remote: SocketAddr,
) -> Response<Full<Bytes>> {
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let accept_key = derive_accept_key(header("sec-websocket-key").unwrap_or_default().as_bytes());
    let peer = Peer {
        connection_id: new_connection_id(),
        connected_at: Utc::now(),
        source_ip: remote.ip().to_string(),
        user_agent: header("user-agent"),
        domain_name: header("host").unwrap_or_else(|| remote.to_string()),
    };
    let event = connect_event(&peer, request.headers().clone(), &query_pairs(request.uri().query()));
    let result = sockets.invoker.invoke(CONNECT_FUNCTION, &event).await;
    if let Err(error) = &result {
        eprintln!("bridge: {CONNECT_FUNCTION} for {}: {error}", peer.connection_id);
    }
    if let Verdict::Refuse { status, body } = verdict(&result) {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Response::builder().status(status).body(Full::new(Bytes::from(body))).expect("refusal");
    }
    // Registered before the client hears 101, so a post right after its
    // $connect waits in the queue instead of finding no connection.
    let (commands, queue) = mpsc::unbounded_channel();
    sockets.connections.add(peer.clone(), commands);
    let on_upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let config = WebSocketConfig::default().max_message_size(Some(MAX_MESSAGE_BYTES));
                let socket = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
                serve_socket(&sockets, &peer, socket, queue).await;
            }
            Err(error) => {
                eprintln!("bridge: the upgrade of {} failed: {error}", peer.connection_id);
                disconnect(&sockets, &peer, None, "Upgrade failed").await;
            }
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(hyper::header::UPGRADE, "websocket")
        .header(hyper::header::CONNECTION, "Upgrade")
        .header("sec-websocket-accept", accept_key)
        .body(Full::new(Bytes::new()))
        .expect("handshake response")
}

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    let Some(query) = query else { return Vec::new() };
    let Ok(url) = reqwest::Url::parse(&format!("http://localhost/?{query}")) else { return Vec::new() };
    url.query_pairs().map(|(name, value)| (name.into_owned(), value.into_owned())).collect()
}

type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

async fn serve_socket(
    sockets: &Arc<Sockets>,
    peer: &Peer,
    socket: Socket,
    mut queue: mpsc::UnboundedReceiver<Command>,
) {
    let id = &peer.connection_id;
    let (mut sink, mut frames) = socket.split();
    // Ping and pong frames never reach here: tungstenite answers pings.
    let (code, reason) = loop {
        tokio::select! {
            frame = frames.next() => match frame {
                Some(Ok(Message::Text(text))) => on_frame(sockets, peer, text.as_str().to_owned()),
                Some(Ok(Message::Binary(data))) => on_frame(sockets, peer, String::from_utf8_lossy(&data).into_owned()),
                Some(Ok(Message::Close(frame))) => break (frame.map(|f| u16::from(f.code)), "Client closed"),
                Some(Ok(_)) => {}
                Some(Err(error)) => {
                    eprintln!("bridge: socket {id}: {error}");
                    break (None, "Connection error");
                }
                None => break (None, "Connection dropped"),
            },
            command = queue.recv() => match command {
                Some(Command::Send(text)) => {
                    if sink.send(Message::text(text)).await.is_err() {
                        break (None, "Connection dropped");
                    }
                }
                Some(Command::Close) | None => {
                    let goodbye = CloseFrame { code: CloseCode::Normal, reason: "Closed by the Management API".into() };
                    let _ = sink.send(Message::Close(Some(goodbye))).await;
                    break (None, "Closed by the Management API");
                }
            },
        }
    };
    sockets.connections.remove(id);
    disconnect(sockets, peer, code, reason).await;
}

fn on_frame(sockets: &Arc<Sockets>, peer: &Peer, body: String) {
    sockets.connections.touch(&peer.connection_id);
    let (sockets, peer) = (sockets.clone(), peer.clone());
    // Concurrently, as API Gateway invokes: a slow reply does not hold up
    // the frames and posts behind it.
    tokio::spawn(async move {
        let id = &peer.connection_id;
        let frame = match sockets.invoker.invoke(DEFAULT_FUNCTION, &message_event(&peer, body)).await {
            Ok(reply) => reply_frame(&reply),
            Err(error) => {
                eprintln!("bridge: {DEFAULT_FUNCTION} for {id}: {error}");
                Some(json!({"message": "Internal server error", "connectionId": id}).to_string())
            }
        };
        if let Some(frame) = frame {
            sockets.connections.command(id, Command::Send(frame));
        }
    });
}

async fn disconnect(sockets: &Sockets, peer: &Peer, code: Option<u16>, reason: &str) {
    let event = disconnect_event(peer, code, reason);
    if let Err(error) = sockets.invoker.invoke(DISCONNECT_FUNCTION, &event).await {
        eprintln!("bridge: {DISCONNECT_FUNCTION} for {}: {error}", peer.connection_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_replies_decide_the_handshake() {
        assert_eq!(verdict(&Ok(json!({"statusCode": 200}))), Verdict::Accept);
        assert_eq!(verdict(&Ok(json!({"statusCode": 204, "body": ""}))), Verdict::Accept);
        let refused = verdict(&Ok(json!({"statusCode": 401, "body": "{\"error\":\"bad ticket\"}"})));
        assert_eq!(refused, Verdict::Refuse { status: 401, body: "{\"error\":\"bad ticket\"}".to_owned() });
        let internal = Verdict::Refuse { status: 500, body: r#"{"message":"Internal server error"}"#.to_owned() };
        assert_eq!(verdict(&Ok(json!({"no": "status"}))), internal);
        assert_eq!(verdict(&Ok(json!({"statusCode": 42}))), internal);
        assert_eq!(verdict(&Err(InvokeError::Unreachable("refused".to_owned()))), internal);
        assert_eq!(verdict(&Err(InvokeError::Function { status: 500, body: String::new() })), internal);
    }

    #[test]
    fn route_replies_with_a_body_become_frames() {
        assert_eq!(
            reply_frame(&json!({"statusCode": 200, "body": "{\"type\":\"pong\"}"})).as_deref(),
            Some("{\"type\":\"pong\"}")
        );
        assert_eq!(reply_frame(&json!({"statusCode": 200})), None);
        assert_eq!(reply_frame(&json!({"statusCode": 200, "body": ""})), None);
        assert_eq!(reply_frame(&Value::Null), None);
    }

    #[test]
    fn query_strings_are_decoded() {
        let pairs = query_pairs(Some("ticket=a%2Bb%3D&x=1"));
        assert_eq!(pairs, vec![("ticket".to_owned(), "a+b=".to_owned()), ("x".to_owned(), "1".to_owned())]);
        assert!(query_pairs(None).is_empty());
    }
}
