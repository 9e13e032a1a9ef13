//! What Lambda's event source mapping does with a batch after invoking the
//! function: move on, retry from the first failed record, halve the batch,
//! or give up on it. Pure decisions on record positions; the poller
//! (`stream.rs`) carries them out.

use std::ops::Range;

use aws_lambda_events::streams::DynamoDbEventResponse;
use serde_json::Value;

/// The mapping's settings that shape retries (template.yaml's
/// `MaximumRetryAttempts`, `BisectBatchOnFunctionError`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// `None`: retry until the records expire from the stream (-1 in the template).
    pub max_retries: Option<u32>,
    pub bisect_on_function_error: bool,
}

/// How one invocation with a batch ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    Delivered,
    /// The function reported failed items; the first of them is at this
    /// position in the batch.
    FailedFrom(usize),
    /// The invocation failed: an error reply, a crash, no answer.
    FunctionError,
}

/// What to do next with the batch's records.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Every record is done with.
    Done,
    /// Invoke again with these records, one retry further along; records
    /// before them are done with.
    Retry(Range<usize>),
    /// Invoke again with each half in turn, each one retry further along.
    Halve(Range<usize>, Range<usize>),
    /// Out of retries: these records are dropped (where an on-failure
    /// destination would get them); records before them are done with.
    Drop(Range<usize>),
}

/// `len` records were invoked after `retries` earlier retries of them.
pub fn decide(len: usize, retries: u32, outcome: Outcome, policy: RetryPolicy) -> Decision {
    let may_retry = policy.max_retries.is_none_or(|max| retries < max);
    match outcome {
        Outcome::Delivered => Decision::Done,
        // Lambda checkpoints before the lowest failed record and retries
        // from there, the records after it included.
        Outcome::FailedFrom(first) if may_retry => Decision::Retry(first..len),
        Outcome::FailedFrom(first) => Decision::Drop(first..len),
        Outcome::FunctionError if !may_retry => Decision::Drop(0..len),
        Outcome::FunctionError if policy.bisect_on_function_error && len > 1 => {
            Decision::Halve(0..len / 2, len / 2..len)
        }
        Outcome::FunctionError => Decision::Retry(0..len),
    }
}

/// Reads the notifier's reply as Lambda does with ReportBatchItemFailures:
/// no reply, no list or an empty list is success; an item identifier that
/// is missing, empty or not in the batch fails the whole batch.
/// `sequence_numbers` are the batch's, in order.
pub fn outcome_of_reply(reply: &Value, sequence_numbers: &[&str]) -> Outcome {
    if reply.is_null() || reply.get("batchItemFailures").is_none_or(Value::is_null) {
        return Outcome::Delivered;
    }
    let Ok(response) = serde_json::from_value::<DynamoDbEventResponse>(reply.clone()) else {
        return Outcome::FailedFrom(0);
    };
    let positions = response.batch_item_failures.iter().map(|failure| {
        let id = failure.item_identifier.as_deref().unwrap_or_default();
        sequence_numbers.iter().position(|number| *number == id).unwrap_or(0)
    });
    match positions.min() {
        None => Outcome::Delivered,
        Some(first) => Outcome::FailedFrom(first),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const THREE_RETRIES_BISECT: RetryPolicy = RetryPolicy { max_retries: Some(3), bisect_on_function_error: true };

    #[test]
    fn delivered_batches_are_done() {
        assert_eq!(decide(5, 0, Outcome::Delivered, THREE_RETRIES_BISECT), Decision::Done);
        assert_eq!(decide(5, 3, Outcome::Delivered, THREE_RETRIES_BISECT), Decision::Done);
    }

    #[test]
    fn item_failures_retry_from_the_first_failed_record_until_out_of_retries() {
        assert_eq!(decide(5, 0, Outcome::FailedFrom(2), THREE_RETRIES_BISECT), Decision::Retry(2..5));
        assert_eq!(decide(3, 2, Outcome::FailedFrom(0), THREE_RETRIES_BISECT), Decision::Retry(0..3));
        assert_eq!(decide(3, 3, Outcome::FailedFrom(1), THREE_RETRIES_BISECT), Decision::Drop(1..3));
        // Item failures never halve the batch, bisect or not.
        let no_bisect = RetryPolicy { bisect_on_function_error: false, ..THREE_RETRIES_BISECT };
        assert_eq!(decide(4, 0, Outcome::FailedFrom(0), no_bisect), Decision::Retry(0..4));
    }

    #[test]
    fn function_errors_halve_the_batch_and_count_as_retries() {
        assert_eq!(decide(5, 0, Outcome::FunctionError, THREE_RETRIES_BISECT), Decision::Halve(0..2, 2..5));
        assert_eq!(decide(1, 1, Outcome::FunctionError, THREE_RETRIES_BISECT), Decision::Retry(0..1));
        assert_eq!(decide(4, 3, Outcome::FunctionError, THREE_RETRIES_BISECT), Decision::Drop(0..4));
        let no_bisect = RetryPolicy { bisect_on_function_error: false, ..THREE_RETRIES_BISECT };
        assert_eq!(decide(4, 0, Outcome::FunctionError, no_bisect), Decision::Retry(0..4));
        let zero_retries = RetryPolicy { max_retries: Some(0), ..THREE_RETRIES_BISECT };
        assert_eq!(decide(4, 0, Outcome::FunctionError, zero_retries), Decision::Drop(0..4));
    }

    #[test]
    fn unlimited_retries_never_drop() {
        let unlimited = RetryPolicy { max_retries: None, bisect_on_function_error: false };
        assert_eq!(decide(2, 10_000, Outcome::FailedFrom(1), unlimited), Decision::Retry(1..2));
    }

    #[test]
    fn replies_are_read_as_lambda_reads_them() {
        let batch = ["100", "200", "300"];
        let failed = |ids: Value| json!({"batchItemFailures": ids});
        assert_eq!(outcome_of_reply(&Value::Null, &batch), Outcome::Delivered);
        assert_eq!(outcome_of_reply(&json!({}), &batch), Outcome::Delivered);
        assert_eq!(outcome_of_reply(&failed(Value::Null), &batch), Outcome::Delivered);
        assert_eq!(outcome_of_reply(&failed(json!([])), &batch), Outcome::Delivered);
        let two_failed = failed(json!([{"itemIdentifier": "300"}, {"itemIdentifier": "200"}]));
        assert_eq!(outcome_of_reply(&two_failed, &batch), Outcome::FailedFrom(1));
        for bad in [json!([{"itemIdentifier": ""}]), json!([{"itemIdentifier": "999"}]), json!([{}]), json!("x")] {
            assert_eq!(outcome_of_reply(&failed(bad), &batch), Outcome::FailedFrom(0));
        }
    }
}
