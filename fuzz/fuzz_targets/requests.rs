//! Fuzzes request parsing and validation: arbitrary bodies, content types
//! and Idempotency-Key headers through every endpoint's `parse`, and
//! arbitrary text through the timestamp, identifier and group id parsers.
//! Nothing may panic, every refusal must be a 4xx, and whatever is accepted
//! must be canonical (a timestamp's text parses back to itself).

#![no_main]

use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::{Body, Request};
use libfuzzer_sys::fuzz_target;
use shared::endpoints;
use shared::model::{GroupId, Identifier, Timestamp};
use shared::{ApiError, Config};

const CONTENT_TYPES: [&str; 4] = ["application/json", "application/json; charset=utf-8", "text/plain", ""];

fn request(content_type: &str, key: Option<&[u8]>, body: &[u8]) -> Request {
    let mut builder = lambda_http::http::Request::builder().method("POST").uri("/fuzz");
    if !content_type.is_empty() {
        builder = builder.header(CONTENT_TYPE, content_type);
    }
    if let Some(key) = key {
        if let Ok(value) = lambda_http::http::HeaderValue::from_bytes(key) {
            builder = builder.header("idempotency-key", value);
        }
    }
    builder.body(Body::Binary(body.to_vec())).expect("request")
}

fn refused_with_4xx<T>(outcome: Result<T, ApiError>) {
    if let Err(error) = outcome {
        assert!((400..500).contains(&error.status()), "{error:?} is not a client error");
        assert!(!error.to_string().is_empty());
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let content_type = CONTENT_TYPES[usize::from(selector) % CONTENT_TYPES.len()];
    // The top bit of the selector sends a key made of the input's first bytes.
    let (key, body) =
        if selector & 0x80 != 0 && rest.len() > 8 { (Some(&rest[..8]), &rest[8..]) } else { (None, rest) };
    let config = Config {
        table_name: "fuzz".into(),
        max_message_chars: 64,
        token_ttl_seconds: 60,
        send_rate_per_minute: 0,
        registrations_per_hour: 0,
        websocket_url: None,
    };
    let make = || request(content_type, key, body);

    refused_with_4xx(endpoints::register::parse(&make()));
    refused_with_4xx(endpoints::login::parse(&make()));
    refused_with_4xx(endpoints::parse_no_fields(&make()));
    refused_with_4xx(endpoints::send_message::parse(&make(), &config));
    refused_with_4xx(endpoints::fetch_new_messages::parse(&make()));
    refused_with_4xx(endpoints::fetch_messages::parse(&make()));
    refused_with_4xx(endpoints::delete_message::parse(&make()));
    refused_with_4xx(endpoints::delete_messages::parse(&make()));
    refused_with_4xx(endpoints::mark_read::parse(&make()));
    refused_with_4xx(endpoints::delete_conversation::parse(&make()));
    refused_with_4xx(endpoints::parse_login(&make()));
    refused_with_4xx(endpoints::create_group::parse(&make()));
    refused_with_4xx(endpoints::add_members::parse(&make()));
    refused_with_4xx(endpoints::remove_member::parse(&make()));
    // group_members::parse is the same function.
    refused_with_4xx(endpoints::leave_group::parse(&make()));

    if let Ok(text) = std::str::from_utf8(rest) {
        if let Ok(timestamp) = Timestamp::parse("timestamp", text) {
            let canonical = timestamp.to_string();
            assert_eq!(Timestamp::parse("timestamp", &canonical).expect("canonical text parses"), timestamp);
            assert_eq!(canonical.len(), "2026-11-21T10:15:30.123456Z".len());
        }
        if let Ok(identifier) = Identifier::parse("login", text) {
            assert_eq!(identifier.as_str(), text);
        }
        if let Ok(group) = GroupId::parse("group", text) {
            assert_eq!(group.as_str(), text);
        }
    }
});
