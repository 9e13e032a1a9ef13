//! Transactions and the request they serve: resending one whose outcome is
//! unknown, the request's deadline, and the back-off between optimistic
//! attempts. Owns no items.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{CancellationReason, ReturnConsumedCapacity, TransactWriteItem};
use rand::Rng;

use super::{capacity, Store, StoreError};

/// How often a change that lost an optimistic-concurrency race is tried
/// again before the request gives up with a retryable 503.
pub(super) const MAX_ATTEMPTS: u32 = 12;

/// How many races a change may lose to others of its kind on the same
/// items (sends on one pair, fetches of one mailbox's cursors): each loss
/// is another of them committing, so losing many is progress, not a stuck
/// system; 64 concurrent sends on one pair all succeed.
pub(super) const MAX_RACES_LOST: u32 = 64;

/// How long a request may take in all (plus a fetch_new_messages `wait`,
/// which moves it): inside the function's 10 s timeout (template.yaml; 29 s
/// for fetch_new_messages), so a stalled database gets a 503 rather than a killed
/// function. Also the deadline of store calls made outside a request (the
/// local tools), counted from the call.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(8);

/// A transaction is sent only with at least this long before the deadline
/// (DynamoDB answers in milliseconds; less would mostly time out), and each
/// send ends this long before it, so the request's cut-off at the deadline
/// never lands on a send in flight.
const SHORTEST_SEND: Duration = Duration::from_millis(500);
const DEADLINE_MARGIN: Duration = Duration::from_millis(250);

/// What became of a transaction: committed, or cancelled with one reason
/// per item, in the order the items were given.
pub(super) enum Transaction {
    Committed,
    Cancelled(Vec<CancellationReason>),
}

impl Store {
    /// Runs a transaction. When its outcome is unknown (a timeout, a lost
    /// connection, a server error) the identical request is sent again with
    /// the same client request token: DynamoDB applies a token at most once
    /// in ten minutes, so a resend can only learn the outcome, never apply
    /// the change twice. Resends go on until the outcome is known or the
    /// request's deadline leaves no time for another send; each send is cut
    /// to end before the deadline, so none is abandoned in flight.
    ///
    /// These resends sit on top of the SDK's own retries: the client uses
    /// the SDK's standard retry policy (app.rs sets no other), so one send
    /// is up to 3 attempts with jittered back-off, all within the send's
    /// operation timeout, and each carries the same token. A resend here
    /// follows only a send whose attempts all failed without an answer.
    pub(super) async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<Transaction, StoreError> {
        let token = format!("{:032x}", rand::rng().random::<u128>());
        let scope = RequestScope::current();
        let mut sends = 0;
        loop {
            let Some(window) = send_window(scope.deadline().saturating_duration_since(Instant::now())) else {
                return Err(StoreError::Timeout);
            };
            let sent = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .client_request_token(&token)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .customize()
                .config_override(aws_sdk_dynamodb::Config::builder().timeout_config(self.timeouts_within(window)))
                .send()
                .await;
            sends += 1;
            let error = match sent {
                Ok(committed) => {
                    capacity::write(committed.consumed_capacity());
                    scope.note_change();
                    return Ok(Transaction::Committed);
                }
                Err(error) => error,
            };
            if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = error.as_service_error() {
                return Ok(Transaction::Cancelled(cancelled.cancellation_reasons().to_vec()));
            }
            if !outcome_unknown(&error) {
                return Err(error.into());
            }
            let deadline_near = send_window(scope.deadline().saturating_duration_since(Instant::now())).is_none();
            if deadline_near {
                scope.note_change();
                tracing::warn!(sends, error = %DisplayErrorContext(&error), "transaction outcome still unknown at the deadline");
                return Err(StoreError::OutcomeUnknown(Box::new(error.into())));
            }
            tracing::info!(sends, error = %DisplayErrorContext(&error), "transaction outcome unknown; sending it again");
            back_off(sends).await;
        }
    }

    /// The client's timeouts, with the whole operation cut to `window`.
    fn timeouts_within(&self, window: Duration) -> TimeoutConfig {
        let configured = self.client.config().timeout_config().cloned().unwrap_or_else(TimeoutConfig::disabled);
        let operation = configured.operation_timeout().map_or(window, |limit| limit.min(window));
        configured.to_builder().operation_timeout(operation).build()
    }
}

/// How long the next send may take, if there is time for one.
fn send_window(remaining: Duration) -> Option<Duration> {
    let window = remaining.checked_sub(DEADLINE_MARGIN)?;
    (window >= SHORTEST_SEND).then_some(window)
}

tokio::task_local! {
    static REQUEST: RequestScope;
}

/// The request a store call serves: when it must end, and whether it may
/// have changed anything so far (a transaction committed, or its outcome
/// stayed unknown), which decides what a failure may tell the client.
#[derive(Clone, Debug)]
pub struct RequestScope {
    deadline: Arc<Mutex<Instant>>,
    changed: Arc<AtomicBool>,
}

impl RequestScope {
    pub fn new(deadline: Instant) -> Self {
        Self { deadline: Arc::new(Mutex::new(deadline)), changed: Arc::default() }
    }

    /// The scope of the running request, or a fresh one outside a request.
    pub(super) fn current() -> Self {
        REQUEST.try_with(Self::clone).unwrap_or_else(|_| Self::new(Instant::now() + REQUEST_DEADLINE))
    }

    /// Runs `work` with its store calls in this scope.
    pub async fn run<F: Future>(&self, work: F) -> F::Output {
        REQUEST.scope(self.clone(), work).await
    }

    pub fn deadline(&self) -> Instant {
        *self.deadline.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Moves the running request's deadline `by` later, for a wait that
    /// writes nothing (fetch_new_messages' `wait`): what follows the wait
    /// keeps its full time. Outside a request it does nothing.
    pub fn postpone_current(by: Duration) {
        let _ = REQUEST.try_with(|scope| {
            *scope.deadline.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) += by;
        });
    }

    /// Ends when the deadline has passed, following any postponement.
    pub async fn expired(&self) {
        loop {
            let deadline = self.deadline();
            if deadline <= Instant::now() {
                return;
            }
            tokio::time::sleep_until(deadline.into()).await;
        }
    }

    pub fn may_have_changed(&self) -> bool {
        self.changed.load(Ordering::SeqCst)
    }

    fn note_change(&self) {
        self.changed.store(true, Ordering::SeqCst);
    }
}

/// Whether a failed send may have committed. A connection that was refused
/// carried nothing; any other failure after the request left may have.
fn outcome_unknown<R>(error: &SdkError<TransactWriteItemsError, R>) -> bool {
    use TransactWriteItemsError as E;
    match error {
        SdkError::DispatchFailure(failure) => !failure.as_connector_error().is_some_and(|error| refused(error)),
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(service) => matches!(
            service.err(),
            E::InternalServerError(_)
                | E::TransactionInProgressException(_)
                | E::ThrottlingException(_)
                | E::RequestLimitExceeded(_)
                | E::ProvisionedThroughputExceededException(_)
        ),
        _ => false,
    }
}

/// Whether the connection was refused, so the request was never sent.
fn refused(failure: &dyn std::error::Error) -> bool {
    let mut cause = failure.source();
    while let Some(error) = cause {
        if error.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused) {
            return true;
        }
        cause = error.source();
    }
    false
}

/// Waits before another optimistic attempt: random, growing with each
/// attempt, so racing writers spread out instead of colliding again.
pub(super) async fn back_off(attempt: u32) {
    let ceiling_ms = (4u64 << attempt.min(6)).min(250);
    let wait = rand::rng().random_range(1..=ceiling_ms);
    tokio::time::sleep(Duration::from_millis(wait)).await;
}

/// Before a try of something that loses races to its peers (a fetch to
/// another fetch, say), after `losses` of them: nothing before the first
/// try, a back-off after a loss, and a give-up past [`MAX_RACES_LOST`].
pub(super) async fn after_losses(losses: u32) -> Result<(), StoreError> {
    if losses > MAX_RACES_LOST {
        return Err(StoreError::Contention);
    }
    if losses > 0 {
        back_off(losses).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_send_fits_only_with_time_to_spare_before_the_deadline() {
        let ms = Duration::from_millis;
        let cases = [(8000, Some(7750)), (3000, Some(2750)), (750, Some(500)), (749, None), (250, None), (0, None)];
        for (remaining, window) in cases {
            assert_eq!(send_window(ms(remaining)), window.map(ms), "{remaining} ms left");
        }
    }
}
