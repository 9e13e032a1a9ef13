//! The event source mapping: reads the table's stream in DynamoDB Local
//! and invokes the notifier with each shard's filtered records, in shard
//! order, retrying and halving batches as `batches.rs` decides.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use aws_lambda_events::dynamodb::{Event, EventRecord};
use aws_sdk_dynamodbstreams::error::DisplayErrorContext;
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};

use super::batches::{decide, outcome_of_reply, Decision, Outcome};
use super::invoke::Invoker;
use super::mapping::Mapping;
use super::records::{lambda_record, sequence_number};
use super::shards::{shards_to_start, Reading, Shard, Start};

pub const NOTIFIER_FUNCTION: &str = "realtime_notifier";

/// How often shards are listed again, for shards that split off.
const DESCRIBE_EVERY: Duration = Duration::from_secs(3);
/// The pause between GetRecords rounds that found nothing.
const IDLE_PAUSE: Duration = Duration::from_millis(100);
/// The pause after DynamoDB Local failed a call.
const ERROR_PAUSE: Duration = Duration::from_secs(1);

pub struct StreamPoller {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub streams: aws_sdk_dynamodbstreams::Client,
    pub table: String,
    pub mapping: Mapping,
    pub invoker: Invoker,
}

impl StreamPoller {
    /// Polls until the process ends.
    pub async fn run(self) {
        let stream_arn = self.stream_arn().await;
        eprintln!("bridge: reading stream {stream_arn} of table {} into {NOTIFIER_FUNCTION}", self.table);
        let mut shards: HashMap<String, Reading> = HashMap::new();
        let mut first = true;
        let mut described_at: Option<Instant> = None;
        loop {
            if described_at.is_none_or(|at| at.elapsed() >= DESCRIBE_EVERY) {
                match self.describe(&stream_arn).await {
                    Ok(described) => {
                        for (id, start) in shards_to_start(&described, &shards, first) {
                            let reading = match start {
                                Start::Skip => Some(Reading::Ended),
                                Start::From(position) => {
                                    self.iterator(&stream_arn, &id, position).await.map(Reading::At)
                                }
                            };
                            if let Some(reading) = reading {
                                shards.insert(id, reading);
                            }
                        }
                        first = false;
                        described_at = Some(Instant::now());
                    }
                    Err(error) => {
                        eprintln!("bridge: DescribeStream: {error}");
                        tokio::time::sleep(ERROR_PAUSE).await;
                        continue;
                    }
                }
            }
            let mut found_records = false;
            let reading: Vec<(String, String)> = shards
                .iter()
                .filter_map(|(id, reading)| match reading {
                    Reading::At(iterator) => Some((id.clone(), iterator.clone())),
                    Reading::Ended => None,
                })
                .collect();
            for (id, iterator) in reading {
                let limit = self.mapping.batch_size;
                match self.streams.get_records().shard_iterator(iterator).limit(limit).send().await {
                    Ok(output) => {
                        found_records |= !output.records().is_empty();
                        self.deliver(output.records(), &stream_arn).await;
                        let next = output.next_shard_iterator().map(|next| Reading::At(next.to_owned()));
                        if next.is_none() {
                            // Its children may start now.
                            described_at = None;
                        }
                        shards.insert(id, next.unwrap_or(Reading::Ended));
                    }
                    Err(error) => {
                        // An expired or trimmed iterator: the shard starts
                        // again from its oldest record at the next describe
                        // (a repeated push is allowed; a lost one is not).
                        eprintln!("bridge: GetRecords on {id}: {}", DisplayErrorContext(&error));
                        shards.remove(&id);
                        described_at = None;
                        tokio::time::sleep(ERROR_PAUSE).await;
                    }
                }
            }
            if !found_records {
                tokio::time::sleep(IDLE_PAUSE).await;
            }
        }
    }

    /// The table's stream, waiting for a table that has one.
    async fn stream_arn(&self) -> String {
        let mut said = false;
        loop {
            let described = self.dynamodb.describe_table().table_name(&self.table).send().await;
            let problem = match described {
                Ok(output) => match output.table().and_then(|table| table.latest_stream_arn()) {
                    Some(arn) => return arn.to_owned(),
                    None => "it has no stream (a table made before StreamSpecification? recreate it)".to_owned(),
                },
                Err(error) => DisplayErrorContext(&error).to_string(),
            };
            if !said {
                eprintln!("bridge: waiting for table {}: {problem}", self.table);
                said = true;
            }
            tokio::time::sleep(ERROR_PAUSE).await;
        }
    }

    async fn describe(&self, stream_arn: &str) -> Result<Vec<Shard>, String> {
        let mut shards = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let request = self.streams.describe_stream().stream_arn(stream_arn).set_exclusive_start_shard_id(after);
            let output = request.send().await.map_err(|error| DisplayErrorContext(&error).to_string())?;
            let Some(description) = output.stream_description() else { return Ok(shards) };
            shards.extend(description.shards().iter().map(|shard| Shard {
                id: shard.shard_id().unwrap_or_default().to_owned(),
                parent: shard.parent_shard_id().map(str::to_owned),
                open: shard.sequence_number_range().is_none_or(|range| range.ending_sequence_number().is_none()),
            }));
            after = description.last_evaluated_shard_id().map(str::to_owned);
            if after.is_none() {
                return Ok(shards);
            }
        }
    }

    async fn iterator(&self, stream_arn: &str, shard: &str, position: ShardIteratorType) -> Option<String> {
        let request = self.streams.get_shard_iterator().stream_arn(stream_arn).shard_id(shard);
        match request.shard_iterator_type(position).send().await {
            Ok(output) => output.shard_iterator().map(str::to_owned),
            Err(error) => {
                eprintln!("bridge: GetShardIterator on {shard}: {}", DisplayErrorContext(&error));
                None
            }
        }
    }

    /// Invokes the notifier with the records the filters admit, until each
    /// is delivered or dropped.
    async fn deliver(&self, records: &[Record], stream_arn: &str) {
        let admitted: Vec<EventRecord> = records
            .iter()
            .map(|record| lambda_record(record, stream_arn))
            .filter(|record| self.mapping.filters.admits(&serde_json::to_value(record).unwrap_or_default()))
            .collect();
        let mut pending = VecDeque::from([(admitted, 0)]);
        while let Some((batch, retries)) = pending.pop_front() {
            if batch.is_empty() {
                continue;
            }
            let numbers: Vec<&str> = batch.iter().map(sequence_number).collect();
            let mut event = Event::default();
            event.records = batch.clone();
            let outcome = match self.invoker.invoke(NOTIFIER_FUNCTION, &event).await {
                Ok(reply) if self.mapping.reports_item_failures => outcome_of_reply(&reply, &numbers),
                Ok(_) => Outcome::Delivered,
                Err(error) => {
                    eprintln!("bridge: {NOTIFIER_FUNCTION} with {} records: {error}", batch.len());
                    Outcome::FunctionError
                }
            };
            match decide(batch.len(), retries, outcome, self.mapping.retry) {
                Decision::Done => {}
                Decision::Retry(part) => {
                    let (count, retry) = (batch.len(), retries + 1);
                    eprintln!("bridge: retrying records {part:?} of {count} ({outcome:?}), retry {retry}");
                    tokio::time::sleep(retry_pause(retries)).await;
                    pending.push_front((batch[part].to_vec(), retry));
                }
                Decision::Halve(first, second) => {
                    let (count, retry) = (batch.len(), retries + 1);
                    eprintln!("bridge: halving {count} records after a function error, retry {retry}");
                    tokio::time::sleep(retry_pause(retries)).await;
                    // In shard order: the first half is invoked first.
                    pending.push_front((batch[second].to_vec(), retry));
                    pending.push_front((batch[first].to_vec(), retry));
                }
                Decision::Drop(dropped) => eprintln!(
                    "bridge: dropping records {:?} after {retries} retries (an on-failure destination would get them)",
                    &numbers[dropped]
                ),
            }
        }
    }
}

/// Lambda backs off between retries; so does the bridge, more briefly.
fn retry_pause(retries: u32) -> Duration {
    Duration::from_millis(100 << retries.min(5))
}
