//! WebSocket clients of the push API: a ticket from `POST /realtime_ticket`,
//! then a socket on the URL it names (`make test` serves it with the dev
//! bridge, whose address it puts in `MESSENGER_WEBSOCKET_URL`).

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::contract::contract;
use super::test_app::{TestApp, User};

pub const WEBSOCKET_URL_VARIABLE: &str = "MESSENGER_WEBSOCKET_URL";

/// A frame is pushed within this long of its message's 201 (the promise
/// is 2 s; the rest is slack for a loaded machine).
pub const PUSH_WITHIN: Duration = Duration::from_secs(5);

/// The WebSocket API's address, as `POST /realtime_ticket` names it.
pub fn websocket_url() -> String {
    std::env::var(WEBSOCKET_URL_VARIABLE).expect("run through `make test`: the WebSocket URL is not set")
}

/// A fresh ticket of `user`'s.
pub async fn ticket(app: &TestApp, user: &User) -> String {
    let reply = app.call("POST", "/realtime_ticket", Some(&user.token), None).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    assert_eq!(reply.body["url"], websocket_url());
    reply.body["ticket"].as_str().expect("a ticket").to_owned()
}

pub struct Socket {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// Opens a socket with `ticket` (none: no query at all); a refused
/// handshake is its HTTP status.
pub async fn open(ticket: Option<&str>) -> Result<Socket, u16> {
    let url = match ticket {
        Some(ticket) => format!("{}/?ticket={ticket}", websocket_url()),
        None => websocket_url(),
    };
    match tokio_tungstenite::connect_async(url).await {
        Ok((stream, _)) => Ok(Socket { stream }),
        Err(tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(other) => panic!("the WebSocket API is unreachable: {other}"),
    }
}

/// A socket of `user`'s, opened with a fresh ticket.
pub async fn connect(app: &TestApp, user: &User) -> Socket {
    open(Some(&ticket(app, user).await)).await.unwrap_or_else(|status| panic!("a fresh ticket was refused: {status}"))
}

impl Socket {
    /// The next frame, which must come within `within` and match the
    /// contract's `ServerFrame`.
    pub async fn frame(&mut self, within: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let next = tokio::time::timeout_at(deadline, self.stream.next()).await;
            let message = next.unwrap_or_else(|_| panic!("no frame within {within:?}"));
            match message.expect("the socket is open").expect("a readable frame") {
                Message::Text(text) => {
                    let frame: Value = serde_json::from_str(&text).expect("a JSON frame");
                    contract().check_frame(&frame).unwrap();
                    return frame;
                }
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }

    pub async fn send(&mut self, text: &str) {
        self.stream.send(Message::text(text)).await.expect("the socket takes a frame");
    }

    pub async fn close(mut self) {
        self.stream.close(None).await.expect("a clean close");
    }
}
