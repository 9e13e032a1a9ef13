//! `$default`: every frame a client sends. `{"type": "ping"}` keeps an
//! idle socket open (API Gateway closes one after 10 minutes) and gets
//! `{"type": "pong"}`; anything else gets an error frame, never a closed
//! socket.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use serde::Deserialize;

use super::{route_response, Frame};
use crate::app::App;

#[derive(Deserialize)]
struct ClientFrame {
    #[serde(rename = "type")]
    kind: String,
}

/// The frame that answers `body`.
pub fn answer(body: Option<&str>) -> Frame<'static> {
    match body.map(serde_json::from_str::<ClientFrame>) {
        Some(Ok(frame)) if frame.kind == "ping" => Frame::Pong,
        Some(Ok(frame)) => {
            Frame::Error { error: format!("unknown frame type {:?}: the only one is \"ping\"", frame.kind) }
        }
        _ => Frame::Error { error: "frames must be JSON objects with a \"type\", such as {\"type\": \"ping\"}".into() },
    }
}

pub async fn handle(_app: &App, event: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
    route_response(200, Some(answer(event.body.as_deref()).to_json()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_gets_pong_and_anything_else_an_error_frame() {
        assert_eq!(answer(Some(r#"{"type": "ping"}"#)).to_json(), r#"{"type":"pong"}"#);
        for body in [Some(r#"{"type": "pong"}"#), Some("ping"), Some("[1]"), Some(r#"{"kind": "ping"}"#), None] {
            let frame: serde_json::Value = serde_json::from_str(&answer(body).to_json()).unwrap();
            assert_eq!(frame["type"], "error", "{body:?}");
            assert!(frame["error"].as_str().unwrap().contains("ping"), "{body:?}");
        }
    }
}
