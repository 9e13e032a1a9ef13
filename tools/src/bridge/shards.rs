//! Which of a stream's shards to start reading, and where: as a mapping
//! with StartingPosition LATEST, the shards open when the bridge starts
//! are read from their tip; every shard that appears later is read from
//! its start, once its parent (if the bridge reads it) has ended, so a
//! key's records stay in order across a shard split.

use std::collections::HashMap;

use aws_sdk_dynamodbstreams::types::ShardIteratorType;

/// A shard as DescribeStream lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Shard {
    pub id: String,
    pub parent: Option<String>,
    /// A closed shard has an ending sequence number and no new records.
    pub open: bool,
}

/// What the poller knows of a shard.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    /// The iterator for the next GetRecords.
    At(String),
    /// Read to its end, or closed before the bridge started.
    Ended,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    From(ShardIteratorType),
    /// Never read (closed before the bridge started).
    Skip,
}

/// The shards of `described` to start now; `first` is the describe at the
/// bridge's start.
pub fn shards_to_start(described: &[Shard], known: &HashMap<String, Reading>, first: bool) -> Vec<(String, Start)> {
    let mut starts = Vec::new();
    for shard in described.iter().filter(|shard| !known.contains_key(&shard.id)) {
        let start = if first {
            if shard.open {
                Start::From(ShardIteratorType::Latest)
            } else {
                Start::Skip
            }
        } else {
            let parent_unread =
                shard.parent.as_ref().is_some_and(|parent| matches!(known.get(parent), Some(Reading::At(_))));
            if parent_unread {
                continue;
            }
            Start::From(ShardIteratorType::TrimHorizon)
        };
        starts.push((shard.id.clone(), start));
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(id: &str, parent: Option<&str>, open: bool) -> Shard {
        Shard { id: id.to_owned(), parent: parent.map(str::to_owned), open }
    }

    #[test]
    fn at_start_open_shards_are_read_from_their_tip_and_closed_ones_never() {
        let described = [shard("a", None, false), shard("b", Some("a"), true)];
        let starts = shards_to_start(&described, &HashMap::new(), true);
        assert_eq!(
            starts,
            vec![("a".to_owned(), Start::Skip), ("b".to_owned(), Start::From(ShardIteratorType::Latest))]
        );
    }

    #[test]
    fn later_shards_are_read_from_their_start_once_their_parent_ended() {
        let described = [shard("b", None, false), shard("c", Some("b"), true), shard("d", Some("gone"), true)];
        let mut known = HashMap::from([("b".to_owned(), Reading::At("iterator".to_owned()))]);
        let starts = shards_to_start(&described, &known, false);
        assert_eq!(starts, vec![("d".to_owned(), Start::From(ShardIteratorType::TrimHorizon))]);
        known.insert("b".to_owned(), Reading::Ended);
        let starts = shards_to_start(&described, &known, false);
        assert_eq!(
            starts,
            vec![
                ("c".to_owned(), Start::From(ShardIteratorType::TrimHorizon)),
                ("d".to_owned(), Start::From(ShardIteratorType::TrimHorizon))
            ]
        );
    }
}
