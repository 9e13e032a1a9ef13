//! fetch_new_messages' `wait`: a request that finds nothing new checks
//! again about once a second, answering as soon as something is, or empty
//! when the wait ends. A check is one read unit (`Store::may_have_new`), so
//! a wait of `n` seconds reads at most `n` units: the first check is at
//! once, the last one second before the end, after which nothing is
//! checked (a message that arrives then is the next call's, which checks
//! at once).

use std::future::Future;
use std::time::{Duration, Instant};

use crate::error::ApiError;
use crate::store::RequestScope;

pub const MAX_WAIT_SECONDS: i64 = 20;
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// Checks an optional `wait` (whole seconds) against its range; 0 by default.
pub fn wait_seconds(wait: Option<i64>) -> Result<Duration, ApiError> {
    match wait.unwrap_or(0) {
        seconds @ 0..=MAX_WAIT_SECONDS => Ok(Duration::from_secs(seconds.unsigned_abs())),
        seconds => {
            Err(ApiError::bad_request(format!("wait must be between 0 and {MAX_WAIT_SECONDS} seconds (got {seconds})")))
        }
    }
}

/// What a wait does next.
#[derive(Debug, PartialEq)]
enum Next {
    /// Checks after this pause.
    Check(Duration),
    /// Answers with nothing after this pause, at the end of the wait.
    GiveUp(Duration),
}

/// The next step `elapsed` into a wait of `wait` with `checks` done: check
/// `k` is due `k` seconds in, while that is before the end.
fn next(checks: u32, elapsed: Duration, wait: Duration) -> Next {
    let due = CHECK_EVERY * checks;
    if due < wait {
        Next::Check(due.saturating_sub(elapsed))
    } else {
        Next::GiveUp(wait.saturating_sub(elapsed))
    }
}

/// Waits up to `wait` for `check` to find something: true as soon as it
/// does, false when the wait ends first. The request's deadline moves by
/// `wait` (the wait writes nothing), so what follows keeps its full time.
pub(super) async fn until<E, F>(wait: Duration, mut check: impl FnMut() -> F) -> Result<bool, E>
where
    F: Future<Output = Result<bool, E>>,
{
    RequestScope::postpone_current(wait);
    let started = Instant::now();
    let mut checks = 0;
    loop {
        match next(checks, started.elapsed(), wait) {
            Next::Check(pause) => {
                tokio::time::sleep(pause).await;
                checks += 1;
                if check().await? {
                    return Ok(true);
                }
            }
            Next::GiveUp(pause) => {
                tokio::time::sleep(pause).await;
                return Ok(false);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn checks_once_a_second_from_the_start_and_gives_up_at_the_end() {
        let wait = Duration::from_secs(3);
        assert_eq!(next(0, ms(0), wait), Next::Check(ms(0)));
        assert_eq!(next(1, ms(20), wait), Next::Check(ms(980)));
        assert_eq!(next(2, ms(1030), wait), Next::Check(ms(970)));
        assert_eq!(next(3, ms(2010), wait), Next::GiveUp(ms(990)));
        // A slow check delays no later one past its second, nor the end.
        assert_eq!(next(2, ms(2500), wait), Next::Check(ms(0)));
        assert_eq!(next(3, ms(3200), wait), Next::GiveUp(ms(0)));
        assert_eq!(next(0, ms(0), Duration::ZERO), Next::GiveUp(ms(0)));
    }

    #[test]
    fn a_wait_of_n_seconds_checks_n_times() {
        for seconds in 0..=20 {
            let wait = Duration::from_secs(seconds);
            let checks = (0..).take_while(|&k| matches!(next(k, CHECK_EVERY * k, wait), Next::Check(_))).count();
            assert_eq!(checks as u64, seconds);
        }
    }

    #[test]
    fn wait_is_0_to_20_seconds() {
        assert_eq!(wait_seconds(None).unwrap(), Duration::ZERO);
        assert_eq!(wait_seconds(Some(0)).unwrap(), Duration::ZERO);
        assert_eq!(wait_seconds(Some(20)).unwrap(), Duration::from_secs(20));
        assert!(wait_seconds(Some(21)).is_err());
        assert!(wait_seconds(Some(-1)).is_err());
    }
}
