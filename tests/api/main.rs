//! The test suites, one module each, in one binary. `make test` runs them
//! against its local stack; the HTTP suites also run against a deployed API
//! (see the README's Tests section).

mod helpers;

mod access;
mod concurrency;
mod corpus;
mod e2e;
mod faults;
mod groups;
mod handlers;
mod hot_group;
mod hot_mailbox;
mod invoke;
mod limits;
mod logs;
mod long_poll;
mod mailbox_controls;
mod openapi;
mod rate_limits;
mod read_filter;
mod read_state;
mod realtime;
mod routes;
mod web;
