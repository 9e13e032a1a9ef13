//! Real-time delivery (PRODUCT.md section 6): the WebSocket routes'
//! handlers, the frames the server sends, and the notifier that pushes
//! each new message from the table's stream to its recipient's sockets.
//!
//! The route handlers take API Gateway's WebSocket event and answer with
//! a status (on `$connect`, whether the socket opens) and, on `$default`,
//! a body that API Gateway sends back to the client as a frame.

pub mod connect;
pub mod default_route;
pub mod disconnect;
pub mod notifier;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use lambda_http::Error;
use serde::Serialize;

use crate::app::{serve_events, App};
use crate::model::{GroupId, Identifier, Message, Timestamp};

/// A frame the server sends on a socket.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Frame<'a> {
    Message {
        message: &'a Message,
    },
    /// `by` has read what the frame's receiver sent them (in `group`, if
    /// set), up to and including `through`.
    Read {
        by: &'a Identifier,
        #[serde(skip_serializing_if = "Option::is_none")]
        group: Option<&'a GroupId>,
        through: Timestamp,
    },
    Pong,
    Error {
        error: String,
    },
}

impl Frame<'_> {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("frames serialise")
    }
}

/// A WebSocket route's answer: `status`, with `body` as the frame sent back.
pub fn route_response(status: u16, body: Option<String>) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = i64::from(status);
    response.body = body.map(Body::Text);
    response
}

/// Runs a WebSocket route's function: the App built once, then `handler`
/// for each of the route's events.
pub async fn serve_route<F, Fut>(route: &'static str, handler: F) -> Result<(), Error>
where
    F: Fn(&'static App, ApiGatewayWebsocketProxyRequest) -> Fut + Sync,
    Fut: std::future::Future<Output = ApiGatewayProxyResponse> + Send,
{
    serve_events(route, App::from_env(), |app, event| {
        // Boxed: nested in the runtime's future, a handler's future took
        // the compiler's layout queries past their depth limit.
        let answered = Box::pin(handler(app, event));
        async move { Ok::<_, Error>(answered.await) }
    })
    .await
}
