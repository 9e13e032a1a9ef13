//! What the table holds, read directly: a mailbox's texts, its invariants,
//! and a snapshot of every item.

use messenger_tools::stack::dynamodb_client;
use shared::model::{Identifier, Timestamp};
use shared::store::{MailboxRange, Store};

/// Every message text in `recipient`'s mailbox, oldest first.
pub async fn mailbox_texts(store: &Store, recipient: &Identifier) -> Vec<String> {
    let range = MailboxRange { recipient, group: None, sender: None, from: None, to: None };
    store
        .read_mailbox(range, false, usize::MAX, usize::MAX)
        .await
        .expect("read the mailbox")
        .into_iter()
        .map(|m| m.message)
        .collect()
}

/// The invariants of one mailbox: each pair's counter equals the messages
/// after its cursor, and no message is newer than the pair's
/// `last_message_at`.
pub async fn assert_mailbox_consistent(store: &Store, recipient: &Identifier) {
    for pair in store.pairs(recipient).await.expect("read pairs") {
        let after_cursor = MailboxRange {
            recipient,
            group: None,
            sender: Some(&pair.sender),
            from: pair.fetched_through.map(Timestamp::next),
            to: None,
        };
        let unfetched = store.read_mailbox(after_cursor, false, usize::MAX, usize::MAX).await.expect("read messages");
        assert_eq!(unfetched.len() as u64, pair.new_messages, "{recipient} from {}: counter vs messages", pair.sender);
        // The pending index holds the pair while it has new messages, under
        // a bound no newer than the oldest of them (and may hold it a while
        // after: a fetch tidies the bound outside its transaction).
        if let Some(oldest) = unfetched.first() {
            let since = pair.pending_since.unwrap_or_else(|| panic!("{recipient} from {}: not pending", pair.sender));
            assert!(since <= oldest.timestamp, "{recipient} from {}: pending since {since}", pair.sender);
        }
        let all = MailboxRange { recipient, group: None, sender: Some(&pair.sender), from: None, to: None };
        let newest = store.read_mailbox(all, true, 1, usize::MAX).await.expect("read newest");
        assert!(newest.iter().all(|m| m.timestamp <= pair.last_message_at), "{recipient} from {}", pair.sender);
    }
}

/// Every item of the table, as sorted JSON text: two snapshots are equal
/// exactly when the table did not change.
pub async fn table_snapshot(table: &str) -> Vec<String> {
    let client = dynamodb_client().await;
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan the table");
        for item in page.items.unwrap_or_default() {
            let value: serde_json::Value = serde_dynamo::from_item(item).expect("item as JSON");
            items.push(value.to_string());
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    items.sort();
    items
}
