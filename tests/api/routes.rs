//! The deployed routes (template.yaml) and the local ones (the watch router
//! in Cargo.toml) are the same set, and each names a function crate.

use messenger_tools::template::repo_root;

use crate::helpers::{template_routes, watch_routes};

#[test]
fn template_and_watch_router_serve_the_same_routes() {
    let deployed = template_routes();
    let local = watch_routes();
    assert_eq!(deployed, local);
    assert_eq!(deployed.len(), 9, "one route per endpoint");
}

#[test]
fn every_route_has_its_function_crate() {
    for route in template_routes() {
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
