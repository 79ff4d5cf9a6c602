//! Prometheus metrics, exported at `/metrics` on a listener of their own
//! (`METRICS_PORT`): Prometheus reaches each replica there, and no proxy
//! routes to it, so no spelling of a path on the public port reaches them.
//! One registry per application instance (no process-wide state). Labels
//! are bounded: route templates, never raw paths, and nothing about a
//! visitor.

use std::time::Duration;

use prometheus::{
    register_histogram_vec_with_registry, register_int_counter_vec_with_registry,
    register_int_counter_with_registry, register_int_gauge_vec_with_registry,
    register_int_gauge_with_registry, Encoder, HistogramOpts, HistogramVec, IntCounter,
    IntCounterVec, IntGauge, Registry, TextEncoder,
};
use rocket::{fairing::AdHoc, get, http::ContentType, routes, Build, Phase, Rocket, State};
use rocket_db_pools::Database;
use sqlx::PgPool;

use crate::infra::{build_info::BuildInfo, database::Db};

/// The registry, for every feature to count into.
pub fn stage(build: &BuildInfo) -> AdHoc {
    let metrics = Metrics::new(build);
    AdHoc::on_ignite("Metrics", |rocket| async { rocket.manage(metrics) })
}

/// The metrics listener of an ignited server: `/metrics` alone, on `port`
/// of the server's own address, reading the server's registry and pool.
/// `None` when the server has neither (a stage is missing).
pub fn listener<P: Phase>(server: &Rocket<P>, port: u16) -> Option<Rocket<Build>> {
    let metrics = server.state::<Metrics>()?.clone();
    let pool = PgPool::clone(Db::fetch(server)?);
    let main: rocket::Config = server.figment().extract().ok()?;
    let config = rocket::Config {
        port,
        address: main.address,
        log_level: main.log_level,
        cli_colors: false,
        ..rocket::Config::default()
    };
    Some(
        rocket::custom(config)
            .manage(Scraped { metrics, pool })
            .mount("/", routes![scrape])
            .attach(AdHoc::on_liftoff("Metrics listener", |rocket| {
                Box::pin(async move {
                    tracing::info!(
                        address = %rocket.config().address,
                        metrics_port = rocket.config().port,
                        "metrics listening"
                    );
                })
            })),
    )
}

/// What the metrics listener reads.
struct Scraped {
    metrics: Metrics,
    pool: PgPool,
}

#[get("/metrics")]
fn scrape(scraped: &State<Scraped>) -> (ContentType, String) {
    let text_format =
        ContentType::new("text", "plain").with_params([("version", "0.0.4"), ("charset", "utf-8")]);
    (text_format, scraped.metrics.render(&scraped.pool))
}

/// The registry and the metrics every request and the pool update; clones
/// share them.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    request_seconds: HistogramVec,
    hits_dropped: IntCounterVec,
    database_errors: IntCounter,
    in_flight: IntGauge,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
}

impl Metrics {
    fn new(build: &BuildInfo) -> Self {
        let registry = Registry::new();
        // Each macro creates the metric and registers it; names are unique
        // and constant, so a failure here is a programming error.
        let requests = register_int_counter_vec_with_registry!(
            "visitors_http_requests_total",
            "HTTP requests by route template and status",
            &["route", "method", "status"],
            registry
        )
        .expect("valid metric");
        let request_seconds = register_histogram_vec_with_registry!(
            HistogramOpts::new(
                "visitors_http_request_duration_seconds",
                "HTTP request latency by route template and status",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["route", "method", "status"],
            registry
        )
        .expect("valid metric");
        let hits_dropped = register_int_counter_vec_with_registry!(
            "visitors_site_hits_dropped_total",
            "Pixel and badge hits that counted nothing, by reason (never by site or address)",
            &["reason"],
            registry
        )
        .expect("valid metric");
        let database_errors = register_int_counter_with_registry!(
            "visitors_database_errors_total",
            "Requests that failed because of the database",
            registry
        )
        .expect("valid metric");
        let in_flight = register_int_gauge_with_registry!(
            "visitors_http_requests_in_flight",
            "Requests received and not answered yet",
            registry
        )
        .expect("valid metric");
        let pool_connections = register_int_gauge_with_registry!(
            "visitors_db_pool_connections",
            "Open connections of the database pool",
            registry
        )
        .expect("valid metric");
        let pool_idle = register_int_gauge_with_registry!(
            "visitors_db_pool_idle_connections",
            "Idle connections of the database pool",
            registry
        )
        .expect("valid metric");
        register_int_gauge_vec_with_registry!(
            "visitors_build_info",
            "The running version; always 1",
            &["version", "build", "commit"],
            registry
        )
        .expect("valid metric")
        .with_label_values(&[
            build.version.as_str(),
            &build.build.map(|b| b.to_string()).unwrap_or_default(),
            build.commit.as_deref().unwrap_or(""),
        ])
        .set(1);

        Self {
            registry,
            requests,
            request_seconds,
            hits_dropped,
            database_errors,
            in_flight,
            pool_connections,
            pool_idle,
        }
    }

    /// A counter of a feature's own, in this registry. Names are constant,
    /// so a clash is a programming error.
    pub fn counter(&self, name: &str, help: &str) -> IntCounter {
        register_int_counter_with_registry!(name, help, self.registry).expect("valid metric")
    }

    /// The same with labels, whose values must come from a fixed set.
    pub fn counter_vec(&self, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
        register_int_counter_vec_with_registry!(name, help, labels, self.registry)
            .expect("valid metric")
    }

    /// Exports every reason a hit can be dropped for from the start, at 0,
    /// so that a rate over them exists before the first drop.
    pub fn declare_hit_drop_reasons(&self, reasons: &[&'static str]) {
        for reason in reasons {
            self.hits_dropped.with_label_values(&[reason]);
        }
    }

    /// A site's hit that was not counted; `reason` is one of a fixed set.
    pub fn hit_dropped(&self, reason: &'static str) {
        self.hits_dropped.with_label_values(&[reason]).inc();
    }

    pub fn request_started(&self) {
        self.in_flight.inc();
    }

    pub fn requests_in_flight(&self) -> i64 {
        self.in_flight.get()
    }

    /// One answered request, by its route template.
    pub fn request_answered(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        self.in_flight.dec();
        let status = status.to_string();
        self.requests
            .with_label_values(&[route, method, &status])
            .inc();
        self.request_seconds
            .with_label_values(&[route, method, &status])
            .observe(elapsed.as_secs_f64());
    }

    pub fn database_error(&self) {
        self.database_errors.inc();
    }

    /// The text exposition format, with the pool's current state.
    pub fn render(&self, pool: &PgPool) -> String {
        self.pool_connections.set(i64::from(pool.size()));
        self.pool_idle
            .set(i64::try_from(pool.num_idle()).unwrap_or(i64::MAX));
        let mut text = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut text)
            .expect("encoding to memory does not fail");
        String::from_utf8(text).expect("the text format is UTF-8")
    }
}
