//! The access matrix: every protected endpoint against every kind of
//! credential, asserting the documented status and that nothing was
//! returned, consumed or deleted that the caller may not touch (OWASP API1).
//! Needs the local stack's table, to plant an expired token.

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
    Unrelated,
    OtherParty,
}

const CREDENTIALS: [Credential; 7] = [
    Credential::NoToken,
    Credential::Malformed,
    Credential::Unknown,
    Credential::Expired,
    Credential::Revoked,
    Credential::Unrelated,
    Credential::OtherParty,
];

struct World {
    app: TestApp,
    alice: User,
    bob: User,
    eve_login: String,
    expired: String,
    revoked: String,
    stamps: Vec<String>,
}

/// The request each endpoint gets: about bob's messages to alice.
fn body_for(world: &World, path: &str, cell: usize) -> Option<Value> {
    let (alice, bob) = (&world.alice.login, &world.bob.login);
    match path {
        "/logout" | "/conversations" | "/realtime_ticket" | "/blocked" => None,
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
fn expected_status(path: &str, credential: Credential) -> u16 {
    use Credential::*;
    match (credential, path) {
        (NoToken | Malformed | Unknown | Expired | Revoked, _) => 401,
        (_, "/logout" | "/conversations" | "/mark_read" | "/block" | "/unblock" | "/blocked") => 200,
        (_, "/delete_conversation") => 200,
        // A ticket opens a socket for its holder's own mailbox.
        (_, "/realtime_ticket") => 201,
        (OtherParty, "/delete_message" | "/delete_messages") => 201,
        (Unrelated | OtherParty, _) => 403,
    }
}

/// Whose token a valid credential is, on endpoints other than send_message.
fn credential_login(world: &World, credential: Credential) -> &str {
    match credential {
        Credential::Unrelated => &world.eve_login,
        Credential::OtherParty => &world.bob.login,
        other => panic!("{other:?} is refused"),
    }
}

async fn call_cell(world: &World, method: &str, path: &str, credential: Credential, cell: usize) -> Reply {
    let app = &world.app;
    let body = body_for(world, path, cell);
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
        // The other party of a bob-to-alice message: alice when the request
        // acts as bob (send_message), else bob.
        Credential::OtherParty if path == "/send_message" => world.alice.token.clone(),
        Credential::OtherParty => app.fresh_token(&world.bob.login).await,
    };
    app.call(method, path, Some(&token), body).await
}

#[tokio::test]
async fn every_endpoint_against_every_credential() {
    let (app, [alice, bob, eve]) = TestApp::with_users(["matrix-alice", "matrix-bob", "matrix-eve"]).await;
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
    let world = World { app: app.clone(), alice, bob, eve_login: eve.login, expired, revoked, stamps };

    let mut cells = 0;
    let mut deleted = 0;
    let endpoints = protected_routes();
    assert_eq!(endpoints.len(), 13);
    for (method, path) in &endpoints {
        let (method, path) = (method.as_str(), path.as_str());
        for (cell, credential) in CREDENTIALS.into_iter().enumerate() {
            let reply = call_cell(&world, method, path, credential, cell).await;
            let expected = expected_status(path, credential);
            assert_eq!(reply.status, expected, "{method} {path} with {credential:?}: {:?}", reply.body);
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
            } else if expected == 201 {
                deleted += 1;
            }
        }
    }
    assert_eq!(cells, 91);

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
