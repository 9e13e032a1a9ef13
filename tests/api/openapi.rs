//! `openapi.yaml` documents exactly the deployed routes, and its schemas
//! are sound. (Each response of the end-to-end suite is validated against
//! it by the HTTP client, `TestApp`.)

use std::collections::BTreeSet;

use messenger_tools::handlers::handler_request;
use serde_json::{json, Value};
use shared::app::{DEFAULT_MAX_MESSAGE_CHARS, DEFAULT_TOKEN_TTL_SECONDS};
use shared::{endpoints, Config};

use crate::helpers::{contract, routes};

#[test]
fn documented_operations_are_the_template_routes() {
    let documented = contract().operations();
    let deployed: BTreeSet<(String, String)> = routes().into_iter().collect();
    assert_eq!(documented, deployed);
}

#[test]
fn the_contract_accepts_documented_shapes_and_refuses_others() {
    let contract = contract();
    let message =
        json!({"sender": "bob", "recipient": "alice", "timestamp": "2026-01-01T09:00:00.000000Z", "message": "hi"});
    assert!(contract.check("PUT", "/fetch_new_messages", 200, &json!({"messages": [message], "more": false})).is_ok());
    assert!(contract.check("PUT", "/fetch_new_messages", 200, &json!({"messages": [], "more": "no"})).is_err());
    let bad_stamp = json!({"sender": "bob", "recipient": "alice", "timestamp": "2026-01-01", "message": "hi"});
    assert!(contract.check("PUT", "/fetch_messages", 200, &json!({"messages": [bad_stamp], "next": null})).is_err());
    assert!(contract
        .check("POST", "/send_message", 404, &json!({"error": "recipient x is not a registered user"}))
        .is_ok());
    assert!(contract.check("POST", "/send_message", 404, &json!({"message": "not an error shape"})).is_err());
    assert!(contract.check("GET", "/conversations", 404, &json!({"error": "undocumented status"})).is_err());
    assert!(contract.check("GET", "/nowhere", 200, &json!({})).is_err());

    // Groups: a group message names its group, as a group id.
    let group = "3f2a9c0e5b7d41e8a6c4d2b0f9e8a7c6";
    let in_group = json!({"sender": "bob", "recipient": "alice", "timestamp": "2026-01-01T09:00:00.000000Z",
                          "message": "hi", "group": group});
    assert!(contract.check("PUT", "/fetch_new_messages", 200, &json!({"messages": [in_group], "more": false})).is_ok());
    let mut bad_group = in_group.clone();
    bad_group["group"] = json!("3F2A");
    assert!(contract
        .check("PUT", "/fetch_new_messages", 200, &json!({"messages": [bad_group], "more": false}))
        .is_err());
    let created = json!({"group": group, "name": "Lunch", "admin": "alice", "members": ["alice", "bob"]});
    assert!(contract.check("POST", "/create_group", 201, &created).is_ok());
    let mut extra = created.clone();
    extra["created_at"] = json!("2026-01-01T09:00:00.000000Z");
    assert!(contract.check("POST", "/create_group", 201, &extra).is_err(), "no undocumented field");
    let row = json!({"group": group, "name": "Lunch", "last_message_at": null, "new_messages": 0});
    assert!(contract.check("GET", "/groups", 200, &json!({"groups": [row]})).is_ok());
    assert!(contract
        .check("POST", "/add_members", 403, &json!({"error": "only the group's admin may add members"}))
        .is_ok());
    assert!(contract.check("PUT", "/group_members", 403, &json!({"error": "no such status here"})).is_err());
    for (method, path) in contract.operations() {
        let operation = &contract.document()["paths"][&path][method.to_lowercase()];
        assert!(operation["responses"]["503"].is_object(), "{method} {path} documents 503");
        let open = path == "/register" || path == "/login";
        assert_eq!(operation["security"] == json!([]), open, "{path}: only register and login need no token");
        assert_eq!(operation["responses"]["401"].is_object(), path != "/register", "{path} documents its 401");
    }
}

/// The validator of an operation's documented request body.
fn request_schema(method: &str, path: &str) -> jsonschema::Validator {
    let mut root = contract().document().clone();
    let pointer = format!("#/paths/{}/{method}/requestBody/content/application~1json/schema", path.replace('/', "~1"));
    root["$ref"] = json!(pointer);
    jsonschema::draft202012::new(&root).unwrap_or_else(|error| panic!("{method} {path}: {error}"))
}

/// Whether the endpoint's own `parse` accepts `body`.
fn parses(path: &str, body: &Value) -> bool {
    let request = handler_request(path.trim_start_matches('/'), "", Some(body.clone()));
    let config = Config {
        table_name: "unused".into(),
        max_message_chars: DEFAULT_MAX_MESSAGE_CHARS,
        token_ttl_seconds: DEFAULT_TOKEN_TTL_SECONDS,
        send_rate_per_minute: 0,
        registrations_per_hour: 0,
        websocket_url: None,
    };
    match path {
        "/send_message" => endpoints::send_message::parse(&request, &config).is_ok(),
        "/fetch_new_messages" => endpoints::fetch_new_messages::parse(&request).is_ok(),
        "/create_group" => endpoints::create_group::parse(&request).is_ok(),
        "/add_members" => endpoints::add_members::parse(&request).is_ok(),
        "/remove_member" => endpoints::remove_member::parse(&request).is_ok(),
        "/leave_group" => endpoints::leave_group::parse(&request).is_ok(),
        "/group_members" => endpoints::group_members::parse(&request).is_ok(),
        other => panic!("no parse for {other}"),
    }
}

/// The request schemas of the group fields accept what the endpoints'
/// `parse` accepts and refuse what it refuses, but for what a schema
/// cannot say (a blank name, control characters), which it lets through.
#[test]
fn group_request_schemas_are_the_endpoints_checks() {
    let g = "3f2a9c0e5b7d41e8a6c4d2b0f9e8a7c6";
    let logins = |n: usize| -> Vec<String> { (0..n).map(|i| format!("member-{i}")).collect() };
    // (METHOD, path, body, accepted)
    let cases = [
        ("POST", "/send_message", json!({"recipient": "bob", "message": "hi"}), true),
        ("POST", "/send_message", json!({"group": g, "message": "hi"}), true),
        ("POST", "/send_message", json!({"sender": "alice", "recipient": null, "group": g, "message": "hi"}), true),
        ("POST", "/send_message", json!({"recipient": "bob", "group": null, "message": "hi"}), true),
        ("POST", "/send_message", json!({"recipient": "bob", "group": g, "message": "hi"}), false),
        ("POST", "/send_message", json!({"message": "hi"}), false),
        ("POST", "/send_message", json!({"recipient": null, "group": null, "message": "hi"}), false),
        ("POST", "/send_message", json!({"group": g.to_uppercase(), "message": "hi"}), false),
        ("POST", "/send_message", json!({"group": &g[1..], "message": "hi"}), false),
        ("POST", "/send_message", json!({"group": g}), false),
        ("PUT", "/fetch_new_messages", json!({}), true),
        ("PUT", "/fetch_new_messages", json!({"group": g}), true),
        ("PUT", "/fetch_new_messages", json!({"group": g, "sender": "bob", "limit": 5, "wait": 0}), true),
        ("PUT", "/fetch_new_messages", json!({"group": null, "wait": 3}), true),
        ("PUT", "/fetch_new_messages", json!({"group": g, "wait": null}), true),
        ("PUT", "/fetch_new_messages", json!({"group": g, "wait": 1}), true),
        ("PUT", "/fetch_new_messages", json!({"group": g, "wait": 21}), false),
        ("PUT", "/fetch_new_messages", json!({"group": "x"}), false),
        ("POST", "/create_group", json!({"name": "Lunch"}), true),
        ("POST", "/create_group", json!({"name": "n".repeat(100), "members": logins(32)}), true),
        ("POST", "/create_group", json!({"name": "Lunch", "members": ["bob", "bob"]}), true),
        ("POST", "/create_group", json!({"name": "Lunch", "members": []}), true),
        ("POST", "/create_group", json!({"name": ""}), false),
        ("POST", "/create_group", json!({"name": "n".repeat(101)}), false),
        ("POST", "/create_group", json!({"name": "Lunch", "members": logins(33)}), false),
        ("POST", "/create_group", json!({"name": "Lunch", "members": ["ab"]}), false),
        ("POST", "/create_group", json!({"members": ["bob"]}), false),
        ("POST", "/add_members", json!({"group": g, "members": ["bob"]}), true),
        ("POST", "/add_members", json!({"group": g, "members": logins(32)}), true),
        ("POST", "/add_members", json!({"group": g, "members": []}), false),
        ("POST", "/add_members", json!({"group": g, "members": logins(33)}), false),
        ("POST", "/add_members", json!({"members": ["bob"]}), false),
        ("POST", "/remove_member", json!({"group": g, "member": "bob"}), true),
        ("POST", "/remove_member", json!({"group": g}), false),
        ("POST", "/remove_member", json!({"group": g, "member": "a b"}), false),
        ("POST", "/leave_group", json!({"group": g}), true),
        ("POST", "/leave_group", json!({}), false),
        ("POST", "/leave_group", json!({"group": null}), false),
        ("PUT", "/group_members", json!({"group": g}), true),
        ("PUT", "/group_members", json!({"group": g, "name": "Lunch"}), false),
    ];
    for (method, path, body, accepted) in cases {
        assert_eq!(request_schema(&method.to_lowercase(), path).is_valid(&body), accepted, "the schema, {path} {body}");
        assert_eq!(parses(path, &body), accepted, "the endpoint, {path} {body}");
    }
    for name in ["   ", "tab\there", "nul\u{0}"] {
        let body = json!({"name": name});
        assert!(request_schema("post", "/create_group").is_valid(&body), "{body}");
        assert!(!parses("/create_group", &body), "{body}");
    }
}
