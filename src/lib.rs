//! visitors: a self-hosted unique-visitor counter with a server-rendered
//! dashboard. `rocket()` assembles the whole application; `main.rs` only
//! parses the command line and launches it.

pub mod chart;
pub mod config;
pub mod db;
mod error;
pub mod health;
pub mod healthcheck;
pub mod identity;
pub mod logging;
pub mod metrics;
mod page;
pub mod recorder;
mod response_headers;
pub mod routes;
pub mod simulate;
pub mod stats;
pub mod user_agent;
pub mod version;
mod visit;

use rocket::{fairing::AdHoc, Build, Rocket};

use crate::{
    config::Config,
    health::HealthSwitch,
    identity::VisitorIdentities,
    metrics::{Metrics, RequestTelemetry},
    page::SiteInfo,
    response_headers::ResponseHeaders,
    routes::admin::AdminToken,
    stats::StatsCache,
    user_agent::UserAgentClassifier,
};

/// The application, ready to ignite: routes, database stage, state, headers.
pub fn rocket(config: Config) -> Rocket<Build> {
    let site = SiteInfo::new(&config);
    let metrics = Metrics::new(&site.build);
    let rocket = rocket::custom(config.figment())
        .attach(db::stage(config.migrate_on_start))
        .attach(db::maintenance())
        .attach(AdHoc::on_ignite("User-Agent rules", |rocket| async {
            // Compiling the rules takes tens of milliseconds of CPU: keep it
            // off the async workers, and out of the request path.
            let classifier = rocket::tokio::task::spawn_blocking(UserAgentClassifier::new)
                .await
                .expect("building the User-Agent classifier does not panic");
            rocket.manage(classifier)
        }))
        .attach(ResponseHeaders::new(&config.instance_name))
        .attach(RequestTelemetry {
            instance: config.instance_name.clone(),
        })
        .attach(logging::startup_report(
            config.instance_name.clone(),
            site.build.version.clone(),
        ))
        .attach(HealthSwitch::watchdog())
        .manage(HealthSwitch::new(config.health_fail_exit_after))
        .manage(metrics)
        .manage(site)
        .manage(VisitorIdentities::new(config.visitor_secret.as_ref()))
        .manage(StatsCache::new(config.stats_cache_ttl))
        .mount("/", routes::dashboard::routes())
        .mount("/", routes::api::routes())
        .mount("/", routes::health::routes())
        .mount("/", routes::version::routes())
        .mount("/", routes::metrics::routes())
        .mount("/", routes::assets::routes())
        .register("/", error::catchers());
    match config.admin_token {
        Some(token) => rocket
            .manage(AdminToken(token))
            .mount("/", routes::admin::routes()),
        None => rocket,
    }
}
