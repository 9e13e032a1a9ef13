//! The demo data the sample events of `events/` use. Local data only; a
//! deployed stack has no such users.

use shared::auth::token_hash;
use shared::model::{GroupId, Identifier, Timestamp};
use shared::store::{Store, TokenRecord, UserRecord};

/// The demo users: their logins, passwords and fixed tokens.
pub const DEMO_USERS: [(&str, &str, &str); 2] =
    [("demo-alice", "demo-alice-password", "demo-token-alice"), ("demo-bob", "demo-bob-password", "demo-token-bob")];

/// Messages of the demo mailboxes: (sender, recipient, timestamp, text).
pub const DEMO_MESSAGES: [(&str, &str, &str, &str); 3] = [
    ("demo-bob", "demo-alice", "2026-01-01T09:00:00.000000Z", "Hi Alice, lunch at noon?"),
    ("demo-bob", "demo-alice", "2026-01-01T09:05:00.000000Z", "Or one o'clock, if that suits you better."),
    ("demo-alice", "demo-bob", "2026-01-01T09:10:00.000000Z", "Noon is fine."),
];

/// The demo group: its id, name, admin and creation time; every demo user
/// is a member.
pub const DEMO_GROUP: (&str, &str, &str, &str) =
    ("d0000000000000000000000000000001", "Lunch crew", "demo-alice", "2026-01-01T09:12:00.000000Z");

/// Messages of the demo group: (sender, timestamp, text).
pub const DEMO_GROUP_MESSAGES: [(&str, &str, &str); 1] =
    [("demo-bob", "2026-01-01T09:15:00.000000Z", "Noon on Friday?")];

/// Writes the demo users, tokens, messages and group, unless they exist.
pub async fn seed_demo(store: &Store) {
    for (index, (login, password, token)) in DEMO_USERS.iter().enumerate() {
        let login = Identifier::parse("login", login).expect("demo login");
        let user = UserRecord {
            login: login.clone(),
            password_hash: Some(shared::auth::hash_password(password).expect("hash")),
        };
        let record = TokenRecord {
            hash: token_hash(token),
            login,
            expires_at: Timestamp::now().plus_seconds(10 * 365 * 24 * 3600),
        };
        let created = store.create_user(&user, &record).await.expect("create demo user");
        if !created && index == 0 {
            return;
        }
    }
    for (sender, recipient, at, text) in DEMO_MESSAGES {
        let sender = Identifier::parse("sender", sender).expect("demo sender");
        let recipient = Identifier::parse("recipient", recipient).expect("demo recipient");
        let at = Timestamp::parse("timestamp", at).expect("demo timestamp");
        store.import_message(&sender, &recipient, text, at).await.expect("seed demo message");
    }
    let (id, name, admin, created_at) = DEMO_GROUP;
    let group = GroupId::parse("group", id).expect("demo group id");
    let admin = Identifier::parse("admin", admin).expect("demo admin");
    let others: Vec<Identifier> =
        DEMO_USERS.iter().map(|(login, _, _)| Identifier::parse("login", login).expect("demo login")).collect();
    let created_at = Timestamp::parse("timestamp", created_at).expect("demo timestamp");
    store.import_group(&group, &admin, name, &others, created_at).await.expect("seed demo group");
    for (sender, at, text) in DEMO_GROUP_MESSAGES {
        let sender = Identifier::parse("sender", sender).expect("demo sender");
        let at = Timestamp::parse("timestamp", at).expect("demo timestamp");
        store.import_group_message(&sender, &group, text, at).await.expect("seed demo group message");
    }
}
