//! The routes of `template.yaml` and of the root `Cargo.toml`, read as
//! data: the deployed routes and the local router must not drift apart.

use std::collections::BTreeSet;

use messenger_tools::template::{repo_root, resources, template};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    pub method: String,
    pub path: String,
    pub function: String,
}

/// Every (method, path, binary) that API Gateway routes in the template.
pub fn template_routes() -> BTreeSet<Route> {
    let template = template();
    let mut routes = BTreeSet::new();
    for (_, resource) in resources(&template).filter(|(_, r)| r["Type"] == "AWS::Serverless::Function") {
        let function = resource["Metadata"]["BuildProperties"]["Binary"].as_str().expect("Binary is set");
        // The WebSocket routes' functions have no SAM events.
        let events = resource["Properties"]["Events"].as_mapping().into_iter().flat_map(|events| events.values());
        // The notifier's is the table's stream; every other, an HTTP API route.
        for event in events.filter(|event| event["Type"] != "DynamoDB") {
            assert_eq!(event["Type"], "HttpApi", "every other event is an HTTP API route");
            routes.insert(Route {
                method: event["Properties"]["Method"].as_str().expect("Method").to_uppercase(),
                path: event["Properties"]["Path"].as_str().expect("Path").to_owned(),
                function: function.to_owned(),
            });
        }
    }
    routes
}

/// Every (method, path, binary) of `cargo lambda watch`'s router.
pub fn watch_routes() -> BTreeSet<Route> {
    let text = std::fs::read_to_string(repo_root().join("Cargo.toml")).expect("Cargo.toml is readable");
    let manifest: toml::Table = text.parse().expect("Cargo.toml is TOML");
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"].as_table().expect("router table");
    let mut routes = BTreeSet::new();
    for (path, targets) in router {
        for target in targets.as_array().expect("each path maps to a list") {
            routes.insert(Route {
                method: target["method"].as_str().expect("method").to_uppercase(),
                path: greedy_as_api_gateway_writes_it(path),
                function: target["function"].as_str().expect("function").to_owned(),
            });
        }
    }
    routes
}

/// matchit's catch-all `{*proxy}` (the watch router's) as API Gateway's
/// greedy `{proxy+}`: one route, two spellings.
fn greedy_as_api_gateway_writes_it(path: &str) -> String {
    match path.rsplit_once("/{*") {
        Some((prefix, name)) => format!("{prefix}/{{{}+}}", name.trim_end_matches('}')),
        None => path.to_owned(),
    }
}

/// The function that serves the web client and the API reference: HTML,
/// scripts and styles, not the JSON API of `openapi.yaml`.
pub const WEB_FUNCTION: &str = "web";

/// The routes that need no token.
pub const OPEN_PATHS: [&str; 2] = ["/register", "/login"];

/// (METHOD, path) of every deployed route of the JSON API.
pub fn routes() -> Vec<(String, String)> {
    template_routes()
        .into_iter()
        .filter(|route| route.function != WEB_FUNCTION)
        .map(|route| (route.method, route.path))
        .collect()
}

/// (METHOD, path) of every route that needs a token.
pub fn protected_routes() -> Vec<(String, String)> {
    routes().into_iter().filter(|(_, path)| !OPEN_PATHS.contains(&path.as_str())).collect()
}
