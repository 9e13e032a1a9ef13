//! Bearer tokens and passwords.
//!
//! Tokens are 256 random bits, shown to the client once and stored only as
//! their SHA-256 hash (a fast hash suffices for random secrets). Passwords
//! are stored as argon2id hashes.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use lambda_http::Request;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::app::App;
use crate::error::ApiError;
use crate::http::bearer_token;
use crate::model::{Identifier, Timestamp};
use crate::store::TokenRecord;

pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 1024;
/// Longer than any token we issue; anything longer is not worth a lookup.
const TOKEN_MAX_CHARS: usize = 256;

/// The authenticated party of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub login: Identifier,
    pub token_hash: String,
}

/// A freshly issued token: the secret for the client, the record to store.
pub struct IssuedToken {
    pub token: String,
    pub record: TokenRecord,
}

pub fn token_hash(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

/// 256 random bits, URL-safe.
fn random_secret() -> String {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    URL_SAFE_NO_PAD.encode(secret)
}

pub fn issue_token(login: &Identifier, lifetime_seconds: i64) -> IssuedToken {
    let token = random_secret();
    let record = TokenRecord {
        hash: token_hash(&token),
        login: login.clone(),
        expires_at: Timestamp::now().plus_seconds(lifetime_seconds),
    };
    IssuedToken { token, record }
}

/// How long a WebSocket ticket may wait for its `$connect`.
pub const TICKET_LIFETIME_SECONDS: i64 = 60;

/// A ticket for opening the WebSocket: the secret travels in the socket's
/// URL (which a bearer token never should), is good for one `$connect`
/// within [`TICKET_LIFETIME_SECONDS`], and is stored only as its hash.
pub struct IssuedTicket {
    pub ticket: String,
    pub hash: String,
    pub expires_at: Timestamp,
}

pub fn issue_ticket() -> IssuedTicket {
    let ticket = random_secret();
    IssuedTicket {
        hash: token_hash(&ticket),
        ticket,
        expires_at: Timestamp::now().plus_seconds(TICKET_LIFETIME_SECONDS),
    }
}

/// Checks `Authorization: Bearer <token>`: the token must be known, not
/// revoked and not expired. Every failure reads the same to the client.
pub async fn authenticate(app: &App, request: &Request) -> Result<Caller, ApiError> {
    let token = bearer_token(request.headers())
        .ok_or_else(|| ApiError::Unauthorized("missing bearer token: send Authorization: Bearer <token>".into()))?;
    let invalid = || ApiError::Unauthorized("invalid or expired token; log in again".into());
    if token.len() > TOKEN_MAX_CHARS {
        return Err(invalid());
    }
    let hash = token_hash(token);
    let record = app.store.token(&hash).await?.ok_or_else(invalid)?;
    if record.expires_at <= Timestamp::now() {
        return Err(invalid());
    }
    tracing::Span::current().record("caller", record.login.as_str());
    Ok(Caller { login: record.login, token_hash: hash })
}

pub fn validate_password(password: &str) -> Result<(), ApiError> {
    let chars = password.chars().count();
    if !(PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&chars) {
        return Err(ApiError::bad_request(format!(
            "password must be {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters long"
        )));
    }
    Ok(())
}

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let mut salt_bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|error| ApiError::Internal(format!("password salt encoding failed: {error}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| ApiError::Internal(format!("password hashing failed: {error}")))
}

/// The hash verified when there is none to verify: argon2id of a random
/// password that was thrown away, with exactly the parameters of
/// `Argon2::default()` (a test holds them equal), so it costs what a real
/// verification costs from the first call on. Hashing a decoy at run time
/// made the first unknown login in each container take twice as long.
const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$ZdhoKHaW8xjrBJkKelDxTA$GVP8NZXEhw9VzWt3h1ksbfpE2FTC9jdT6ctQ2xwCqsA";

/// Verifies a password against a stored hash. Without a hash (no such user,
/// or a user without a password) it still does the work of a verification,
/// so the response time does not tell which logins exist.
pub fn verify_password(password: &str, stored_hash: Option<&str>) -> bool {
    let (hash, real) = match stored_hash {
        Some(hash) => (hash, true),
        None => (DECOY_HASH, false),
    };
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let matches = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
    real && matches
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::Params;

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let login = Identifier::parse("login", "alice").unwrap();
        let a = issue_token(&login, 60);
        let b = issue_token(&login, 60);
        assert_ne!(a.token, b.token);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a.token).unwrap().len(), 32);
        assert_eq!(a.record.hash, token_hash(&a.token));
        assert_ne!(a.record.hash, a.token);
        assert!(a.record.expires_at > Timestamp::now());
    }

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", Some(&hash)));
        assert!(!verify_password("wrong horse", Some(&hash)));
        assert!(!verify_password("decoy password", None));
        assert!(!verify_password("correct horse", Some("not a hash")));
    }

    #[test]
    fn the_decoy_costs_what_a_fresh_hash_costs() {
        let decoy = PasswordHash::new(DECOY_HASH).expect("the decoy parses");
        let fresh_text = hash_password("correct horse").unwrap();
        let fresh = PasswordHash::new(&fresh_text).unwrap();
        assert_eq!(decoy.algorithm, fresh.algorithm);
        assert_eq!(decoy.version, fresh.version);
        assert_eq!(Params::try_from(&decoy).unwrap(), Params::try_from(&fresh).unwrap());
        assert_eq!(decoy.salt.map(|s| s.len()), fresh.salt.map(|s| s.len()));
        assert_eq!(decoy.hash.map(|h| h.len()), fresh.hash.map(|h| h.len()));
    }

    #[test]
    fn password_length_rules() {
        assert!(validate_password("12345678").is_ok());
        assert_eq!(validate_password("short").unwrap_err().status(), 400);
        assert_eq!(validate_password(&"x".repeat(1025)).unwrap_err().status(), 400);
    }
}
