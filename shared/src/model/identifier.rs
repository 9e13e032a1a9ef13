//! Identifiers: logins, senders and recipients.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ApiError;

pub const IDENTIFIER_MIN_CHARS: usize = 3;
pub const IDENTIFIER_MAX_CHARS: usize = 128;

/// A login, sender or recipient: 3 to 128 characters of ASCII letters,
/// digits and `. _ - + @`, so user names, e-mail addresses and phone
/// numbers all fit. None of them is `#`, which the storage keys use as a
/// separator.
///
/// Deserializing one goes through [`Identifier::parse`], so no value read
/// from a request or from storage skips the check.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct Identifier(String);

impl Identifier {
    pub fn parse(field: &str, value: &str) -> Result<Self, ApiError> {
        let chars = value.chars().count();
        if !(IDENTIFIER_MIN_CHARS..=IDENTIFIER_MAX_CHARS).contains(&chars) {
            return Err(ApiError::bad_request(format!(
                "{field} must be {IDENTIFIER_MIN_CHARS} to {IDENTIFIER_MAX_CHARS} characters long (got {chars})"
            )));
        }
        if let Some(bad) = value.chars().find(|c| !is_identifier_char(*c)) {
            return Err(ApiError::bad_request(format!(
                "{field} may only contain ASCII letters, digits and . _ - + @ (found {bad:?})"
            )));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_identifier_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '@')
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Identifier {
    type Error = ApiError;

    fn try_from(value: String) -> Result<Self, ApiError> {
        Self::parse("identifier", &value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_accept_names_emails_and_phone_numbers() {
        for ok in ["bob", "alice.smith@example.com", "+46701234567", "a_b-c", &"x".repeat(128)] {
            assert_eq!(Identifier::parse("login", ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn identifiers_reject_bad_lengths_and_characters() {
        for bad in ["ab", "", &"x".repeat(129), "bob smith", "bob#1", "bö b", "bob\n", "a/b"] {
            let err = Identifier::parse("login", bad).unwrap_err();
            assert_eq!(err.status(), 400, "{bad:?}");
            assert!(err.to_string().starts_with("login "), "{err}");
        }
    }
}
