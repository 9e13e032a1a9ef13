//! Rate-limit counters (`RATE#<kind>#<subject>`, `<window start>`): how
//! many requests of one kind a subject (a sender's login, a source
//! address) made in one fixed window, kept until shortly after the window
//! ends, when DynamoDB's TTL sweep may remove it.
//!
//! Counting is one conditional UpdateItem of a small item, outside any
//! transaction: on AWS a single write and a transaction on one item cancel
//! each other, and only the subject's own requests touch its counter, so
//! no two senders ever share one.

use super::capacity::Counted;
use super::{key, n, Store, StoreError};
use crate::model::Timestamp;

/// How long a counter outlives its window before TTL may sweep it.
const TTL_MARGIN_SECONDS: i64 = 60;

/// A limit on one kind of request: at most `max` per `window_seconds`;
/// `max` 0 turns it off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    kind: &'static str,
    max: u32,
    window_seconds: i64,
}

impl RateLimit {
    /// Sends per sender per minute.
    pub fn sends_per_minute(max: u32) -> Self {
        Self { kind: "send", max, window_seconds: 60 }
    }

    /// Registrations per source address per hour.
    pub fn registrations_per_hour(max: u32) -> Self {
        Self { kind: "register", max, window_seconds: 60 * 60 }
    }
}

/// Whether a request was within its limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rated {
    Allowed,
    /// Over the limit: try again in `retry_after` seconds, when the next
    /// window starts.
    Limited {
        retry_after: u32,
    },
}

/// The fixed window that holds `now`: its start, and the seconds until it
/// ends (at least 1, so a client told to wait does wait).
fn window(now: i64, window_seconds: i64) -> (i64, u32) {
    let start = now - now.rem_euclid(window_seconds);
    let left = start + window_seconds - now;
    (start, u32::try_from(left).unwrap_or(u32::MAX).max(1))
}

impl Store {
    /// Counts one request of `limit`'s kind by `subject`, unless the
    /// subject's window is already full. Costs one small write when
    /// allowed (a refused condition costs one too) and nothing when the
    /// limit is off.
    pub async fn rate(&self, limit: RateLimit, subject: &str) -> Result<Rated, StoreError> {
        if limit.max == 0 {
            return Ok(Rated::Allowed);
        }
        let (start, retry_after) = window(Timestamp::now().unix_seconds(), limit.window_seconds);
        let counted = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("RATE#{}#{subject}", limit.kind), start.to_string())))
            // `count` and `ttl` are reserved words.
            .update_expression("ADD #count :one SET #ttl = if_not_exists(#ttl, :ttl)")
            .condition_expression("attribute_not_exists(#count) OR #count < :max")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(limit.max))
            .expression_attribute_values(":ttl", n(start + limit.window_seconds + TTL_MARGIN_SECONDS))
            .counted()
            .await;
        match counted {
            Ok(_) => Ok(Rated::Allowed),
            Err(error) if error.is_failed_condition() => Ok(Rated::Limited { retry_after }),
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_start_on_their_multiple_and_say_when_they_end() {
        let cases = [
            // (now, window, start, retry after)
            (120, 60, 120, 60),
            (121, 60, 120, 59),
            (179, 60, 120, 1),
            (180, 60, 180, 60),
            (0, 60, 0, 60),
            (7_199, 3_600, 3_600, 1),
            (1_795_256_130, 3_600, 1_795_255_200, 2_670),
            // Before 1970 the window still holds `now`.
            (-1, 60, -60, 1),
        ];
        for (now, seconds, start, retry_after) in cases {
            assert_eq!(window(now, seconds), (start, retry_after), "{now} in windows of {seconds} s");
        }
    }
}
