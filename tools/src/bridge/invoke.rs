//! Invoking a function by name, as `cargo lambda watch` serves them:
//! `POST {base}/2015-03-31/functions/{name}/invocations` with the event.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// Where the functions are invoked: the watch's address (or, in tests, a
/// stub answering the same path).
#[derive(Clone)]
pub struct Invoker {
    base_url: String,
    http: reqwest::Client,
}

/// Why an invocation gave no result.
#[derive(Debug, Clone, PartialEq)]
pub enum InvokeError {
    /// Nothing answered (the watch is down, the connection broke).
    Unreachable(String),
    /// The function failed: the watch answers the runtime's error report
    /// with a 500 and `{"errorType", "errorMessage"}`, and a missing
    /// function with a 404.
    Function { status: u16, body: String },
}

impl fmt::Display for InvokeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreachable(cause) => write!(f, "no answer: {cause}"),
            Self::Function { status, body } => write!(f, "function error (status {status}): {body}"),
        }
    }
}

impl Invoker {
    pub fn new(base_url: &str) -> Self {
        // No timeout: the watch builds a function on its first invocation,
        // which takes minutes on a cold machine.
        Self { base_url: base_url.trim_end_matches('/').to_owned(), http: reqwest::Client::new() }
    }

    /// The function's JSON result.
    pub async fn invoke(&self, function: &str, event: &impl Serialize) -> Result<Value, InvokeError> {
        let url = format!("{}/2015-03-31/functions/{function}/invocations", self.base_url);
        let reply = self.http.post(url).json(event).send().await.map_err(|e| InvokeError::Unreachable(cause(&e)))?;
        let status = reply.status().as_u16();
        let body = reply.text().await.map_err(|e| InvokeError::Unreachable(cause(&e)))?;
        result_of(status, &body)
    }
}

/// Reads the watch's reply: a result, or the function's error.
pub fn result_of(status: u16, body: &str) -> Result<Value, InvokeError> {
    let failed = || InvokeError::Function { status, body: body.to_owned() };
    if !(200..300).contains(&status) {
        return Err(failed());
    }
    // A function that returns nothing (unit) replies with an empty body.
    let result = if body.trim().is_empty() { Value::Null } else { serde_json::from_str(body).map_err(|_| failed())? };
    if result.get("errorType").is_some() {
        return Err(failed());
    }
    Ok(result)
}

/// An error with its sources: reqwest's own Display says only "error
/// sending request".
fn cause(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn results_and_errors_are_told_apart() {
        assert_eq!(result_of(200, r#"{"statusCode": 200}"#), Ok(json!({"statusCode": 200})));
        assert_eq!(result_of(200, ""), Ok(Value::Null));
        assert_eq!(result_of(200, "null"), Ok(Value::Null));
        let error = r#"{"errorType": "&str", "errorMessage": "boom"}"#;
        for (status, body) in [(500, error), (200, error), (404, r#"{"title": "Missing function"}"#), (200, "{")] {
            assert_eq!(
                result_of(status, body),
                Err(InvokeError::Function { status, body: body.to_owned() }),
                "{status} {body}"
            );
        }
    }
}
