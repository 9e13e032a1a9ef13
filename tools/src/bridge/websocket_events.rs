//! The events API Gateway's WebSocket API sends its route functions:
//! `$connect` with the handshake's headers and query string, `$default`
//! with each frame, `$disconnect` once the socket is gone.

use std::collections::HashMap;

use aws_lambda_events::apigw::{ApiGatewayWebsocketProxyRequest, ApiGatewayWebsocketProxyRequestContext};
use aws_lambda_events::http::HeaderMap;
use aws_lambda_events::query_map::QueryMap;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// The stage of template.yaml's WebSocketStage; locally only a name.
pub const STAGE: &str = "live";
const API_ID: &str = "local";

/// A socket as its events describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct Peer {
    pub connection_id: String,
    pub connected_at: DateTime<Utc>,
    pub source_ip: String,
    pub user_agent: Option<String>,
    /// The Host the client connected to, as API Gateway's own domain.
    pub domain_name: String,
}

/// The `$connect` event as JSON: aws_lambda_events writes the WebSocket
/// event's `queryStringParameters` with a list per name, where API Gateway
/// sends one string (the last value of a repeated name), so that one field
/// is written over.
pub fn connect_event(peer: &Peer, headers: HeaderMap, query: &[(String, String)]) -> Value {
    let mut event = event(peer, "$connect", "CONNECT");
    let mut multi_value: HashMap<String, Vec<String>> = HashMap::new();
    for (name, value) in query {
        multi_value.entry(name.clone()).or_default().push(value.clone());
    }
    event.multi_value_query_string_parameters = QueryMap::from(multi_value);
    event.multi_value_headers = headers.clone();
    event.headers = headers;
    let mut json = serde_json::to_value(event).expect("an event serializes");
    let single: Map<String, Value> =
        query.iter().map(|(name, value)| (name.clone(), Value::from(value.as_str()))).collect();
    json["queryStringParameters"] = Value::Object(single);
    json
}

pub fn message_event(peer: &Peer, body: String) -> ApiGatewayWebsocketProxyRequest {
    let mut event = event(peer, "$default", "MESSAGE");
    event.request_context.message_id = Some(random_id(16));
    event.body = Some(body);
    event
}

/// `status_code`: the close frame's code, when the client sent one.
pub fn disconnect_event(peer: &Peer, status_code: Option<u16>, reason: &str) -> ApiGatewayWebsocketProxyRequest {
    let mut event = event(peer, "$disconnect", "DISCONNECT");
    event.request_context.disconnect_status_code = status_code.map(i64::from);
    event.request_context.disconnect_reason = Some(reason.to_owned());
    event
}

fn event(peer: &Peer, route_key: &str, event_type: &str) -> ApiGatewayWebsocketProxyRequest {
    let now = Utc::now();
    let mut context = ApiGatewayWebsocketProxyRequestContext::default();
    context.route_key = Some(route_key.to_owned());
    context.event_type = Some(event_type.to_owned());
    context.message_direction = Some("IN".to_owned());
    context.connection_id = Some(peer.connection_id.clone());
    context.connected_at = peer.connected_at.timestamp_millis();
    context.request_time_epoch = now.timestamp_millis();
    context.request_time = Some(now.format("%d/%b/%Y:%H:%M:%S %z").to_string());
    let request_id = random_id(16);
    context.request_id = Some(request_id.clone());
    context.extended_request_id = Some(request_id);
    context.domain_name = Some(peer.domain_name.clone());
    context.stage = Some(STAGE.to_owned());
    context.apiid = Some(API_ID.to_owned());
    context.identity.source_ip = Some(peer.source_ip.clone());
    context.identity.user_agent = peer.user_agent.clone();
    let mut event = ApiGatewayWebsocketProxyRequest::default();
    event.request_context = context;
    event.is_base64_encoded = false;
    event
}

/// API Gateway's connection ids look like `L0SM9cOFvHcCIhw=`: base64 of
/// random bytes.
pub fn new_connection_id() -> String {
    format!("{}=", random_id(15))
}

fn random_id(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..len).map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn peer() -> Peer {
        Peer {
            connection_id: new_connection_id(),
            connected_at: DateTime::from_timestamp_millis(1_700_000_000_123).unwrap(),
            source_ip: "127.0.0.1".to_owned(),
            user_agent: Some("test-client".to_owned()),
            domain_name: "127.0.0.1:9001".to_owned(),
        }
    }

    #[test]
    fn connection_ids_look_like_api_gateways() {
        let id = new_connection_id();
        assert_eq!(id.len(), 16);
        assert!(id.ends_with('='));
        assert_ne!(id, new_connection_id());
    }

    #[test]
    fn connect_carries_the_ticket_and_headers() {
        let peer = peer();
        let mut headers = HeaderMap::new();
        headers.insert("host", "127.0.0.1:9001".parse().unwrap());
        let query = [("ticket".to_owned(), "t0".to_owned()), ("ticket".to_owned(), "t1".to_owned())];
        let event = connect_event(&peer, headers, &query);
        assert_eq!(event["queryStringParameters"], json!({"ticket": "t1"}));
        assert_eq!(event["multiValueQueryStringParameters"], json!({"ticket": ["t0", "t1"]}));
        assert_eq!(event["headers"]["host"], "127.0.0.1:9001");
        let context = &event["requestContext"];
        assert_eq!(context["routeKey"], "$connect");
        assert_eq!(context["eventType"], "CONNECT");
        assert_eq!(context["connectionId"], peer.connection_id.as_str());
        assert_eq!(context["connectedAt"], 1_700_000_000_123_i64);
        assert_eq!(context["identity"]["sourceIp"], "127.0.0.1");
        assert_eq!(context["stage"], "live");
        assert_eq!(context["messageDirection"], "IN");
        assert!(context["requestTimeEpoch"].as_i64().unwrap() > 1_700_000_000_123);
        assert_eq!(event["isBase64Encoded"], false);
        // What a function's lambda_http parses, it reads back whole.
        let back: ApiGatewayWebsocketProxyRequest = serde_json::from_value(event).unwrap();
        assert_eq!(back.query_string_parameters.first("ticket"), Some("t1"));
    }

    #[test]
    fn messages_and_disconnects_name_their_route() {
        let peer = peer();
        let message = serde_json::to_value(message_event(&peer, r#"{"type":"ping"}"#.to_owned())).unwrap();
        assert_eq!(message["requestContext"]["routeKey"], "$default");
        assert_eq!(message["requestContext"]["eventType"], "MESSAGE");
        assert!(message["requestContext"]["messageId"].is_string());
        assert_eq!(message["body"], r#"{"type":"ping"}"#);
        let gone = serde_json::to_value(disconnect_event(&peer, Some(1000), "Client closed")).unwrap();
        assert_eq!(gone["requestContext"]["routeKey"], "$disconnect");
        assert_eq!(gone["requestContext"]["eventType"], "DISCONNECT");
        assert_eq!(gone["requestContext"]["disconnectStatusCode"], 1000);
        assert_eq!(gone["body"], Value::Null);
    }
}
