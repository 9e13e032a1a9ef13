//! Group identifiers and names.

use std::fmt;

use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// The random bytes of a group id: 128 bits, so ids cannot be guessed.
const GROUP_ID_BYTES: usize = 16;
pub const GROUP_NAME_MAX_CHARS: usize = 100;
/// DynamoDB's cap on the items of one transaction (100) bounds how many
/// members one request can add: each member is a few items of its join.
pub const MAX_MEMBERS_PER_REQUEST: usize = 32;
pub const MAX_GROUP_MEMBERS: usize = 1000;

/// A group's id: 32 lowercase hex digits, random and opaque.
///
/// Deserializing one goes through [`GroupId::parse`], as for identifiers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct GroupId(String);

impl GroupId {
    pub fn random() -> Self {
        let mut bytes = [0u8; GROUP_ID_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
    }

    pub fn parse(field: &str, value: &str) -> Result<Self, ApiError> {
        let well_formed = value.len() == 2 * GROUP_ID_BYTES
            && value.bytes().all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
        if !well_formed {
            return Err(ApiError::bad_request(format!(
                "{field} must be a group id as create_group returned it (32 lowercase hex digits)"
            )));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for GroupId {
    type Error = ApiError;

    fn try_from(value: String) -> Result<Self, ApiError> {
        Self::parse("group", &value)
    }
}

/// Checks a group's name: 1 to 100 characters, no control characters.
pub fn validate_group_name(name: &str) -> Result<(), ApiError> {
    let chars = name.chars().count();
    if name.trim().is_empty() || chars > GROUP_NAME_MAX_CHARS {
        return Err(ApiError::bad_request(format!(
            "name must be 1 to {GROUP_NAME_MAX_CHARS} characters long and not blank (got {chars})"
        )));
    }
    if let Some(bad) = name.chars().find(|c| c.is_control()) {
        return Err(ApiError::bad_request(format!("name may not contain control characters (found {bad:?})")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_ids_are_random_and_parse_back() {
        let (one, two) = (GroupId::random(), GroupId::random());
        assert_ne!(one, two);
        assert_eq!(GroupId::parse("group", one.as_str()).unwrap(), one);
    }

    #[test]
    fn group_ids_reject_anything_else() {
        let upper = "A".repeat(32);
        for bad in ["", "abc", &"g".repeat(32), &upper, &"a".repeat(33), "0123456789abcdef0123456789abcde#"] {
            let err = GroupId::parse("group", bad).unwrap_err();
            assert_eq!(err.status(), 400, "{bad:?}");
        }
    }

    #[test]
    fn group_names() {
        assert!(validate_group_name("Team ☕").is_ok());
        assert!(validate_group_name(&"n".repeat(100)).is_ok());
        for bad in ["", "   ", &"n".repeat(101), "tab\there"] {
            assert_eq!(validate_group_name(bad).unwrap_err().status(), 400, "{bad:?}");
        }
    }
}
