//! DynamoDB capacity consumed by one request, from ReturnConsumedCapacity:
//! every call of the store asks for it, and a request run inside
//! [`measure`] adds it up, for the request's log line and for benchmarks.

use std::cell::Cell;
use std::future::Future;

use aws_sdk_dynamodb::types::ConsumedCapacity;

/// Read and write capacity units.
#[derive(Debug, Default, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Consumed {
    pub read: f64,
    pub write: f64,
}

tokio::task_local! {
    static CONSUMED: Cell<Consumed>;
}

/// Runs `work`, returning its output and the capacity its store calls consumed.
pub async fn measure<F: Future>(work: F) -> (F::Output, Consumed) {
    CONSUMED
        .scope(Cell::new(Consumed::default()), async {
            let output = work.await;
            (output, CONSUMED.with(Cell::get))
        })
        .await
}

fn add(read: f64, write: f64) {
    // Outside `measure` there is nothing to add to.
    let _ = CONSUMED.try_with(|consumed| {
        let total = consumed.get();
        consumed.set(Consumed { read: total.read + read, write: total.write + write });
    });
}

fn units(capacity: &ConsumedCapacity) -> f64 {
    capacity.capacity_units().unwrap_or_default()
}

pub(super) fn read(capacity: Option<&ConsumedCapacity>) {
    add(capacity.map_or(0.0, units), 0.0);
}

pub(super) fn reads(capacities: &[ConsumedCapacity]) {
    add(capacities.iter().map(units).sum(), 0.0);
}

pub(super) fn write(capacity: Option<&ConsumedCapacity>) {
    add(0.0, capacity.map_or(0.0, units));
}

pub(super) fn writes(capacities: &[ConsumedCapacity]) {
    add(0.0, capacities.iter().map(units).sum());
}
