//! `$connect`: opens the socket for the holder of a fresh ticket. The
//! ticket is consumed whatever happens next, so a URL that leaked (logs,
//! a browser's history) opens nothing later.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use serde_json::json;

use super::route_response;
use crate::app::App;
use crate::auth::token_hash;

const UNKNOWN_TICKET: &str = "unknown, used or expired ticket; ask POST /realtime_ticket for a new one";

/// Longer than any ticket we issue; anything longer is not worth a lookup.
const TICKET_MAX_CHARS: usize = 256;

pub async fn handle(app: &App, event: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
    let refused = |why: &str| route_response(401, Some(json!({"error": why}).to_string()));
    let Some(connection_id) = event.request_context.connection_id.as_deref() else {
        return route_response(400, Some(json!({"error": "the event has no connection id"}).to_string()));
    };
    let Some(ticket) = event.query_string_parameters.first("ticket") else {
        return refused(
            "missing ticket: open the socket at the url POST /realtime_ticket gives, with ?ticket=<ticket>",
        );
    };
    if ticket.len() > TICKET_MAX_CHARS {
        return refused(UNKNOWN_TICKET);
    }
    let login = match app.store.take_ticket(&token_hash(ticket)).await {
        Ok(Some(login)) => login,
        Ok(None) => return refused(UNKNOWN_TICKET),
        Err(error) => {
            tracing::error!(error = %error, "could not check a ticket");
            return unavailable("the ticket could not be checked; ask POST /realtime_ticket for a new one and retry");
        }
    };
    tracing::Span::current().record("caller", login.as_str());
    match app.store.add_connection(&login, connection_id).await {
        Ok(()) => route_response(200, None),
        Err(error) => {
            tracing::error!(error = %error, "could not record a connection");
            unavailable("the ticket was used but the connection was not recorded; ask POST /realtime_ticket for a new one and retry")
        }
    }
}

fn unavailable(why: &str) -> ApiGatewayProxyResponse {
    route_response(503, Some(json!({"error": why}).to_string()))
}
