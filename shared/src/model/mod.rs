//! The API's value types and their validation: identifiers, timestamps,
//! message text and limits, and the message as the API shows it.

mod group;
mod identifier;
mod timestamp;

use serde::{Deserialize, Serialize};

use crate::error::ApiError;

pub use group::{validate_group_name, GroupId, MAX_GROUP_MEMBERS, MAX_MEMBERS_PER_REQUEST};
pub use identifier::{Identifier, IDENTIFIER_MAX_CHARS, IDENTIFIER_MIN_CHARS};
pub use timestamp::Timestamp;

/// Checks a message body against the deployment's length limit, counted in
/// Unicode characters as a client would count them.
pub fn validate_message_text(text: &str, max_chars: usize) -> Result<(), ApiError> {
    let chars = text.chars().count();
    if chars == 0 || chars > max_chars {
        return Err(ApiError::bad_request(format!("message must be 1 to {max_chars} characters long (got {chars})")));
    }
    if let Some(bad) = text.chars().find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(ApiError::bad_request(format!(
            "message may not contain control characters other than tab and line breaks (found {bad:?})"
        )));
    }
    Ok(())
}

/// Checks an optional `limit` against its range and applies the default.
pub fn page_limit(limit: Option<i64>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(DEFAULT_PAGE_LIMIT),
        Some(n) if (1..=MAX_PAGE_LIMIT as i64).contains(&n) => Ok(n as usize),
        Some(n) => Err(ApiError::bad_request(format!("limit must be between 1 and {MAX_PAGE_LIMIT} (got {n})"))),
    }
}

pub const DEFAULT_PAGE_LIMIT: usize = 100;
pub const MAX_PAGE_LIMIT: usize = 1000;

/// A message as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub sender: Identifier,
    pub recipient: Identifier,
    pub timestamp: Timestamp,
    pub message: String,
    /// The group a group message was sent to; its `recipient` is then the
    /// member it is shown to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupId>,
}

impl Message {
    /// Whether the message is read: at or before its pair's read horizon.
    pub fn is_read(&self, horizon: Option<Timestamp>) -> bool {
        horizon.is_some_and(|horizon| self.timestamp <= horizon)
    }
}

/// A message as fetch_messages shows it: with whether it was read, that is
/// returned by fetch_new_messages or covered by mark_read. The sender sees
/// the same flag on what they sent: a delivery receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShownMessage {
    #[serde(flatten)]
    pub message: Message,
    pub read: bool,
}

impl ShownMessage {
    /// `message`, read when its pair's read horizon (`through`) reaches it.
    pub fn new(message: Message, through: Option<Timestamp>) -> Self {
        Self { read: message.is_read(through), message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_text_limits() {
        assert!(validate_message_text("hi", 10).is_ok());
        assert!(validate_message_text("line\nbreak\ttab", 20).is_ok());
        assert!(validate_message_text("ééééé", 5).is_ok());
        assert_eq!(validate_message_text("", 10).unwrap_err().status(), 400);
        assert_eq!(validate_message_text("ééééé", 4).unwrap_err().status(), 400);
        assert_eq!(validate_message_text("bell\u{7}", 10).unwrap_err().status(), 400);
    }

    #[test]
    fn page_limits() {
        assert_eq!(page_limit(None).unwrap(), 100);
        assert_eq!(page_limit(Some(1)).unwrap(), 1);
        assert_eq!(page_limit(Some(1000)).unwrap(), 1000);
        assert!(page_limit(Some(0)).is_err());
        assert!(page_limit(Some(1001)).is_err());
        assert!(page_limit(Some(-5)).is_err());
    }

    #[test]
    fn a_message_deserializes_only_with_valid_parts() {
        let read = |sender: &str, timestamp: &str| {
            let json =
                serde_json::json!({"sender": sender, "recipient": "bob", "timestamp": timestamp, "message": "hi"});
            serde_json::from_value::<Message>(json)
        };
        assert!(read("alice", "2026-11-21T10:15:30.123456Z").is_ok());
        for (sender, timestamp) in
            [("ab", "2026-11-21T10:15:30Z"), ("bob#1", "2026-11-21T10:15:30Z"), ("alice", "2026-11-21")]
        {
            assert!(read(sender, timestamp).is_err(), "{sender:?} {timestamp:?}");
        }
    }
}
