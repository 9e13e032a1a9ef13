//! Turns at the local stack, so that the suites in one binary do not
//! overload it together.
//!
//! Every test that uses DynamoDB Local holds a turn for its whole run,
//! through the app it spawns. A light test takes one of `SLOTS`: 4, as
//! `cargo lambda watch` runs 4 instances per function, so more light tests
//! at once would only queue in the emulator. A test that loads DynamoDB
//! Local hard (thousands of writes, dozens of racing transactions) or needs
//! the stack's table not to change under it takes all of them: under such
//! load DynamoDB Local answers other requests too late, and they fail as
//! 503s. This caps every suite in the binary whatever `--test-threads` is,
//! where `--test-threads 1` would also serialise the tests that need no
//! stack at all.

use tokio::sync::{Semaphore, SemaphorePermit};

const SLOTS: u32 = 4;

/// Fair: a test waiting for all slots is served before light tests that
/// asked after it, so heavy tests are not starved.
static STACK: Semaphore = Semaphore::const_new(SLOTS as usize);

/// A test's turn at the local stack, held until it is dropped.
pub struct Turn {
    _permit: SemaphorePermit<'static>,
}

impl Turn {
    /// One slot, beside other light tests.
    pub async fn shared() -> Self {
        Self { _permit: STACK.acquire().await.expect("the semaphore is never closed") }
    }

    /// Every slot: the stack to this test alone.
    pub async fn whole() -> Self {
        Self { _permit: STACK.acquire_many(SLOTS).await.expect("the semaphore is never closed") }
    }
}
