//! visitors: a self-hosted unique-visitor counter with a server-rendered
//! dashboard. `rocket()` assembles the application from its infrastructure
//! and its features, one stage each; `cli` is the command line and
//! `main.rs` only calls it.

pub mod cli;
pub mod infra;

pub mod accounts;
pub mod assets;
pub mod counting;
pub mod dashboard;
pub mod goals;
pub mod health;
pub mod privacy;
pub mod reports;
pub mod simulate;
pub mod site_settings;
pub mod sites;
pub mod sources;
pub mod stats;
pub mod transfer;
pub mod version;

use rocket::{Build, Rocket};

use crate::infra::{
    admin,
    build_info::BuildInfo,
    config::Config,
    database, error, headers, logging, mail, metrics,
    page::Layout,
    telemetry::{self, RequestTelemetry},
};

/// The application, ready to ignite.
pub fn rocket(config: Config) -> Rocket<Build> {
    let build = BuildInfo::current();
    rocket::custom(config.figment())
        // Infrastructure. The database stage comes first: features that need
        // the pool at ignition find it.
        .attach(database::stage(config.migrate_on_start))
        .attach(metrics::stage(&build))
        .attach(RequestTelemetry {
            instance: config.instance_name.clone(),
        })
        .attach(telemetry::drain_on_shutdown())
        .attach(headers::stage(&config.instance_name))
        .attach(logging::startup_report(
            config.instance_name.clone(),
            build.version.clone(),
            config.public_url.clone(),
        ))
        .attach(admin::stage(&config))
        .attach(mail::stage(&config))
        .manage(Layout::new(&config, &build))
        .manage(build)
        .register("/", error::catchers())
        // Features.
        .attach(accounts::stage(&config))
        .attach(counting::stage(&config))
        .attach(stats::stage(&config))
        .attach(sources::stage())
        .attach(sites::stage(&config))
        .attach(site_settings::stage())
        .attach(goals::stage())
        .attach(transfer::stage())
        .attach(dashboard::stage())
        .attach(privacy::stage(&config))
        .attach(reports::stage(&config))
        .attach(health::stage(&config))
        .attach(version::stage())
        .attach(assets::stage())
}
