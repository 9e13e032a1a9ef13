//! Reading requests and writing responses: JSON bodies with their size and
//! content-type rules, headers, and the JSON shape of every reply.

use lambda_http::http::header::{CONTENT_TYPE, RETRY_AFTER};
use lambda_http::http::{HeaderMap, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::ApiError;

pub const MAX_BODY_BYTES: usize = 64 * 1024;
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
pub const IDEMPOTENCY_KEY_MAX_CHARS: usize = 128;

/// Parses the body as a JSON object into `T`. An absent body reads as `{}`,
/// so endpoints whose fields are all optional accept it, and the others
/// name the missing field.
pub fn json_body<T: DeserializeOwned>(request: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = request.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge(MAX_BODY_BYTES));
    }
    // No body is no fields; a body of only spaces is not JSON.
    if bytes.is_empty() {
        return serde_json::from_str("{}").map_err(body_error);
    }
    if !is_json_content_type(request.headers()) {
        return Err(ApiError::UnsupportedMediaType);
    }
    // serde would also read a JSON array into a struct, positionally; the
    // contract is an object with named fields.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(ApiError::bad_request("request body must be a JSON object"));
    }
    serde_json::from_slice(bytes).map_err(body_error)
}

fn body_error(error: serde_json::Error) -> ApiError {
    ApiError::bad_request(format!("invalid request body: {error}"))
}

fn is_json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case("application/json"))
}

/// The value of `Authorization: Bearer <token>`, if the header has that form.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The optional `Idempotency-Key` header: 1 to 128 visible ASCII characters.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY_HEADER) else {
        return Ok(None);
    };
    let invalid = || {
        ApiError::bad_request(format!(
            "Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX_CHARS} visible ASCII characters"
        ))
    };
    let key = value.to_str().map_err(|_| invalid())?;
    let visible = key.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
    if key.trim().is_empty() || key.len() > IDEMPOTENCY_KEY_MAX_CHARS || !visible {
        return Err(invalid());
    }
    Ok(Some(key.to_owned()))
}

pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response<Body> {
    let text = serde_json::to_string(body).expect("response types serialize");
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .body(Body::Text(text))
        .expect("static response parts are valid")
}

pub fn error_response(error: &ApiError) -> Response<Body> {
    let mut response = json_response(error.status_code(), &serde_json::json!({ "error": error.to_string() }));
    if let Some(seconds) = error.retry_after() {
        response.headers_mut().insert(RETRY_AFTER, seconds.into());
    }
    response
}

/// Turns a handler's outcome into the response sent.
pub fn respond(outcome: Result<Response<Body>, ApiError>) -> Response<Body> {
    outcome.unwrap_or_else(|error| {
        match &error {
            // A store error's text carries its whole cause chain.
            ApiError::Unavailable(source) => tracing::warn!(error = %source, "database unavailable"),
            ApiError::OutcomeUnknown { source, .. } => tracing::warn!(error = %source, "outcome unknown"),
            ApiError::Internal(detail) => tracing::error!(%detail, "internal error"),
            _ => {}
        }
        error_response(&error)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::HeaderValue;

    fn request(content_type: Option<&str>, body: &str) -> Request {
        let mut builder = lambda_http::http::Request::builder().method("POST").uri("/x");
        if let Some(content_type) = content_type {
            builder = builder.header(CONTENT_TYPE, content_type);
        }
        builder.body(Body::from(body)).unwrap()
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        #[allow(dead_code)]
        login: String,
    }

    #[test]
    fn json_body_rules() {
        let ok = json_body::<Sample>(&request(Some("application/json; charset=utf-8"), r#"{"login":"bob"}"#));
        assert!(ok.is_ok());
        let cases = [
            (Some("text/plain"), r#"{"login":"bob"}"#, 415),
            (None, r#"{"login":"bob"}"#, 415),
            (Some("application/json"), r#"["bob"]"#, 400),
            (Some("application/json"), r#"{"login":"bob","logn":"x"}"#, 400),
            (Some("application/json"), r#"{"login":"bob","login":"eve"}"#, 400),
            (Some("application/json"), r#"{"login":5}"#, 400),
            (Some("application/json"), r#"{"login":"#, 400),
            (None, "", 400),
            (Some("application/json"), "\t", 400),
        ];
        for (content_type, body, status) in cases {
            let err = json_body::<Sample>(&request(content_type, body)).unwrap_err();
            assert_eq!(err.status(), status, "{body}");
        }
        let binary = lambda_http::http::Request::builder()
            .header(CONTENT_TYPE, "application/json")
            .body(Body::Binary(b"{\"login\":\"\xff\xfe\"}".to_vec()))
            .unwrap();
        assert_eq!(json_body::<Sample>(&binary).unwrap_err().status(), 400, "not UTF-8");
        let big = format!(r#"{{"login":"{}"}}"#, "x".repeat(MAX_BODY_BYTES));
        assert_eq!(json_body::<Sample>(&request(Some("application/json"), &big)).unwrap_err().status(), 413);
        let typo = json_body::<Sample>(&request(Some("application/json"), r#"{"logn":"x"}"#)).unwrap_err();
        assert!(typo.to_string().contains("logn"), "{typo}");
    }

    #[test]
    fn bearer_tokens() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer_token(&headers), None);
        headers.insert("authorization", HeaderValue::from_static("Bearer abc"));
        assert_eq!(bearer_token(&headers), Some("abc"));
        headers.insert("authorization", HeaderValue::from_static("bearer  abc "));
        assert_eq!(bearer_token(&headers), Some("abc"));
        headers.insert("authorization", HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&headers), None);
        headers.insert("authorization", HeaderValue::from_static("Bearer"));
        assert_eq!(bearer_token(&headers), None);
    }

    #[test]
    fn idempotency_keys() {
        let mut headers = HeaderMap::new();
        assert_eq!(idempotency_key(&headers).unwrap(), None);
        headers.insert(IDEMPOTENCY_KEY_HEADER, HeaderValue::from_static("k-1"));
        assert_eq!(idempotency_key(&headers).unwrap().as_deref(), Some("k-1"));
        headers.insert(IDEMPOTENCY_KEY_HEADER, HeaderValue::from_str(&"k".repeat(129)).unwrap());
        assert!(idempotency_key(&headers).is_err());
        headers.insert(IDEMPOTENCY_KEY_HEADER, HeaderValue::from_static(" "));
        assert!(idempotency_key(&headers).is_err());
    }

    #[test]
    fn errors_are_json_with_retry_after_on_429_and_503() {
        let response = error_response(&ApiError::bad_request("login is missing"));
        assert_eq!(response.status(), 400);
        let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        assert_eq!(body, serde_json::json!({"error": "login is missing"}));
        assert!(response.headers().get(RETRY_AFTER).is_none());
        let unavailable = error_response(&ApiError::Unavailable(crate::store::StoreError::Contention));
        assert_eq!(unavailable.status(), 503);
        assert_eq!(unavailable.headers()[RETRY_AFTER], "1");
        let limited = error_response(&ApiError::TooManyRequests { message: "too many sends".into(), retry_after: 42 });
        assert_eq!(limited.status(), 429);
        assert_eq!(limited.headers()[RETRY_AFTER], "42");
        let body: serde_json::Value = serde_json::from_slice(limited.body().as_ref()).unwrap();
        assert_eq!(body, serde_json::json!({"error": "too many sends; retry after 42 s"}));
    }
}
