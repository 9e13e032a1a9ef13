//! The messenger's shared crate: everything the endpoint functions do,
//! split by concern. Each function crate only calls [`app::serve`] with its
//! handler from [`endpoints`].

pub mod app;
pub mod auth;
pub mod endpoints;
pub mod error;
pub mod http;
pub mod model;
pub mod realtime;
pub mod reply;
pub mod store;
pub mod web;

pub use app::{serve, App, Config};
pub use error::ApiError;
