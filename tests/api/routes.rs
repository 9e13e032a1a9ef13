//! The deployed routes (template.yaml) and the local ones (the watch router
//! in Cargo.toml) are the same set, and each names a function crate.

use std::collections::BTreeMap;

use messenger_tools::handlers::{dispatch, handler_request, method_of, WEBSOCKET_ROUTES};
use messenger_tools::stack::app_at;
use messenger_tools::template::{repo_root, resources, template};
use serde_yaml::Value;

use crate::helpers::{protected_routes, routes, template_routes, watch_routes, WEB_FUNCTION};

#[test]
fn template_and_watch_router_serve_the_same_routes() {
    let deployed = template_routes();
    let local = watch_routes();
    assert_eq!(deployed, local);
    assert_eq!(routes().len(), 21, "one route per endpoint");
    let web: Vec<_> = deployed.iter().filter(|route| route.function == WEB_FUNCTION).collect();
    let web: Vec<(&str, &str)> = web.iter().map(|route| (route.method.as_str(), route.path.as_str())).collect();
    assert_eq!(web, [("GET", "/"), ("GET", "/assets/{proxy+}"), ("GET", "/docs")], "the web client's");
}

/// The bench and the in-process suites call a route's handler by its
/// function's name (`tools/src/handlers.rs`): each is dispatched, with its
/// route's method, and answers a request without token or body as its
/// binary would, before any read.
#[tokio::test]
async fn every_route_is_served_in_process() {
    // Nothing listens there: a handler that read before answering would 503.
    let app = app_at(Some("http://127.0.0.1:9"), "no-table").await;
    let protected = protected_routes();
    for route in template_routes().into_iter().filter(|route| route.function != WEB_FUNCTION) {
        let function = route.function.as_str();
        assert_eq!(method_of(function), route.method, "{function}");
        let response = dispatch(function, &app, handler_request(function, "", None)).await;
        let needs_token = protected.contains(&(route.method.clone(), route.path.clone()));
        // register and login: a missing login.
        assert_eq!(response.status().as_u16(), if needs_token { 401 } else { 400 }, "{function}");
    }
}

#[test]
fn every_route_has_its_function_crate() {
    let web = repo_root().join("functions").join(WEB_FUNCTION).join("src/main.rs");
    let source = std::fs::read_to_string(&web).unwrap_or_else(|_| panic!("{} is missing", web.display()));
    assert!(source.contains("shared::web::serve(ASSETS)"), "the web function serves the built client");
    for route in template_routes().into_iter().filter(|route| route.function != WEB_FUNCTION) {
        let main = repo_root().join("functions").join(&route.function).join("src/main.rs");
        let source = std::fs::read_to_string(&main).unwrap_or_else(|_| panic!("{} is missing", main.display()));
        assert!(
            source.contains(&format!("endpoints::{}::handle", route.function)),
            "{} serves its own endpoint",
            route.function
        );
        assert_eq!(route.path, format!("/{}", route.function));
    }
}

/// The text of a `!Sub` (or a plain string).
fn text(value: &Value) -> &str {
    match value {
        Value::Tagged(tagged) => tagged.value.as_str(),
        other => other.as_str(),
    }
    .expect("a string")
}

/// The WebSocket API's routes (template.yaml) are the three that
/// `realtime_bridge` serves, each integrated with its own function crate.
#[test]
fn websocket_routes_each_invoke_their_function() {
    let template = template();
    let resource = |name: &str| -> &Value { &template["Resources"][name] };
    let mut served = BTreeMap::new();
    for (_, route) in resources(&template).filter(|(_, r)| r["Type"] == "AWS::ApiGatewayV2::Route") {
        let key = route["Properties"]["RouteKey"].as_str().expect("RouteKey");
        let integration = text(&route["Properties"]["Target"]).strip_prefix("integrations/${").expect("an integration");
        let uri = text(&resource(integration.trim_end_matches('}'))["Properties"]["IntegrationUri"]);
        let function =
            uri.split("functions/${").nth(1).and_then(|rest| rest.split(".Arn}").next()).expect("a function");
        let binary = resource(function)["Metadata"]["BuildProperties"]["Binary"].as_str().expect("Binary");
        served.insert(key.to_owned(), binary.to_owned());
    }
    let expected: BTreeMap<String, String> = ["$connect", "$disconnect", "$default"]
        .into_iter()
        .zip(WEBSOCKET_ROUTES)
        .map(|(key, function)| (key.to_owned(), function.to_owned()))
        .collect();
    assert_eq!(served, expected);
    for function in WEBSOCKET_ROUTES {
        let main = repo_root().join("functions").join(function).join("src/main.rs");
        let source = std::fs::read_to_string(&main).unwrap_or_else(|_| panic!("{} is missing", main.display()));
        assert!(source.contains("::handle") && source.contains(&format!("serve_route(\"{function}\"")), "{function}");
    }
}

/// The AWS SDK is built without its legacy stack (hyper 0.14 and rustls
/// 0.21 beside the current ones): the lock file holds one of each.
#[test]
fn one_http_and_one_tls_stack() {
    let lock = std::fs::read_to_string(repo_root().join("Cargo.lock")).expect("Cargo.lock");
    for package in ["hyper", "rustls", "h2", "http-body"] {
        let versions: Vec<&str> = lock
            .split("[[package]]")
            .filter(|entry| entry.contains(&format!("\nname = \"{package}\"\n")))
            .filter_map(|entry| entry.lines().find_map(|line| line.strip_prefix("version = \"")))
            .collect();
        assert_eq!(versions.len(), 1, "{package}: {versions:?}");
    }
}

/// Browsers on the template's `AllowedOrigins` may call every route of the
/// HTTP API with the headers the API reads, and read the one it sets.
#[test]
fn cors_admits_the_configured_origins_to_every_route() {
    let template = template();
    let cors = &template["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"];
    assert_eq!(cors["AllowOrigins"], template_ref("AllowedOrigins"));
    assert_eq!(template["Parameters"]["AllowedOrigins"]["Type"], "CommaDelimitedList");
    let listed = |field: &str| -> Vec<String> {
        cors[field].as_sequence().expect(field).iter().map(|v| v.as_str().expect("text").to_lowercase()).collect()
    };
    for route in template_routes() {
        assert!(listed("AllowMethods").contains(&route.method.to_lowercase()), "{route:?}");
    }
    for header in ["authorization", "content-type", "idempotency-key"] {
        assert!(listed("AllowHeaders").contains(&header.to_owned()), "{header}");
    }
    assert_eq!(listed("ExposeHeaders"), ["retry-after"]);
}

/// `!Ref name`, as serde_yaml reads it.
fn template_ref(name: &str) -> Value {
    serde_yaml::from_str(&format!("!Ref {name}")).expect("a tagged value")
}
