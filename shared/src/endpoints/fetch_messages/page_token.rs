//! The opaque `next` token of a period page.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::model::Timestamp;
use crate::store::MailboxRange;

/// The opaque `next` token: where the previous page ended, and a
/// fingerprint of the query it belongs to. Both are readable and a client
/// can rewrite them, so the fingerprint only catches a token sent with
/// other fields by mistake; what keeps a rewritten token inside its query
/// is that `after` must lie in the query's period (any such `after` gives
/// a page the client could ask for with `period_start` anyway). No server
/// secret is needed, so there is no key to keep or rotate on Lambda.
#[derive(Debug, Serialize, Deserialize)]
struct PageToken {
    after: Timestamp,
    query: String,
}

/// Everything that defines a page: whose messages (of which group), which
/// period, read or unread ones, how many.
fn query_fingerprint(range: &MailboxRange<'_>, read: Option<bool>, limit: usize) -> String {
    let mut query = json!({
        "recipient": range.recipient, "sender": range.sender, "from": range.from, "to": range.to, "limit": limit,
    });
    // Only when given, so the tokens of unfiltered pages stay as they were.
    if let Some(read) = read {
        query["read"] = json!(read);
    }
    if let Some(group) = range.group {
        query["group"] = json!(group);
    }
    let digest = Sha256::digest(query.to_string().as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..12])
}

pub(super) fn encode_next(after: Timestamp, range: &MailboxRange<'_>, read: Option<bool>, limit: usize) -> String {
    let token = PageToken { after, query: query_fingerprint(range, read, limit) };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).expect("token serializes"))
}

/// The first instant of the page that `next` asks for. `after` must lie in
/// the query's period and not be the latest instant (no page follows it);
/// deserializing it refuses a year past 9999.
pub(super) fn decode_next(
    next: &str,
    range: &MailboxRange<'_>,
    read: Option<bool>,
    limit: usize,
) -> Result<Timestamp, ApiError> {
    let invalid = || {
        ApiError::bad_request(
            "next is not a token this API issued for this query; send it back with the same other fields",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(next).map_err(|_| invalid())?;
    let token: PageToken = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let in_period = range.from.is_none_or(|from| from <= token.after) && range.to.is_none_or(|to| token.after <= to);
    if token.query != query_fingerprint(range, read, limit) || !in_period {
        return Err(invalid());
    }
    token.after.checked_next().ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GroupId, Identifier};

    fn at(text: &str) -> Timestamp {
        Timestamp::parse("t", text).unwrap()
    }

    #[test]
    fn next_tokens_page_only_the_query_they_came_from() {
        let (alice, bob) = (Identifier::parse("r", "alice").unwrap(), Identifier::parse("s", "bob").unwrap());
        let group = GroupId::parse("group", &"a".repeat(32)).unwrap();
        let from = Some(at("2026-01-01T00:00:00Z"));
        let range =
            MailboxRange { recipient: &alice, group: None, sender: None, from, to: Some(at("2026-12-31T00:00:00Z")) };
        let token = encode_next(at("2026-06-01T00:00:00Z"), &range, None, 10);
        assert_eq!(decode_next(&token, &range, None, 10).unwrap(), at("2026-06-01T00:00:00.000001Z"));
        for (other, limit, why) in [
            (MailboxRange { recipient: &bob, ..range }, 10, "another recipient"),
            (MailboxRange { sender: Some(&bob), ..range }, 10, "another sender"),
            (MailboxRange { from: None, ..range }, 10, "another period_start"),
            (MailboxRange { to: None, ..range }, 10, "another period_end"),
            (MailboxRange { group: Some(&group), ..range }, 10, "a group's"),
            (range, 11, "another limit"),
        ] {
            assert_eq!(decode_next(&token, &other, None, limit).unwrap_err().status(), 400, "{why}");
        }
        let filters = [None, Some(false), Some(true)];
        for issued_for in filters {
            let token = encode_next(at("2026-06-01T00:00:00Z"), &range, issued_for, 10);
            for sent_with in filters {
                let decoded = decode_next(&token, &range, sent_with, 10);
                assert_eq!(decoded.is_ok(), issued_for == sent_with, "read {issued_for:?}, sent with {sent_with:?}");
            }
        }
    }

    #[test]
    fn next_tokens_rewritten_outside_their_period_are_refused() {
        let alice = Identifier::parse("r", "alice").unwrap();
        let open = MailboxRange { recipient: &alice, group: None, sender: None, from: None, to: None };
        let period =
            MailboxRange { from: Some(at("2026-01-01T00:00:00Z")), to: Some(at("2026-12-31T00:00:00Z")), ..open };
        // A client can rewrite `after` and recompute the fingerprint.
        let rewritten = |range: &MailboxRange<'_>, after: &str| {
            let token = json!({"after": after, "query": query_fingerprint(range, None, 10)});
            decode_next(&URL_SAFE_NO_PAD.encode(token.to_string()), range, None, 10)
        };
        for (range, after, resumes_at) in [
            (period, "2026-01-01T00:00:00.000000Z", Some("2026-01-01T00:00:00.000001Z")),
            (period, "2026-12-31T00:00:00.000000Z", Some("2026-12-31T00:00:00.000001Z")),
            (period, "2025-12-31T23:59:59.999999Z", None),
            (period, "2026-12-31T00:00:00.000001Z", None),
            (period, "9999-12-31T23:59:59.999999Z", None),
            (open, "9999-12-31T23:59:59.999998Z", Some("9999-12-31T23:59:59.999999Z")),
            (open, "9999-12-31T23:59:59.999999Z", None),
            (open, "+10000-01-01T00:00:00.000000Z", None),
            (open, "10000-01-01T00:00:00.000000Z", None),
            (open, "0000-12-31T23:59:59.999999Z", None),
        ] {
            match (rewritten(&range, after), resumes_at) {
                (Ok(resumed), Some(expected)) => assert_eq!(resumed, at(expected), "{after}"),
                (Err(error), None) => assert_eq!(error.status(), 400, "{after}"),
                (outcome, expected) => panic!("{after}: {outcome:?}, expected {expected:?}"),
            }
        }
    }
}
