//! The API over HTTP, as the end-to-end suites see it. The base URL comes
//! from `MESSENGER_API_URL`, so the same tests run against
//! `cargo lambda watch` and against a deployed stack. Every response is
//! checked against `openapi.yaml`.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use reqwest::Method;
use serde_json::{json, Value};

use super::contract::contract;
use super::turn::Turn;

pub const API_URL_VARIABLE: &str = "MESSENGER_API_URL";

/// A client of the API at `MESSENGER_API_URL`, holding the test's turn at
/// the local stack (its clones share it).
#[derive(Clone)]
pub struct TestApp {
    base: String,
    http: reqwest::Client,
    _turn: Arc<Turn>,
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
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

/// Counts a request sent again because the emulator lost its reply: a line
/// in the file `MESSENGER_RESEND_LOG` names (`make test` sums them and
/// fails a run with too many), so no resend passes unseen.
fn count_resend(method: &str, path: &str) {
    eprintln!("{method} {path}: the local emulator lost the function's reply; sending it again");
    let Ok(log) = std::env::var("MESSENGER_RESEND_LOG") else { return };
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&log).expect("the resend log");
    std::io::Write::write_all(&mut file, format!("{method} {path}\n").as_bytes()).expect("the resend log");
}

/// Whether sending a request twice does what sending it once does: reads,
/// and anything carrying an Idempotency-Key.
fn safe_to_resend(method: &str, path: &str, headers: &[(&str, &str)]) -> bool {
    method == "GET"
        || (method == "PUT" && path == "/fetch_messages")
        || headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("idempotency-key"))
}

/// A file of the web client as sent: not JSON, and not part of `openapi.yaml`.
#[derive(Debug)]
pub struct FileReply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl FileReply {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default()
    }
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

/// The password [`TestApp::register`] gives a login.
fn password_of(login: &str) -> String {
    format!("{login}-password")
}

impl TestApp {
    /// A client that shares the stack with other light tests.
    pub async fn spawn() -> Self {
        Self::with_turn(Turn::shared().await)
    }

    /// A client with the stack to itself: for a test that loads it hard or
    /// needs its table unchanged by others.
    pub async fn spawn_alone() -> Self {
        Self::with_turn(Turn::whole().await)
    }

    /// [`TestApp::spawn`] and a fresh user per prefix.
    pub async fn with_users<const N: usize>(prefixes: [&str; N]) -> (Self, [User; N]) {
        Self::spawn().await.and_users(prefixes).await
    }

    /// [`TestApp::spawn_alone`] and a fresh user per prefix.
    pub async fn alone_with_users<const N: usize>(prefixes: [&str; N]) -> (Self, [User; N]) {
        Self::spawn_alone().await.and_users(prefixes).await
    }

    async fn and_users<const N: usize>(self, prefixes: [&str; N]) -> (Self, [User; N]) {
        let mut users = Vec::with_capacity(N);
        for prefix in prefixes {
            users.push(self.register(prefix).await);
        }
        (self, users.try_into().expect("one user per prefix"))
    }

    fn with_turn(turn: Turn) -> Self {
        let base = std::env::var(API_URL_VARIABLE).unwrap_or_else(|_| {
            panic!("{API_URL_VARIABLE} is not set: run the suite with `make test`, or point it at a deployed API")
        });
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .pool_max_idle_per_host(64)
            .build()
            .expect("HTTP client");
        Self { base: base.trim_end_matches('/').to_owned(), http, _turn: Arc::new(turn) }
    }

    /// Sends raw bytes with the given headers. A reply that
    /// `cargo lambda watch` itself lost is sent again when that is safe.
    pub async fn send_raw(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
        let mut attempt = 1;
        loop {
            let (status, body_back) = self.exchange(method, path, headers, body.clone()).await;
            if status == 500 && is_emulator_problem(&body_back) {
                assert!(
                    attempt < EMULATOR_ATTEMPTS && safe_to_resend(method, path, headers),
                    "{method} {path}: the local emulator lost the function's reply ({body_back}) on attempt {attempt}; \
                     see \"cargo lambda watch loses large replies\" in the README"
                );
                count_resend(method, path);
                tokio::time::sleep(Duration::from_millis(100)).await;
                attempt += 1;
                continue;
            }
            if let Err(contradiction) = contract().check(method, path, status, &body_back) {
                panic!("{contradiction}");
            }
            return Reply { status, body: body_back };
        }
    }

    /// GETs a page or file of the web client, again when the emulator lost
    /// the reply (a GET is safe to repeat; its files are larger than 10 KB).
    pub async fn get_file(&self, path: &str, headers: &[(&str, &str)]) -> FileReply {
        for _ in 1..EMULATOR_ATTEMPTS {
            let mut request = self.http.get(format!("{}{path}", self.base));
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            let response = request.send().await.unwrap_or_else(|error| panic!("{path}: {error}"));
            let (status, headers) = (response.status().as_u16(), response.headers().clone());
            let body = response.bytes().await.expect("response body").to_vec();
            let lost = status == 500 && serde_json::from_slice(&body).is_ok_and(|body| is_emulator_problem(&body));
            if !lost {
                return FileReply { status, headers, body };
            }
            count_resend("GET", path);
        }
        panic!("GET {path}: the local emulator lost the reply {EMULATOR_ATTEMPTS} times");
    }

    async fn exchange(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> (u16, Value) {
        let method = Method::from_bytes(method.as_bytes()).expect("valid method");
        let mut request = self.http.request(method, format!("{}{path}", self.base)).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap_or_else(|error| panic!("{path}: {error}"));
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("response body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!("{path} answered {status} with non-JSON: {}", String::from_utf8_lossy(&bytes))
            })
        };
        (status, body)
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
        let body = json!({"login": login, "password": password_of(&login)});
        let reply = self.call("POST", "/register", None, Some(body)).await;
        assert_eq!(reply.status, 201, "register {login}: {:?}", reply.body);
        User { login, token: reply.body["token"].as_str().expect("token").to_owned() }
    }

    /// Logs in a user that [`TestApp::register`] created.
    pub async fn login(&self, login: &str) -> Reply {
        self.call("POST", "/login", None, Some(json!({"login": login, "password": password_of(login)}))).await
    }

    /// A new token of a user that [`TestApp::register`] created.
    pub async fn fresh_token(&self, login: &str) -> String {
        let reply = self.login(login).await;
        assert_eq!(reply.status, 200, "login {login}: {:?}", reply.body);
        reply.body["token"].as_str().expect("token").to_owned()
    }

    pub async fn send(&self, from: &User, to: &str, text: &str) -> Reply {
        let body = json!({"sender": from.login, "recipient": to, "message": text});
        self.call("POST", "/send_message", Some(&from.token), Some(body)).await
    }

    /// Sends a message that must be accepted; returns its timestamp.
    pub async fn send_ok(&self, from: &User, to: &User, text: &str) -> String {
        let reply = self.send(from, &to.login, text).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        reply.body["timestamp"].as_str().expect("timestamp").to_owned()
    }

    /// Sends messages that must be accepted, one after another; returns
    /// their timestamps.
    pub async fn send_all(&self, from: &User, to: &User, texts: impl IntoIterator<Item = String>) -> Vec<String> {
        let mut stamps = Vec::new();
        for text in texts {
            stamps.push(self.send_ok(from, to, &text).await);
        }
        stamps
    }

    /// The body of a successful fetch_new_messages. Sent with a fresh
    /// Idempotency-Key, as a client that must not lose a batch sends it:
    /// a reply the local emulator loses (a large one, see the README) is
    /// then sent again and replayed, not lost with its batch.
    pub async fn fetch_new(&self, user: &User, body: Value) -> Value {
        let key = unique_login("fetch");
        let headers = [("idempotency-key", key.as_str())];
        let reply = self.call_with("PUT", "/fetch_new_messages", Some(&user.token), &headers, Some(body)).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply.body
    }

    /// The body of a successful fetch_messages.
    pub async fn fetch(&self, user: &User, body: Value) -> Value {
        let reply = self.call("PUT", "/fetch_messages", Some(&user.token), Some(body)).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply.body
    }

    /// Marks `user`'s messages from `sender` read through `through`;
    /// returns how many were marked.
    pub async fn mark_read(&self, user: &User, sender: &User, through: &str) -> u64 {
        let body = json!({"sender": sender.login, "through": through});
        let reply = self.call("POST", "/mark_read", Some(&user.token), Some(body)).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply.body["marked"].as_u64().expect("marked")
    }

    /// The body of the user's conversations reply.
    pub async fn conversations(&self, user: &User) -> Value {
        self.call("GET", "/conversations", Some(&user.token), None).await.body
    }

    /// Creates a group of `admin` and `members` that must be accepted;
    /// returns its id.
    pub async fn create_group(&self, admin: &User, name: &str, members: &[&User]) -> String {
        let logins: Vec<&str> = members.iter().map(|member| member.login.as_str()).collect();
        let body = json!({"name": name, "members": logins});
        let reply = self.call("POST", "/create_group", Some(&admin.token), Some(body)).await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        reply.body["group"].as_str().expect("group").to_owned()
    }

    /// Removes `member` from `group` as its admin; must be accepted.
    pub async fn remove_member(&self, admin: &User, group: &str, member: &User) {
        let body = json!({"group": group, "member": member.login});
        let reply = self.call("POST", "/remove_member", Some(&admin.token), Some(body)).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
    }

    pub async fn send_to_group(&self, from: &User, group: &str, text: &str) -> Reply {
        let body = json!({"group": group, "message": text});
        self.call("POST", "/send_message", Some(&from.token), Some(body)).await
    }

    /// The body of a successful group_members.
    pub async fn group_members(&self, user: &User, group: &str) -> Value {
        let reply = self.call("PUT", "/group_members", Some(&user.token), Some(json!({"group": group}))).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply.body
    }

    /// The body of a successful GET /groups.
    pub async fn groups(&self, user: &User) -> Value {
        let reply = self.call("GET", "/groups", Some(&user.token), None).await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply.body
    }
}

mod tests {
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
