//! The access matrix: every protected endpoint against every kind of
//! credential, asserting the documented status and that nothing was
//! returned, consumed or deleted that the caller may not touch (OWASP API1):
//! bob's messages to alice, and alice's groups, which bob is a member of
//! but not their admin. Needs the local stack's table, to plant an expired
//! token.

use std::collections::BTreeSet;

use messenger_tools::stack::{app_at, stack_table};
use serde_json::{json, Value};
use shared::auth::token_hash;
use shared::model::{Identifier, Timestamp};
use shared::store::TokenRecord;

use crate::helpers::{protected_routes, texts, Reply, TestApp, User};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Credential {
    NoToken,
    Malformed,
    Unknown,
    Expired,
    Revoked,
    /// Eve: no party of the messages, no member of alice's groups.
    Unrelated,
    /// Mallory: a member of alice's groups until alice removed her.
    Removed,
    /// Bob: the other party of a bob-to-alice message, and a member of
    /// alice's groups who is not their admin.
    OtherParty,
}

const CREDENTIALS: [Credential; 8] = [
    Credential::NoToken,
    Credential::Malformed,
    Credential::Unknown,
    Credential::Expired,
    Credential::Revoked,
    Credential::Unrelated,
    Credential::Removed,
    Credential::OtherParty,
];

/// A route of the matrix and, for send_message and fetch_new_messages,
/// whether the request names alice's group rather than a mailbox.
#[derive(Debug, Clone, Copy)]
struct Operation<'a> {
    method: &'a str,
    path: &'a str,
    group: bool,
}

/// The routes that also take a group instead of a mailbox.
const GROUP_VARIANTS: [(&str, &str); 2] = [("POST", "/send_message"), ("PUT", "/fetch_new_messages")];

/// What alice's group holds before the matrix: one message, new to bob.
const GROUP_SECRET: &str = "group secret";

struct World {
    app: TestApp,
    alice: User,
    bob: User,
    eve_login: String,
    mallory_login: String,
    /// Alice's group: alice (its admin) and bob; mallory was removed.
    group: String,
    /// Another group like it, for the cells that leave one.
    leaving: String,
    expired: String,
    revoked: String,
    stamps: Vec<String>,
}

/// The request each endpoint gets: about bob's messages to alice, or
/// alice's group.
fn body_for(world: &World, operation: Operation, cell: usize) -> Option<Value> {
    let (alice, bob, group) = (&world.alice.login, &world.bob.login, &world.group);
    if operation.group {
        return Some(match operation.path {
            "/send_message" => json!({"group": group, "message": "matrix in the group"}),
            _ => json!({"group": group}),
        });
    }
    match operation.path {
        "/logout" | "/conversations" | "/realtime_ticket" | "/blocked" | "/groups" => None,
        // A group of the caller's own, without alice.
        "/create_group" => Some(json!({"name": "matrix"})),
        "/add_members" => Some(json!({"group": group, "members": [world.eve_login]})),
        // Alice is a member; only she, the admin, may remove members.
        "/remove_member" => Some(json!({"group": group, "member": alice})),
        "/group_members" => Some(json!({"group": group})),
        // The cells that may leave leave another group than alice's.
        "/leave_group" => Some(json!({"group": world.leaving})),
        // A caller blocks for their own mailbox only.
        "/block" | "/unblock" => Some(json!({"login": alice})),
        // Bob's conversation with himself, eve's with bob: none of alice's.
        "/delete_conversation" => Some(json!({"with": bob})),
        "/send_message" => Some(json!({"sender": bob, "recipient": alice, "message": "matrix"})),
        "/fetch_new_messages" => Some(json!({"recipient": alice})),
        "/fetch_messages" => Some(json!({"recipient": alice})),
        // Marks nothing of alice's whoever calls: a caller marks their own mailbox.
        "/mark_read" => Some(json!({"sender": bob, "through": world.stamps[cell]})),
        "/delete_message" => Some(json!({"sender": bob, "recipient": alice, "timestamp": world.stamps[cell]})),
        // Another message than delete_message's cell, so each allowed
        // delete removes one.
        "/delete_messages" => {
            let other = &world.stamps[(cell + 1) % world.stamps.len()];
            Some(json!({"sender": bob, "recipient": alice, "timestamps": [other]}))
        }
        other => panic!("{other}"),
    }
}

/// The documented status of a cell.
fn expected_status(operation: Operation, credential: Credential) -> u16 {
    use Credential::*;
    match (credential, operation.path, operation.group) {
        (NoToken | Malformed | Unknown | Expired | Revoked, _, _) => 401,
        (_, "/logout" | "/conversations" | "/mark_read" | "/block" | "/unblock" | "/blocked" | "/groups", _) => 200,
        (_, "/delete_conversation", _) => 200,
        // A ticket opens a socket for its holder's own mailbox; a group
        // is the caller's own.
        (_, "/realtime_ticket" | "/create_group", _) => 201,
        (OtherParty, "/delete_message" | "/delete_messages", _) => 201,
        // A group one is not in is as unknown as one that does not exist.
        (Unrelated | Removed, "/add_members" | "/remove_member" | "/leave_group" | "/group_members", _)
        | (Unrelated | Removed, _, true) => 404,
        // A member who is not the admin.
        (OtherParty, "/add_members" | "/remove_member", _) => 403,
        (OtherParty, "/leave_group" | "/group_members", _) | (OtherParty, "/fetch_new_messages", true) => 200,
        (OtherParty, "/send_message", true) => 201,
        (Unrelated | Removed | OtherParty, _, _) => 403,
    }
}

/// Whose token a valid credential is, on endpoints other than send_message.
fn credential_login(world: &World, credential: Credential) -> &str {
    match credential {
        Credential::Unrelated => &world.eve_login,
        Credential::Removed => &world.mallory_login,
        Credential::OtherParty => &world.bob.login,
        other => panic!("{other:?} is refused"),
    }
}

/// What an allowed cell about groups answered: none of alice's groups to
/// those not in them, and to bob, her group as it is.
fn check_group_reply(world: &World, operation: Operation, credential: Credential, body: &Value) {
    let member = credential == Credential::OtherParty;
    match (operation.path, operation.group) {
        ("/groups", _) => {
            let listed = group_ids(body);
            assert_eq!(listed.contains(world.group.as_str()), member, "{credential:?}: {listed:?}");
            assert!(member || !listed.contains(world.leaving.as_str()), "{credential:?}: {listed:?}");
        }
        ("/create_group", _) => {
            let caller = credential_login(world, credential);
            assert_eq!((&body["admin"], &body["members"]), (&json!(caller), &json!([caller])), "{credential:?}");
        }
        ("/group_members", _) => assert_eq!(logins(&body["members"]), alice_and_bob(world), "{credential:?}"),
        ("/fetch_new_messages", true) => assert_eq!(texts(body), [GROUP_SECRET], "{credential:?}"),
        _ => {}
    }
}

/// The groups of a GET /groups reply.
fn group_ids(reply: &Value) -> BTreeSet<&str> {
    reply["groups"].as_array().expect("groups").iter().map(|row| row["group"].as_str().expect("group")).collect()
}

/// The logins of group_members' `members`, in its order.
fn logins(members: &Value) -> Vec<&str> {
    members.as_array().expect("members").iter().map(|member| member["login"].as_str().expect("login")).collect()
}

/// The members of alice's group, in login order.
fn alice_and_bob(world: &World) -> [&str; 2] {
    // matrix-alice-… sorts before matrix-bob-….
    [&world.alice.login, &world.bob.login]
}

async fn call_cell(world: &World, operation: Operation<'_>, credential: Credential, cell: usize) -> Reply {
    let (app, Operation { method, path, group }) = (&world.app, operation);
    let body = body_for(world, operation, cell);
    let token = match credential {
        Credential::NoToken => return app.call(method, path, None, body).await,
        Credential::Malformed => {
            let headers = [("authorization", "Bearer two words"), ("content-type", "application/json")];
            let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
            return app.send_raw(method, path, &headers, bytes).await;
        }
        Credential::Unknown => "x".repeat(43),
        Credential::Expired => world.expired.clone(),
        Credential::Revoked => world.revoked.clone(),
        Credential::Unrelated => app.fresh_token(&world.eve_login).await,
        Credential::Removed => app.fresh_token(&world.mallory_login).await,
        // The other party of a bob-to-alice message: alice when the request
        // acts as bob (send_message to alice), else bob.
        Credential::OtherParty if path == "/send_message" && !group => world.alice.token.clone(),
        Credential::OtherParty => app.fresh_token(&world.bob.login).await,
    };
    app.call(method, path, Some(&token), body).await
}

#[tokio::test]
async fn every_endpoint_against_every_credential() {
    let (app, [alice, bob, eve, mallory]) =
        TestApp::with_users(["matrix-alice", "matrix-bob", "matrix-eve", "matrix-mallory"]).await;
    let mut stamps = Vec::new();
    for i in 0..CREDENTIALS.len() {
        let reply = app.send(&bob, &alice.login, &format!("secret {i}")).await;
        stamps.push(reply.body["timestamp"].as_str().unwrap().to_owned());
    }
    let stack = app_at(None, &stack_table()).await;
    let expired = "expired-token-for-the-access-matrix-0000000".to_owned();
    let record = TokenRecord {
        hash: token_hash(&expired),
        login: Identifier::parse("login", &alice.login).unwrap(),
        expires_at: Timestamp::now().plus_seconds(-1),
    };
    stack.store.put_token(&record).await.unwrap();
    let revoked = app.fresh_token(&alice.login).await;
    assert_eq!(app.call("POST", "/logout", Some(&revoked), None).await.status, 200);
    let mut groups = Vec::new();
    for _ in 0..2 {
        let group = app.create_group(&alice, "matrix", &[&bob, &mallory]).await;
        app.remove_member(&alice, &group, &mallory).await;
        groups.push(group);
    }
    let [group, leaving] = groups.try_into().expect("two groups");
    assert_eq!(app.send_to_group(&alice, &group, GROUP_SECRET).await.status, 201);
    let world = World {
        app: app.clone(),
        alice,
        bob,
        eve_login: eve.login,
        mallory_login: mallory.login,
        group,
        leaving,
        expired,
        revoked,
        stamps,
    };

    let mut cells = 0;
    let mut deleted = 0;
    let endpoints = protected_routes();
    assert_eq!(endpoints.len(), 19);
    let mailbox_operations = endpoints.iter().map(|(method, path)| Operation { method, path, group: false });
    let group_operations = GROUP_VARIANTS.into_iter().map(|(method, path)| Operation { method, path, group: true });
    for operation in mailbox_operations.chain(group_operations) {
        let Operation { method, path, group } = operation;
        for (cell, credential) in CREDENTIALS.into_iter().enumerate() {
            let reply = call_cell(&world, operation, credential, cell).await;
            let expected = expected_status(operation, credential);
            let group = if group { " to the group" } else { "" };
            assert_eq!(reply.status, expected, "{method} {path}{group} with {credential:?}: {:?}", reply.body);
            cells += 1;
            if expected >= 400 {
                assert_eq!(
                    reply.body.as_object().unwrap().keys().collect::<Vec<_>>(),
                    ["error"],
                    "nothing but an error"
                );
            }
            if path == "/mark_read" && expected == 200 {
                assert_eq!(reply.body["marked"], 0, "{credential:?} marks nothing in alice's mailbox");
            }
            if path == "/delete_conversation" && expected == 200 {
                assert_eq!(reply.body, json!({"deleted": 0, "more": false}), "{credential:?} deletes none of alice's");
            }
            if path == "/conversations" && expected == 200 {
                let rows = reply.body["conversations"].as_array().unwrap();
                assert!(rows.is_empty(), "{credential:?} sees only their own conversations: {rows:?}");
            }
            if path == "/realtime_ticket" && expected == 201 {
                let hash = token_hash(reply.body["ticket"].as_str().unwrap());
                let holder = stack.store.take_ticket(&hash).await.unwrap().map(|login| login.to_string());
                assert_eq!(holder.as_deref(), Some(credential_login(&world, credential)), "{credential:?}");
            } else if path.starts_with("/delete_message") && expected == 201 {
                deleted += 1;
            }
            if expected < 400 {
                check_group_reply(&world, operation, credential, &reply.body);
            }
        }
    }
    assert_eq!(cells, 168);

    // Alice's groups as she sees them: only bob's leave and his one
    // message changed them.
    let view = app.group_members(&world.alice, &world.group).await;
    assert_eq!((&view["name"], &view["admin"]), (&json!("matrix"), &json!(world.alice.login)));
    assert_eq!(logins(&view["members"]), alice_and_bob(&world), "no one joined or left");
    let view = app.group_members(&world.alice, &world.leaving).await;
    assert_eq!(logins(&view["members"]), [world.alice.login.as_str()], "bob left, no one else did");
    let listed = app.groups(&world.alice).await;
    let both = BTreeSet::from([world.group.as_str(), world.leaving.as_str()]);
    assert_eq!(group_ids(&listed), both, "no one put alice in a group");
    let in_group = app.fetch_new(&world.alice, json!({"group": world.group})).await;
    assert_eq!(texts(&in_group), ["matrix in the group"], "only bob's message reached the group");

    let blocked = app.call("GET", "/blocked", Some(&world.alice.token), None).await;
    assert_eq!(blocked.body, json!({"blocked": []}), "others' blocks are theirs, not alice's");

    // Alice's own view: her token works, nothing was sent in bob's name,
    // nothing of hers was consumed, and only the parties' deletes happened.
    let fetched = app.call("PUT", "/fetch_new_messages", Some(&world.alice.token), Some(json!({}))).await;
    assert_eq!(fetched.status, 200);
    let texts = texts(&fetched.body);
    assert_eq!(texts.len(), CREDENTIALS.len() - deleted, "{texts:?}");
    assert!(!texts.iter().any(|text| text == "matrix"), "no message was sent in bob's name");
    let remaining: Vec<String> = (0..CREDENTIALS.len()).map(|i| format!("secret {i}")).collect();
    for text in texts {
        assert!(remaining.contains(&text));
    }
}
