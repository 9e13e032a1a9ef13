//! DynamoDB capacity consumed by one request, from ReturnConsumedCapacity:
//! every call of the store asks for it ([`Counted::counted`]), and a
//! request run inside [`measure`] adds it up, for the request's log line
//! and for benchmarks. Owns no items.

use std::cell::Cell;
use std::future::Future;

use aws_sdk_dynamodb::operation::batch_get_item::builders::BatchGetItemFluentBuilder;
use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
use aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemFluentBuilder;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemOutput;
use aws_sdk_dynamodb::operation::get_item::builders::GetItemFluentBuilder;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};

use super::StoreError;

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

/// What a call's output reports: one total, or one per table for batches
/// and transactions.
pub(super) trait Units {
    fn units(self) -> f64;
}

impl Units for Option<&ConsumedCapacity> {
    fn units(self) -> f64 {
        self.and_then(ConsumedCapacity::capacity_units).unwrap_or_default()
    }
}

impl Units for &[ConsumedCapacity] {
    fn units(self) -> f64 {
        self.iter().filter_map(ConsumedCapacity::capacity_units).sum()
    }
}

pub(super) fn read(consumed: impl Units) {
    add(consumed.units(), 0.0);
}

pub(super) fn write(consumed: impl Units) {
    add(0.0, consumed.units());
}

/// A request that is sent asking for its consumed capacity, which is then
/// counted as reads or writes.
pub(super) trait Counted {
    type Output;
    async fn counted(self) -> Result<Self::Output, StoreError>;
}

macro_rules! counted {
    ($($builder:ty => $output:ty, $count:ident;)*) => {$(
        impl Counted for $builder {
            type Output = $output;
            async fn counted(self) -> Result<$output, StoreError> {
                let output = self.return_consumed_capacity(ReturnConsumedCapacity::Total).send().await?;
                $count(output.consumed_capacity());
                Ok(output)
            }
        }
    )*};
}

counted! {
    GetItemFluentBuilder => GetItemOutput, read;
    QueryFluentBuilder => QueryOutput, read;
    BatchGetItemFluentBuilder => BatchGetItemOutput, read;
    PutItemFluentBuilder => PutItemOutput, write;
    DeleteItemFluentBuilder => DeleteItemOutput, write;
    UpdateItemFluentBuilder => UpdateItemOutput, write;
}
