//! AWS's conflict rules for concurrent writes, which DynamoDB Local does
//! not apply (it runs one transaction at a time): while a TransactWriteItems
//! is in flight, another transaction that includes any of its items (a
//! `ConditionCheck` counts) is cancelled with `TransactionConflict` on those
//! items, and a PutItem, UpdateItem or DeleteItem of one of them is refused
//! with `TransactionConflictException`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// An item's identity: its table and the JSON of its key attributes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ItemKey(String);

/// The table's key attributes (every messenger item has both).
const KEY_ATTRIBUTES: [&str; 2] = ["pk", "sk"];

impl ItemKey {
    /// The key of the item a Put carries whole, or of an Update, Delete or
    /// ConditionCheck's `Key`.
    fn of(operation: &Value) -> Option<Self> {
        let attributes = operation.get("Key").or_else(|| operation.get("Item"))?;
        let key: Vec<String> =
            KEY_ATTRIBUTES.iter().map(|name| attributes.get(*name).map(Value::to_string).unwrap_or_default()).collect();
        Some(Self(format!("{}/{}", operation["TableName"].as_str()?, key.join("/"))))
    }
}

/// What a request writes, as far as conflicts go.
#[derive(Debug, PartialEq)]
pub enum Writes {
    /// A TransactWriteItems: each item's key, in request order.
    Transaction(Vec<ItemKey>),
    /// A PutItem, UpdateItem or DeleteItem.
    Single(ItemKey),
    /// Anything else (reads never conflict).
    Nothing,
}

impl Writes {
    /// Reads the operation from the `X-Amz-Target` header and the body.
    pub fn of(target: &str, body: &[u8]) -> Self {
        let operation = target.rsplit('.').next().unwrap_or_default();
        let parse = || serde_json::from_slice::<Value>(body).ok();
        match operation {
            "TransactWriteItems" => {
                let Some(request) = parse() else { return Self::Nothing };
                let keys = request["TransactItems"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|item| item.as_object()?.values().next().and_then(ItemKey::of))
                    .collect();
                Self::Transaction(keys)
            }
            "PutItem" | "UpdateItem" | "DeleteItem" => {
                parse().as_ref().and_then(ItemKey::of).map_or(Self::Nothing, Self::Single)
            }
            _ => Self::Nothing,
        }
    }
}

/// The items of the transactions in flight.
#[derive(Clone, Default)]
pub struct InFlight {
    keys: Arc<Mutex<HashMap<ItemKey, usize>>>,
}

/// Marks a transaction's items in flight until dropped.
pub struct Hold {
    in_flight: InFlight,
    keys: Vec<ItemKey>,
}

impl Drop for Hold {
    fn drop(&mut self) {
        let mut held = self.in_flight.keys.lock().expect("in-flight lock");
        for key in &self.keys {
            if let Some(count) = held.get_mut(key) {
                *count -= 1;
                if *count == 0 {
                    held.remove(key);
                }
            }
        }
    }
}

impl InFlight {
    /// Admits a transaction, holding its items, or names which of its items
    /// (by position) another transaction in flight holds.
    pub fn begin(&self, keys: Vec<ItemKey>) -> Result<Hold, Vec<bool>> {
        let mut held = self.keys.lock().expect("in-flight lock");
        let conflicts: Vec<bool> = keys.iter().map(|key| held.contains_key(key)).collect();
        if conflicts.contains(&true) {
            return Err(conflicts);
        }
        for key in &keys {
            *held.entry(key.clone()).or_default() += 1;
        }
        Ok(Hold { in_flight: self.clone(), keys })
    }

    /// Whether a single-item write to `key` conflicts with a transaction.
    pub fn holds(&self, key: &ItemKey) -> bool {
        self.keys.lock().expect("in-flight lock").contains_key(key)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn transaction(items: Value) -> Writes {
        Writes::of("DynamoDB_20120810.TransactWriteItems", json!({"TransactItems": items}).to_string().as_bytes())
    }

    fn key(pk: &str, sk: &str) -> Value {
        json!({"pk": {"S": pk}, "sk": {"S": sk}})
    }

    fn keys_of(writes: Writes) -> Vec<ItemKey> {
        match writes {
            Writes::Transaction(keys) => keys,
            other => panic!("not a transaction: {other:?}"),
        }
    }

    #[test]
    fn every_kind_of_transaction_item_names_its_key() {
        let writes = transaction(json!([
            {"ConditionCheck": {"TableName": "t", "Key": key("USER#a", "PROFILE"), "ConditionExpression": "x"}},
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "USER#a"}, "sk": {"S": "MSG#1"}, "message": {"S": "hi"}}}},
            {"Update": {"TableName": "t", "Key": key("USER#a", "PAIR#b")}},
            {"Delete": {"TableName": "t", "Key": key("USER#a", "MSG#0")}},
        ]));
        let keys = keys_of(writes);
        assert_eq!(keys.len(), 4);
        assert_eq!(keys[1], ItemKey::of(&json!({"TableName": "t", "Key": key("USER#a", "MSG#1")})).unwrap());
    }

    #[test]
    fn overlapping_transactions_conflict_on_the_shared_items_only() {
        let in_flight = InFlight::default();
        let first = keys_of(transaction(json!([
            {"ConditionCheck": {"TableName": "t", "Key": key("USER#a", "PROFILE")}},
            {"Update": {"TableName": "t", "Key": key("USER#a", "PAIR#b")}},
        ])));
        let second = keys_of(transaction(json!([
            {"Update": {"TableName": "t", "Key": key("USER#a", "PAIR#c")}},
            {"ConditionCheck": {"TableName": "t", "Key": key("USER#a", "PROFILE")}},
        ])));
        let hold = in_flight.begin(first).expect("nothing in flight");
        assert_eq!(in_flight.begin(second.clone()).err(), Some(vec![false, true]));
        drop(hold);
        assert!(in_flight.begin(second).is_ok(), "the first transaction's items are released when it ends");
    }

    #[test]
    fn single_writes_conflict_with_transactions_not_with_each_other() {
        let in_flight = InFlight::default();
        let body = json!({"TableName": "t", "Key": key("USER#a", "PAIR#b"), "UpdateExpression": "SET x = :x"});
        let Writes::Single(single) = Writes::of("DynamoDB_20120810.UpdateItem", body.to_string().as_bytes()) else {
            panic!("an UpdateItem is a single write");
        };
        assert!(!in_flight.holds(&single));
        let _hold = in_flight.begin(vec![single.clone()]).expect("nothing in flight");
        assert!(in_flight.holds(&single));
        let other = ItemKey::of(&json!({"TableName": "t", "Key": key("USER#a", "PAIR#c")})).unwrap();
        assert!(!in_flight.holds(&other));
    }

    #[test]
    fn reads_and_other_tables_do_not_conflict() {
        let get = json!({"TableName": "t", "Key": key("USER#a", "PAIR#b")}).to_string();
        assert_eq!(Writes::of("DynamoDB_20120810.GetItem", get.as_bytes()), Writes::Nothing);
        let here = ItemKey::of(&json!({"TableName": "t", "Key": key("USER#a", "PAIR#b")})).unwrap();
        let there = ItemKey::of(&json!({"TableName": "u", "Key": key("USER#a", "PAIR#b")})).unwrap();
        assert_ne!(here, there);
    }
}
