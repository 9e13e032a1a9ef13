//! What every function builds once at start-up (configuration, the
//! DynamoDB client, logging) and the loop that hands each request to its
//! endpoint's handler.

use std::convert::Infallible;
use std::future::Future;
use std::time::{Duration, Instant};

use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
use lambda_http::{service_fn, Body, Error, Request, RequestExt, Response};
use lambda_runtime::LambdaEvent;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tracing::Instrument;

use crate::endpoints::if_outcome_unknown;
use crate::error::ApiError;
use crate::http::respond;
use crate::store::{capacity, RequestScope, Store, StoreError, REQUEST_DEADLINE};

pub const DEFAULT_MAX_MESSAGE_CHARS: usize = 4096;
pub const DEFAULT_TOKEN_TTL_SECONDS: i64 = 30 * 24 * 60 * 60;
/// The template's defaults too (`SendRatePerMinute`, `RegistrationsPerHour`).
pub const DEFAULT_SEND_RATE_PER_MINUTE: u32 = 120;
pub const DEFAULT_REGISTRATIONS_PER_HOUR: u32 = 20;

#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    pub max_message_chars: usize,
    pub token_ttl_seconds: i64,
    /// Sends per sender per minute; 0 is no limit.
    pub send_rate_per_minute: u32,
    /// Registrations per source address per hour; 0 is no limit.
    pub registrations_per_hour: u32,
    /// Where clients open the WebSocket (`POST /realtime_ticket` tells
    /// them); only that function has it.
    pub websocket_url: Option<String>,
}

impl Config {
    /// Reads `TABLE_NAME`, `MAX_MESSAGE_CHARS`, `TOKEN_TTL_SECONDS`,
    /// `SEND_RATE_PER_MINUTE`, `REGISTRATIONS_PER_HOUR` and `WEBSOCKET_URL`.
    pub fn from_env() -> Result<Self, Error> {
        let table_name = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;
        Ok(Self {
            table_name,
            max_message_chars: env_number("MAX_MESSAGE_CHARS", DEFAULT_MAX_MESSAGE_CHARS)?,
            token_ttl_seconds: env_number("TOKEN_TTL_SECONDS", DEFAULT_TOKEN_TTL_SECONDS)?,
            send_rate_per_minute: env_limit("SEND_RATE_PER_MINUTE", DEFAULT_SEND_RATE_PER_MINUTE)?,
            registrations_per_hour: env_limit("REGISTRATIONS_PER_HOUR", DEFAULT_REGISTRATIONS_PER_HOUR)?,
            websocket_url: std::env::var("WEBSOCKET_URL").ok(),
        })
    }
}

fn env_number<T: std::str::FromStr + PartialOrd + Default>(name: &str, default: T) -> Result<T, Error> {
    env_parsed(name, default, |value| *value > T::default(), "a positive integer")
}

/// A rate limit: a whole number, 0 turning it off.
fn env_limit(name: &str, default: u32) -> Result<u32, Error> {
    env_parsed(name, default, |_| true, "a whole number (0 turns the limit off)")
}

/// The variable `name` parsed, `default` when unset; an unparsable value,
/// or one `allowed` refuses, is an error that says what `name` must be.
fn env_parsed<T: std::str::FromStr>(
    name: &str,
    default: T,
    allowed: impl Fn(&T) -> bool,
    must_be: &str,
) -> Result<T, Error> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(text) => match text.trim().parse::<T>() {
            Ok(value) if allowed(&value) => Ok(value),
            _ => Err(format!("{name} must be {must_be} (got {text:?})").into()),
        },
    }
}

pub struct App {
    pub store: Store,
    pub config: Config,
}

impl App {
    /// Builds the DynamoDB client from the standard AWS environment
    /// (`AWS_ENDPOINT_URL_DYNAMODB` points it at DynamoDB Local).
    pub async fn from_env() -> Result<Self, Error> {
        Self::with_aws(&aws_config().await)
    }

    /// Like [`App::from_env`], with an AWS configuration already loaded
    /// (a function that builds other clients too loads it once).
    pub fn with_aws(aws: &aws_config::SdkConfig) -> Result<Self, Error> {
        let config = Config::from_env()?;
        let client = aws_sdk_dynamodb::Client::new(aws);
        Ok(Self { store: Store::new(client, config.table_name.clone()), config })
    }
}

/// The AWS configuration every client is built from: the standard
/// environment (each service's `AWS_ENDPOINT_URL_<SERVICE>` included) and
/// [`aws_timeouts`].
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).timeout_config(aws_timeouts()).load().await
}

/// Bounds on every AWS call. DynamoDB and API Gateway's Management API
/// answer in milliseconds; a call that takes seconds is failing.
pub fn aws_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(3))
        .build()
}

/// Logs one JSON line per event. Levels come from `AWS_LAMBDA_LOG_LEVEL`
/// (set by Lambda's advanced logging controls) or `RUST_LOG`.
pub fn init_logging() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_owned())
        .to_lowercase();
    let filter =
        tracing_subscriber::EnvFilter::try_new(&level).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(false)
        .init();
}

/// Runs a function: builds the App once, then serves each request with
/// `handler`, logging its outcome and DynamoDB capacity (never its content).
pub async fn serve<F, Fut>(endpoint: &'static str, handler: F) -> Result<(), Error>
where
    F: Fn(&'static App, Request) -> Fut + Sync,
    Fut: Future<Output = Result<Response<Body>, ApiError>> + Send,
{
    init_logging();
    // Lives as long as the process, like the Lambda execution environment.
    let app: &'static App = Box::leak(Box::new(App::from_env().await?));
    let handler = &handler;
    lambda_http::run(service_fn(move |request: Request| async move {
        let request_id = request.lambda_context_ref().map(|c| c.request_id.clone()).unwrap_or_default();
        let span = tracing::info_span!("request", request_id, endpoint, caller = tracing::field::Empty);
        let started = Instant::now();
        let (response, consumed) =
            capacity::measure(answer(endpoint, handler(app, request))).instrument(span.clone()).await;
        span.in_scope(|| {
            tracing::info!(
                status = response.status().as_u16(),
                latency_ms = started.elapsed().as_secs_f64() * 1000.0,
                read_units = consumed.read,
                write_units = consumed.write,
                "request handled"
            )
        });
        Ok::<_, Infallible>(response)
    }))
    .await
}

/// Runs a function fed events other than HTTP requests (a WebSocket
/// route's, a stream batch): builds its `state` once, then hands each
/// event to `handler`, logging how it went and the DynamoDB capacity used.
pub async fn serve_events<S, E, R, F, Fut>(
    function: &'static str,
    state: impl Future<Output = Result<S, Error>>,
    handler: F,
) -> Result<(), Error>
where
    S: Sync + 'static,
    E: DeserializeOwned + Send + 'static,
    R: Serialize,
    F: Fn(&'static S, E) -> Fut + Sync,
    Fut: Future<Output = Result<R, Error>> + Send,
{
    init_logging();
    let state: &'static S = Box::leak(Box::new(state.await?));
    let handler = &handler;
    lambda_runtime::run(lambda_runtime::service_fn(move |event: LambdaEvent<E>| async move {
        let span = tracing::info_span!(
            "event",
            request_id = event.context.request_id,
            function,
            caller = tracing::field::Empty
        );
        let started = Instant::now();
        let (outcome, consumed) = capacity::measure(handler(state, event.payload)).instrument(span.clone()).await;
        span.in_scope(|| {
            tracing::info!(
                ok = outcome.is_ok(),
                latency_ms = started.elapsed().as_secs_f64() * 1000.0,
                read_units = consumed.read,
                write_units = consumed.write,
                "event handled"
            )
        });
        outcome
    }))
    .await
}

/// Runs a handler to its response, within [`REQUEST_DEADLINE`] (later when
/// the handler postpones it for a wait that writes nothing). The store
/// starts no write that could outlast the deadline, so the cut-off here
/// only ever stops reads and waits. A failure after a change may have been
/// written tells the client that the outcome is unknown and how `endpoint`
/// is retried safely, instead of claiming that nothing was written.
pub async fn answer(endpoint: &str, handled: impl Future<Output = Result<Response<Body>, ApiError>>) -> Response<Body> {
    let scope = RequestScope::new(Instant::now() + REQUEST_DEADLINE);
    let outcome = tokio::select! {
        outcome = scope.run(handled) => outcome,
        () = scope.expired() => Err(ApiError::Unavailable(StoreError::Timeout)),
    };
    let outcome = match outcome {
        Err(error) if scope.may_have_changed() => Err(error.outcome_unknown(if_outcome_unknown(endpoint))),
        other => other,
    };
    respond(outcome)
}
