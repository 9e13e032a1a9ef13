//! The handlers called in-process, as their Lambda binaries call them: the
//! bench times them and the in-process test suites drive them.

use lambda_http::aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use lambda_http::{Body, Request, Response};
use shared::app::answer;
use shared::App;
use shared::{endpoints, realtime};

/// The functions of the WebSocket API's routes, which take API Gateway's
/// WebSocket events rather than HTTP requests.
pub const WEBSOCKET_ROUTES: [&str; 3] = ["realtime_connect", "realtime_disconnect", "realtime_default"];

/// Calls a function's handler in-process, as its Lambda binary would.
pub async fn dispatch(function: &str, app: &App, request: Request) -> Response<Body> {
    answer(function, async move {
        match function {
            "register" => endpoints::register::handle(app, request).await,
            "login" => endpoints::login::handle(app, request).await,
            "logout" => endpoints::logout::handle(app, request).await,
            "send_message" => endpoints::send_message::handle(app, request).await,
            "fetch_new_messages" => endpoints::fetch_new_messages::handle(app, request).await,
            "fetch_messages" => endpoints::fetch_messages::handle(app, request).await,
            "delete_message" => endpoints::delete_message::handle(app, request).await,
            "delete_messages" => endpoints::delete_messages::handle(app, request).await,
            "conversations" => endpoints::conversations::handle(app, request).await,
            "realtime_ticket" => endpoints::realtime_ticket::handle(app, request).await,
            "mark_read" => endpoints::mark_read::handle(app, request).await,
            "delete_conversation" => endpoints::delete_conversation::handle(app, request).await,
            "block" => endpoints::block::handle(app, request).await,
            "unblock" => endpoints::unblock::handle(app, request).await,
            "blocked" => endpoints::blocked::handle(app, request).await,
            "create_group" => endpoints::create_group::handle(app, request).await,
            "add_members" => endpoints::add_members::handle(app, request).await,
            "remove_member" => endpoints::remove_member::handle(app, request).await,
            "leave_group" => endpoints::leave_group::handle(app, request).await,
            "group_members" => endpoints::group_members::handle(app, request).await,
            "groups" => endpoints::groups::handle(app, request).await,
            other => panic!("no function {other}"),
        }
    })
    .await
}

/// Calls a WebSocket route's handler in-process, as its Lambda binary would.
pub async fn dispatch_route(
    function: &str,
    app: &App,
    event: ApiGatewayWebsocketProxyRequest,
) -> ApiGatewayProxyResponse {
    match function {
        "realtime_connect" => realtime::connect::handle(app, event).await,
        "realtime_disconnect" => realtime::disconnect::handle(app, event).await,
        "realtime_default" => realtime::default_route::handle(app, event).await,
        other => panic!("no WebSocket route function {other}"),
    }
}

/// The method of a function's route.
pub fn method_of(function: &str) -> &'static str {
    match function {
        "register" | "login" | "logout" | "send_message" | "realtime_ticket" | "mark_read" | "block" | "unblock"
        | "create_group" | "add_members" | "remove_member" | "leave_group" => "POST",
        "fetch_new_messages" | "fetch_messages" | "group_members" => "PUT",
        "delete_message" | "delete_messages" | "delete_conversation" => "DELETE",
        _ => "GET",
    }
}

/// A request to a function's route, as API Gateway hands it over: with
/// `token` (unless empty) as the bearer and `body` as JSON.
pub fn handler_request(function: &str, token: &str, body: Option<serde_json::Value>) -> Request {
    let mut builder = lambda_http::http::Request::builder().method(method_of(function)).uri(format!("/{function}"));
    if !token.is_empty() {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    let body = match body {
        Some(body) => {
            builder = builder.header("content-type", "application/json");
            Body::from(body.to_string())
        }
        None => Body::Empty,
    };
    builder.body(body).expect("request")
}
