//! How much one reply may carry. Lambda refuses a response over 6 MB
//! (6,291,556 bytes) and API Gateway then answers 5xx, so every list a
//! reply holds is cut by its serialized size as well as by `limit`.

use serde::Serialize;

/// The most a reply's message list may take, serialized: a sixth of
/// Lambda's limit, so a reply never comes near it (a message is at most
/// 64 KiB, the request body limit), and small enough that local emulators
/// carry it too. A thousand 1 KB messages fit.
pub const MAX_REPLY_BYTES: usize = 1024 * 1024;

/// Serialized size of one list entry: its JSON and a separating comma.
pub fn entry_bytes(entry: &impl Serialize) -> usize {
    serde_json::to_vec(entry).map_or(0, |json| json.len()) + 1
}

/// How many of `entries`, taken from the front, fit in `budget` bytes;
/// at least one when there is any, so a reply always makes progress.
pub fn leading_fit<T: Serialize>(entries: &[T], budget: usize) -> usize {
    let mut used = 0;
    for (index, entry) in entries.iter().enumerate() {
        used += entry_bytes(entry);
        if used > budget {
            return index.max(1);
        }
    }
    entries.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_fit_cuts_at_the_budget() {
        // Each "xxxxxxxx" entry is 10 bytes of JSON plus a comma.
        let entries = vec!["x".repeat(8); 5];
        let cases = [(0, 1), (10, 1), (11, 1), (22, 2), (32, 2), (33, 3), (55, 5), (1000, 5)];
        for (budget, fits) in cases {
            assert_eq!(leading_fit(&entries, budget), fits, "budget {budget}");
        }
        assert_eq!(leading_fit::<String>(&[], 0), 0);
    }
}
