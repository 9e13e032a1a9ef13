//! A fault-injecting HTTP proxy in front of DynamoDB Local: it passes
//! requests through, or refuses connections, stalls, loses or holds back
//! the answer of a transaction after it committed, cancels transactions
//! with a reason DynamoDB Local never produces by itself
//! (TransactionConflict), or applies AWS's conflict rules to concurrent
//! writes (`conflicts.rs`).

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::conflicts::{InFlight, Writes};

#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Pass everything through.
    None,
    /// Close every connection at once.
    Refuse,
    /// Accept requests and never answer.
    Stall,
    /// Let the next `n` transactions commit, then drop their answers.
    LoseTransactAnswers(u32),
    /// Let the next `n` transactions commit, then hold their answers until
    /// the client gives up waiting.
    StallTransactAnswers(u32),
    /// Pass the next `n` transactions through, then turn into `then`.
    PassTransacts { n: u32, then: Box<Fault> },
    /// Answer the next `n` transactions with a cancellation for `reason`
    /// on every item, without forwarding them.
    CancelTransacts { n: u32, reason: &'static str },
    /// Hold every transaction this long before forwarding it, as AWS's
    /// commits take milliseconds where DynamoDB Local's take microseconds:
    /// concurrent transactions then overlap as they do on AWS.
    DelayTransacts(std::time::Duration),
    /// AWS's conflict rules (see [`crate::conflicts`]), each transaction
    /// held in flight this long before it is forwarded, about what a commit
    /// takes on AWS.
    ConflictRules(std::time::Duration),
}

#[derive(Clone)]
pub struct FaultProxy {
    pub url: String,
    fault: Arc<Mutex<Fault>>,
    transacts_seen: Arc<Mutex<u32>>,
    in_flight: InFlight,
    conflicts: Arc<Mutex<u32>>,
}

type Upstream = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

impl FaultProxy {
    /// Starts the proxy on a free loopback port in front of `upstream`
    /// (e.g. `http://127.0.0.1:8000`).
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let proxy = Self {
            url,
            fault: Arc::new(Mutex::new(Fault::None)),
            transacts_seen: Arc::default(),
            in_flight: InFlight::default(),
            conflicts: Arc::default(),
        };
        let client: Upstream = Client::builder(TokioExecutor::new()).build_http();
        let upstream = upstream.trim_end_matches('/').to_owned();
        let state = proxy.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                if state.fault() == Fault::Refuse {
                    drop(stream);
                    continue;
                }
                let (state, client, upstream) = (state.clone(), client.clone(), upstream.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let (state, client, upstream) = (state.clone(), client.clone(), upstream.clone());
                        async move { state.handle(request, &client, &upstream).await }
                    });
                    // A connection aborted on purpose ends here.
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        proxy
    }

    /// Starts the proxy in front of the DynamoDB Local of the environment
    /// (`AWS_ENDPOINT_URL_DYNAMODB`).
    pub async fn start_before_dynamodb_local() -> Self {
        Self::start(&std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("DynamoDB Local's endpoint")).await
    }

    pub fn set(&self, fault: Fault) {
        *self.fault.lock().expect("fault lock") = fault;
    }

    pub fn fault(&self) -> Fault {
        self.fault.lock().expect("fault lock").clone()
    }

    /// How many TransactWriteItems requests reached the proxy.
    pub fn transacts_seen(&self) -> u32 {
        *self.transacts_seen.lock().expect("counter lock")
    }

    /// How many requests the conflict rules cancelled or refused.
    pub fn conflicts(&self) -> u32 {
        *self.conflicts.lock().expect("counter lock")
    }

    async fn handle(
        &self,
        request: Request<Incoming>,
        client: &Upstream,
        upstream: &str,
    ) -> Result<Response<Full<Bytes>>, std::io::Error> {
        let aborted = || std::io::Error::other("connection aborted by the fault proxy");
        let (parts, body) = request.into_parts();
        let body = body.collect().await.map_err(|_| aborted())?.to_bytes();
        let is_transact = parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|target| target.ends_with(".TransactWriteItems"));
        if is_transact {
            *self.transacts_seen.lock().expect("counter lock") += 1;
        }
        enum Answer {
            Deliver,
            Lose,
            Stall,
        }
        enum Action {
            Forward(Answer),
            Abort,
            Stall,
            Cancel(&'static str),
        }
        let delay = match self.fault() {
            Fault::DelayTransacts(delay) if is_transact => Some(delay),
            _ => None,
        };
        // A transaction's items stay in flight until its answer is back.
        let mut held = None;
        if let Fault::ConflictRules(hold) = self.fault() {
            let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default();
            let conflict = match Writes::of(target, &body) {
                Writes::Transaction(keys) => match self.in_flight.begin(keys) {
                    Ok(items) => {
                        held = Some(items);
                        tokio::time::sleep(hold).await;
                        None
                    }
                    Err(items) => Some(transaction_conflict(&items)),
                },
                Writes::Single(key) if self.in_flight.holds(&key) => Some(single_write_conflict()),
                _ => None,
            };
            if let Some(refusal) = conflict {
                *self.conflicts.lock().expect("counter lock") += 1;
                return Ok(refusal);
            }
        }
        if let Some(delay) = delay {
            // Between half and one and a half times the delay, so
            // transactions reach DynamoDB in another order than they left.
            let jitter = rand::random_range(0.5..1.5);
            tokio::time::sleep(delay.mul_f64(jitter)).await;
        }
        let action = {
            let mut fault = self.fault.lock().expect("fault lock");
            if let Fault::PassTransacts { n: 0, then } = &*fault {
                let then = (**then).clone();
                *fault = then;
            }
            match &mut *fault {
                Fault::Refuse => Action::Abort,
                Fault::Stall => Action::Stall,
                Fault::LoseTransactAnswers(n) if is_transact && *n > 0 => {
                    *n -= 1;
                    Action::Forward(Answer::Lose)
                }
                Fault::StallTransactAnswers(n) if is_transact && *n > 0 => {
                    *n -= 1;
                    Action::Forward(Answer::Stall)
                }
                Fault::PassTransacts { n, .. } if is_transact => {
                    *n -= 1;
                    Action::Forward(Answer::Deliver)
                }
                Fault::CancelTransacts { n, reason } if is_transact && *n > 0 => {
                    *n -= 1;
                    Action::Cancel(reason)
                }
                _ => Action::Forward(Answer::Deliver),
            }
        };
        let answer = match action {
            Action::Abort => return Err(aborted()),
            Action::Stall => std::future::pending().await,
            Action::Cancel(reason) => return Ok(cancellation(&body, reason)),
            Action::Forward(answer) => answer,
        };
        let mut forward = Request::builder().method(parts.method).uri(format!("{upstream}{}", parts.uri));
        for (name, value) in &parts.headers {
            forward = forward.header(name, value);
        }
        let forward = forward.body(Full::new(body)).map_err(|_| aborted())?;
        let response = client.request(forward).await.map_err(|_| aborted())?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map_err(|_| aborted())?.to_bytes();
        drop(held);
        match answer {
            Answer::Deliver => {}
            Answer::Lose => return Err(aborted()),
            Answer::Stall => std::future::pending().await,
        }
        Ok(Response::from_parts(parts, Full::new(body)))
    }
}

/// DynamoDB's answer to a cancelled transaction: one reason per item.
fn cancellation(request_body: &[u8], reason: &str) -> Response<Full<Bytes>> {
    let request: Value = serde_json::from_slice(request_body).unwrap_or_default();
    let items = request["TransactItems"].as_array().map_or(1, Vec::len);
    cancelled(&vec![Some(reason); items])
}

/// A transaction cancelled because another in flight holds the `conflicting` items.
fn transaction_conflict(conflicting: &[bool]) -> Response<Full<Bytes>> {
    let reasons: Vec<Option<&str>> =
        conflicting.iter().map(|&conflict| conflict.then_some("TransactionConflict")).collect();
    cancelled(&reasons)
}

/// `reasons` has one code per item, `None` for an item that was fine.
fn cancelled(reasons: &[Option<&str>]) -> Response<Full<Bytes>> {
    let listed: Vec<&str> = reasons.iter().map(|reason| reason.unwrap_or("None")).collect();
    let reasons: Vec<Value> = reasons
        .iter()
        .map(|reason| match reason {
            Some(code) => json!({"Code": code, "Message": "injected by the fault proxy"}),
            None => json!({"Code": "None"}),
        })
        .collect();
    error_response(json!({
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "message": format!("Transaction cancelled, please refer cancellation reasons for specific reasons [{}]", listed.join(", ")),
        "CancellationReasons": reasons,
    }))
}

/// A single-item write refused while a transaction holds the item.
fn single_write_conflict() -> Response<Full<Bytes>> {
    error_response(json!({
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionConflictException",
        "message": "Transaction is ongoing for the item",
    }))
}

fn error_response(body: Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(400)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amzn-requestid", "fault-proxy")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("static response")
}
