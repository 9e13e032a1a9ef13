//! What the suites share: the API over HTTP ([`TestApp`]), the handlers
//! in-process ([`DemoApp`]), turns at the local stack, the contract of
//! `openapi.yaml`, the routes, the sample events, the fault proxy (of the
//! tools crate), and reads of the table.

mod contract;
mod demo_app;
mod events;
mod routes;
mod socket;
mod store;
mod test_app;
mod turn;

use serde_json::Value;

pub use contract::contract;
pub use demo_app::{call, handle, handle_route, with_key, Answer, DemoApp};
pub use events::{assert_all_covered, event_files, function_of, EXPECTED, STREAM_EVENT};
pub use messenger_tools::fault_proxy::{Fault, FaultProxy};
pub use routes::{protected_routes, routes, template_routes, watch_routes, WEB_FUNCTION};
pub use socket::{connect, open, ticket, PUSH_WITHIN};
pub use store::{assert_mailbox_consistent, mailbox_texts, table_snapshot};
pub use test_app::{unique_login, FileReply, Reply, TestApp, User, API_URL_VARIABLE};
pub use turn::Turn;

/// The texts of the messages in a reply, in its order.
pub fn texts(reply: &Value) -> Vec<String> {
    reply["messages"].as_array().expect("messages").iter().map(|m| m["message"].as_str().unwrap().to_owned()).collect()
}
