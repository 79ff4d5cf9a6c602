//! Integration tests: one binary, every test against a real PostgreSQL.

mod accounts;
mod admin;
mod api_keys;
mod counting;
mod dashboard;
mod deploy;
mod health;
mod helpers;
mod logs;
mod metrics;
mod migrations;
mod outage;
mod privacy;
mod privacy_page;
mod reports;
mod requests;
mod retention;
mod settings;
mod simulate;
mod site_settings;
mod sites;
mod sources;
mod startup;
mod topology;
mod transfer;
mod upgrade;
