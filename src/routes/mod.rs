//! HTTP routes, one module per concern, each exposing `routes()`.

pub mod admin;
pub mod api;
pub mod assets;
pub mod dashboard;
pub mod health;
pub mod metrics;
pub mod version;
