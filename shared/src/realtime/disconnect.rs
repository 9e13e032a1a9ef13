//! `$disconnect`: forgets the connection. API Gateway sends it on a best
//! effort basis; a connection it never reports is found by the notifier
//! (410 Gone) or expires with its TTL.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};

use super::route_response;
use crate::app::App;

pub async fn handle(app: &App, event: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
    let Some(connection_id) = event.request_context.connection_id.as_deref() else {
        return route_response(400, None);
    };
    match app.store.remove_connection(connection_id).await {
        Ok(login) => {
            if let Some(login) = login {
                tracing::Span::current().record("caller", login.as_str());
            }
            route_response(200, None)
        }
        Err(error) => {
            tracing::error!(error = %error, "could not forget a connection");
            route_response(500, None)
        }
    }
}
