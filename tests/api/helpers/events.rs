//! The sample events of `events/` and the status each must get, in an
//! order that holds when they run one after another on fresh demo data
//! (logout, which revokes bob's token, comes last). The demo group's events
//! come before alice leaves it; the others name a group no one is in.

use std::collections::BTreeMap;

use messenger_tools::template::repo_root;

pub const EXPECTED: [(&str, u16); 41] = [
    ("register", 201),
    ("register-taken", 409),
    ("login", 200),
    ("login-wrong-password", 401),
    ("send_message", 201),
    ("send_message-unknown-recipient", 404),
    ("send_message-no-token", 401),
    ("fetch_new_messages", 200),
    ("fetch_messages", 200),
    ("fetch_messages-forbidden", 403),
    ("delete_message", 201),
    ("delete_message-not-found", 404),
    ("delete_messages", 201),
    ("conversations", 200),
    ("mark_read", 200),
    ("block", 200),
    ("blocked", 200),
    ("unblock", 200),
    ("delete_conversation", 200),
    ("group_members", 200),
    ("send_message-group", 201),
    ("fetch_new_messages-group", 200),
    ("add_members", 200),
    ("add_members-not-admin", 403),
    ("remove_member", 200),
    ("leave_group", 200),
    ("create_group", 201),
    ("create_group-unknown-member", 404),
    ("groups", 200),
    ("add_members-unknown-group", 404),
    ("remove_member-unknown-group", 404),
    ("leave_group-unknown-group", 404),
    ("group_members-unknown-group", 404),
    ("send_message-unknown-group", 404),
    ("send_message-recipient-and-group", 400),
    ("fetch_new_messages-unknown-group", 404),
    ("realtime_ticket", 201),
    ("realtime_connect-unknown-ticket", 401),
    ("realtime_default", 200),
    ("realtime_disconnect", 200),
    ("logout", 200),
];

/// The stream batch the notifier takes: a message to demo-alice, who holds
/// no connection, so nothing is pushed and nothing fails.
pub const STREAM_EVENT: &str = "realtime_notifier";

/// The function an event is for: its file name up to the first `-`.
pub fn function_of(event: &str) -> &str {
    event.split('-').next().expect("non-empty name")
}

/// Every event file (but the env-vars file), by name without `.json`.
pub fn event_files() -> BTreeMap<String, String> {
    std::fs::read_dir(repo_root().join("events"))
        .expect("events/ exists")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json") && path.file_name().unwrap() != "env.json")
        .map(|path| {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, std::fs::read_to_string(&path).expect("readable event"))
        })
        .collect()
}

/// Every event file has an expectation, and every expectation a file.
pub fn assert_all_covered() {
    let files: Vec<String> = event_files().into_keys().collect();
    let mut expected: Vec<String> = EXPECTED.iter().map(|(name, _)| name.to_string()).collect();
    expected.push(STREAM_EVENT.to_owned());
    expected.sort();
    assert_eq!(files, expected, "events/ and the expectations list the same events");
}
