//! Timestamps: instants with microsecond precision, in UTC.

use std::fmt;

use chrono::{DateTime, Duration, NaiveDateTime, SubsecRound, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ApiError;

/// A point in time with microsecond precision, always UTC. Its canonical
/// text form (`2026-11-21T10:15:30.123456Z`) has a fixed width, so text
/// order is time order: storage sort keys rely on that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// The earliest and latest instants whose canonical form keeps the
    /// fixed width (four-digit years). Past them chrono writes `+10000-…`,
    /// which sorts before `2026-…` in a storage key.
    const EARLIEST: &'static str = "0001-01-01T00:00:00Z";
    const LATEST: &'static str = "9999-12-31T23:59:59.999999Z";

    fn bounds() -> (DateTime<Utc>, DateTime<Utc>) {
        let min = DateTime::parse_from_rfc3339(Self::EARLIEST).expect("valid literal");
        let max = DateTime::parse_from_rfc3339(Self::LATEST).expect("valid literal");
        (min.to_utc(), max.to_utc())
    }

    /// The instant as a `Timestamp`, if it lies within the bounds.
    fn bounded(instant: DateTime<Utc>) -> Option<Self> {
        let (min, max) = Self::bounds();
        (min..=max).contains(&instant).then_some(Self(instant))
    }

    pub fn now() -> Self {
        Self(Utc::now().trunc_subsecs(6))
    }

    /// Reads RFC 3339 input leniently: the offset may be missing (read as
    /// UTC) or another one (converted), with 0 to 9 fraction digits (cut to
    /// microseconds).
    pub fn parse(field: &str, value: &str) -> Result<Self, ApiError> {
        let invalid = || {
            ApiError::bad_request(format!(
                "{field} must be an RFC 3339 timestamp such as 2026-11-21T10:15:30.123456Z (got {value:?})"
            ))
        };
        let out_of_range = || {
            ApiError::bad_request(format!(
                "{field} must lie between {} and {} (got {value:?})",
                Self::EARLIEST,
                Self::LATEST
            ))
        };
        if has_long_or_signed_year(value) {
            return Err(out_of_range());
        }
        if !has_timestamp_shape(value) {
            return Err(invalid());
        }
        let parsed = match DateTime::parse_from_rfc3339(value) {
            Ok(with_offset) => with_offset.to_utc(),
            Err(_) => NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f").map_err(|_| invalid())?.and_utc(),
        };
        Self::bounded(parsed.trunc_subsecs(6)).ok_or_else(out_of_range)
    }

    /// For values read back from storage, which were written canonically.
    pub(crate) fn from_stored(value: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(value).ok().and_then(|t| Self::bounded(t.to_utc()))
    }

    /// The next representable instant, if any: "after T" is "at or after
    /// T + 1µs", and nothing comes after the latest instant.
    pub fn checked_next(self) -> Option<Self> {
        Self::bounded(self.0 + Duration::microseconds(1))
    }

    /// The next instant, or the latest one itself rather than a year 10000
    /// that would sort first: for the store, whose timestamps come from the
    /// clock and so never reach the latest instant.
    pub fn next(self) -> Self {
        self.checked_next().unwrap_or(self)
    }

    pub fn minus_days(self, days: i64) -> Self {
        Self(self.0 - Duration::days(days))
    }

    pub fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0 + Duration::seconds(seconds))
    }

    pub fn unix_seconds(self) -> i64 {
        self.0.timestamp()
    }

    /// The instant before: "before T" is "at or before T - 1µs".
    pub fn previous(self) -> Self {
        Self(self.0 - Duration::microseconds(1))
    }
}

/// A year with a sign or more than four digits (`+10000-01-01…`,
/// `-0001-…`): a timestamp outside the bounds rather than a malformed one.
fn has_long_or_signed_year(value: &str) -> bool {
    let unsigned = value.trim_start_matches(['+', '-']);
    let digits = unsigned.bytes().take_while(u8::is_ascii_digit).count();
    let signed = unsigned.len() < value.len();
    digits >= 4 && unsigned.as_bytes().get(digits) == Some(&b'-') && (signed || digits > 4)
}

/// `YYYY-MM-DDTHH:MM:SS`, then an optional fraction of 1 to 9 digits, then
/// `Z`, an offset `±HH:MM`, or nothing (the shape openapi.yaml documents;
/// chrono checks the values).
fn has_timestamp_shape(value: &str) -> bool {
    let bytes = value.as_bytes();
    let digits = |range: std::ops::Range<usize>| bytes.get(range).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let date_time = digits(0..4)
        && bytes.get(4) == Some(&b'-')
        && digits(5..7)
        && bytes.get(7) == Some(&b'-')
        && digits(8..10)
        && bytes.get(10) == Some(&b'T')
        && digits(11..13)
        && bytes.get(13) == Some(&b':')
        && digits(14..16)
        && bytes.get(16) == Some(&b':')
        && digits(17..19);
    if !date_time {
        return false;
    }
    let mut rest = &bytes[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let count = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if !(1..=9).contains(&count) {
            return false;
        }
        rest = &fraction[count..];
    }
    match rest {
        [] | [b'Z'] => true,
        [sign, h1, h2, b':', m1, m2] => {
            matches!(sign, b'+' | b'-') && [h1, h2, m1, m2].iter().all(|b| b.is_ascii_digit())
        }
        _ => false,
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%dT%H:%M:%S%.6fZ"))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse("timestamp", &text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_normalised_to_utc_microseconds() {
        let cases = [
            ("2026-11-21T10:15:30.123456Z", "2026-11-21T10:15:30.123456Z"),
            ("2026-11-21T10:15:30Z", "2026-11-21T10:15:30.000000Z"),
            ("2026-11-21T10:15:30.123456789Z", "2026-11-21T10:15:30.123456Z"),
            ("2026-11-21T10:15:30.1", "2026-11-21T10:15:30.100000Z"),
            ("2026-11-21T10:15:30", "2026-11-21T10:15:30.000000Z"),
            ("2026-11-21T12:15:30.5+02:00", "2026-11-21T10:15:30.500000Z"),
            ("2026-11-21T00:15:30-01:30", "2026-11-21T01:45:30.000000Z"),
        ];
        for (input, canonical) in cases {
            assert_eq!(Timestamp::parse("timestamp", input).unwrap().to_string(), canonical, "{input}");
        }
    }

    #[test]
    fn timestamps_reject_garbage() {
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-21",
            "1637029963",
            "2026-11-21T25:00:00Z",
            "2026-11-21 10:15:30Z",
            "2026-11-21t10:15:30z",
            "2026-11-21T10:15:30.Z",
            "2026-11-21T10:15:30.1234567891Z",
            "2026-11-21T10:15:30+0100",
            "2026-11-21T10:15:30Z ",
        ] {
            assert_eq!(Timestamp::parse("period_start", bad).unwrap_err().status(), 400, "{bad:?}");
        }
    }

    #[test]
    fn timestamps_past_the_year_9999_are_out_of_range() {
        for bad in [
            "+10000-01-01T00:00:00Z",
            "10000-01-01T00:00:00Z",
            "+2026-11-21T10:15:30Z",
            "-0001-01-01T00:00:00Z",
            "0000-12-31T23:59:59Z",
            "9999-12-31T23:59:59.999999-00:01",
            "0001-01-01T00:00:00+00:01",
        ] {
            let err = Timestamp::parse("period_end", bad).unwrap_err();
            assert_eq!(err.status(), 400, "{bad:?}");
            let expected = "period_end must lie between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z";
            assert!(err.to_string().starts_with(expected), "{bad:?}: {err}");
        }
        for edge in ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.9999999Z"] {
            assert!(Timestamp::parse("period_end", edge).is_ok(), "{edge:?}");
        }
    }

    #[test]
    fn deserializing_checks_like_parse() {
        let read = |text: &str| serde_json::from_value::<Timestamp>(serde_json::json!(text));
        assert_eq!(read("2026-11-21T10:15:30.123456Z").unwrap().to_string(), "2026-11-21T10:15:30.123456Z");
        for bad in ["+10000-01-01T00:00:00.000000Z", "0000-01-01T00:00:00.000000Z", "2026-11-21"] {
            assert!(read(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn nothing_comes_after_the_latest_instant() {
        let latest = Timestamp::parse("t", "9999-12-31T23:59:59.999999Z").unwrap();
        assert_eq!(latest.checked_next(), None);
        assert_eq!(latest.next(), latest);
        let before = Timestamp::parse("t", "9999-12-31T23:59:59.999998Z").unwrap();
        assert_eq!(before.checked_next(), Some(latest));
    }

    #[test]
    fn canonical_text_order_is_time_order() {
        let a = Timestamp::parse("t", "2026-11-21T10:15:30.9Z").unwrap();
        let b = Timestamp::parse("t", "2026-11-21T10:15:31Z").unwrap();
        assert!(a < b);
        assert!(a.to_string() < b.to_string());
        assert_eq!(a.next().to_string(), "2026-11-21T10:15:30.900001Z");
    }
}
