//! `openapi.yaml` documents exactly the deployed routes, and its schemas
//! are sound. (Each response of the end-to-end suite is validated against
//! it by the HTTP client, `TestApp`.)

use std::collections::BTreeSet;

use serde_json::json;

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
    for (method, path) in contract.operations() {
        let operation = &contract.document()["paths"][&path][method.to_lowercase()];
        assert!(operation["responses"]["503"].is_object(), "{method} {path} documents 503");
        let open = path == "/register" || path == "/login";
        assert_eq!(operation["security"] == json!([]), open, "{path}: only register and login need no token");
        assert_eq!(operation["responses"]["401"].is_object(), path != "/register", "{path} documents its 401");
    }
}
