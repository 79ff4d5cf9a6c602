//! What every feature stands on: settings, the database pool and
//! migrations, logs and metrics, errors and pages, response headers and the
//! admin token. Nothing here depends on a feature.

pub mod admin;
pub mod build_info;
pub mod command;
pub mod config;
pub mod database;
pub mod error;
pub mod headers;
pub mod logging;
pub mod mail;
pub mod metrics;
pub mod page;
pub mod telemetry;
pub mod text;
