//! Support for the test suites and the local stack: reading `template.yaml`,
//! creating the table in DynamoDB Local, demo data, and an HTTP client for
//! the end-to-end tests.

pub mod api;
pub mod events;
pub mod faults;
pub mod local;
pub mod openapi;
pub mod template;
