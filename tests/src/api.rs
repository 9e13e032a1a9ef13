//! A small client for the API over HTTP. The base URL comes from
//! `MESSENGER_API_URL`, so the same tests run against `cargo lambda watch`
//! and against a deployed stack. Every response is checked against
//! `openapi.yaml`.

use std::time::Duration;

use rand::Rng;
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;

pub const API_URL_VARIABLE: &str = "MESSENGER_API_URL";

#[derive(Clone)]
pub struct Api {
    base: String,
    http: reqwest::Client,
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The `error` text of an error reply.
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_else(|| panic!("no error text in {:?}", self.body))
    }
}

/// How often a request whose reply the emulator lost is sent in all.
const EMULATOR_ATTEMPTS: usize = 5;

/// The emulator's own error (an RFC 7807 problem), never one of ours: every
/// error this API sends is `{"error": ...}`. `cargo lambda watch` 1.9
/// answers the function's reply before reading its body, and a reply over
/// about 10 KB is sometimes cut off and lost as this 500.
fn is_emulator_problem(body: &Value) -> bool {
    body["error"].is_null() && body["title"] == "Internal Server Error" && body["type"].is_string()
}

/// Whether sending a request twice does what sending it once does: reads,
/// and anything carrying an Idempotency-Key.
fn safe_to_resend(method: &str, path: &str, headers: &[(&str, &str)]) -> bool {
    method == "GET"
        || (method == "PUT" && path == "/fetch_messages")
        || headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("idempotency-key"))
}

/// A registered user and their token.
#[derive(Debug, Clone)]
pub struct User {
    pub login: String,
    pub token: String,
}

/// A login no earlier run used, so runs against a shared stack don't collide.
pub fn unique_login(prefix: &str) -> String {
    format!("{prefix}-{:012x}", rand::rng().random::<u64>() & 0xffff_ffff_ffff)
}

impl Api {
    pub fn from_env() -> Self {
        let base = std::env::var(API_URL_VARIABLE).unwrap_or_else(|_| {
            panic!("{API_URL_VARIABLE} is not set: run the suite with `make test`, or point it at a deployed API")
        });
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .pool_max_idle_per_host(64)
            .build()
            .expect("HTTP client");
        Self { base: base.trim_end_matches('/').to_owned(), http }
    }

    /// Sends raw bytes with the given headers. A reply that
    /// `cargo lambda watch` itself lost is sent again when that is safe.
    pub async fn send_raw(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
        let mut attempt = 1;
        loop {
            let (status, headers_back, body_back) = self.exchange(method, path, headers, body.clone()).await;
            if status == 500 && is_emulator_problem(&body_back) {
                assert!(
                    attempt < EMULATOR_ATTEMPTS && safe_to_resend(method, path, headers),
                    "{method} {path}: the local emulator lost the function's reply ({body_back}) on attempt {attempt}; \
                     see \"cargo lambda watch loses large replies\" in the README"
                );
                eprintln!("{method} {path}: the local emulator lost the function's reply; sending it again");
                tokio::time::sleep(Duration::from_millis(100)).await;
                attempt += 1;
                continue;
            }
            if let Err(contradiction) = crate::openapi::contract().check(method, path, status, &body_back) {
                panic!("{contradiction}");
            }
            return Reply { status, headers: headers_back, body: body_back };
        }
    }

    async fn exchange(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (u16, HeaderMap, Value) {
        let method = Method::from_bytes(method.as_bytes()).expect("valid method");
        let mut request = self.http.request(method, format!("{}{path}", self.base)).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap_or_else(|error| panic!("{path}: {error}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("response body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!("{path} answered {status} with non-JSON: {}", String::from_utf8_lossy(&bytes))
            })
        };
        (status, headers, body)
    }

    /// Sends `body` as JSON, with a bearer token when given.
    pub async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        self.call_with(method, path, token, &[], body).await
    }

    pub async fn call_with(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        extra_headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let authorization = token.map(|token| format!("Bearer {token}"));
        let mut headers: Vec<(&str, &str)> = extra_headers.to_vec();
        if let Some(authorization) = &authorization {
            headers.push(("authorization", authorization));
        }
        let bytes = match body {
            Some(body) => {
                headers.push(("content-type", "application/json"));
                serde_json::to_vec(&body).expect("JSON body")
            }
            None => Vec::new(),
        };
        self.send_raw(method, path, &headers, bytes).await
    }

    /// Registers a fresh user (with a password) and returns their token.
    pub async fn register(&self, prefix: &str) -> User {
        let login = unique_login(prefix);
        let body = serde_json::json!({"login": login, "password": format!("{login}-password")});
        let reply = self.call("POST", "/register", None, Some(body)).await;
        assert_eq!(reply.status, 201, "register {login}: {:?}", reply.body);
        User { login, token: reply.body["token"].as_str().expect("token").to_owned() }
    }

    pub async fn send(&self, from: &User, to: &str, text: &str) -> Reply {
        let body = serde_json::json!({"sender": from.login, "recipient": to, "message": text});
        self.call("POST", "/send_message", Some(&from.token), Some(body)).await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_the_emulators_own_500_counts_as_lost() {
        let emulator = json!({"type": "https://httpstatuses.com/500", "status": 500, "title": "Internal Server Error"});
        assert!(is_emulator_problem(&emulator));
        assert!(!is_emulator_problem(&json!({"error": "internal error"})));
        assert!(!is_emulator_problem(&Value::Null));
    }

    #[test]
    fn only_reads_and_keyed_requests_are_sent_again() {
        assert!(safe_to_resend("GET", "/conversations", &[]));
        assert!(safe_to_resend("PUT", "/fetch_messages", &[]));
        assert!(safe_to_resend("PUT", "/fetch_new_messages", &[("Idempotency-Key", "k1")]));
        assert!(!safe_to_resend("PUT", "/fetch_new_messages", &[]));
        assert!(!safe_to_resend("POST", "/send_message", &[("authorization", "Bearer t")]));
        assert!(!safe_to_resend("DELETE", "/delete_message", &[]));
    }
}
