//! What every request leaves behind: one log line and its metrics; and,
//! when the server shuts down, the wait for the requests still in flight.

use std::time::{Duration, Instant};

use rocket::{
    fairing::{AdHoc, Fairing, Info, Kind},
    Data, Orbit, Request, Response, Rocket,
};
use rocket_db_pools::Database;

use crate::infra::{
    database::{Db, REQUEST_DEADLINE},
    metrics::Metrics,
};

/// When the request arrived, for its latency.
struct Arrival(Instant);

/// Counts and times every request by its route template, and logs it: one
/// line with route, method, status, latency and instance, never the path's
/// query, the client address or anything else about the visitor.
pub struct RequestTelemetry {
    pub instance: String,
}

#[rocket::async_trait]
impl Fairing for RequestTelemetry {
    fn info(&self) -> Info {
        Info {
            name: "Request telemetry",
            kind: Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, request: &mut Request<'_>, _: &mut Data<'_>) {
        request.local_cache(|| Arrival(Instant::now()));
        if let Some(metrics) = request.rocket().state::<Metrics>() {
            metrics.request_started();
        }
    }

    async fn on_response<'r>(&self, request: &'r Request<'_>, response: &mut Response<'r>) {
        let elapsed = request.local_cache(|| Arrival(Instant::now())).0.elapsed();
        // The template ("/api/stats?<params..>"), never the raw path: a client
        // cannot create new series by requesting new URLs.
        let route = request
            .route()
            .map_or_else(|| "unmatched".to_owned(), |route| route.uri.to_string());
        let method = request.method().as_str();
        let status = response.status().code;
        tracing::info!(
            target: "visitors::request",
            route = %route,
            method,
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            instance = %self.instance,
            "request"
        );
        if let Some(metrics) = request.rocket().state::<Metrics>() {
            metrics.request_answered(&route, method, status, elapsed);
        }
    }
}

/// How often the shutdown looks at the requests in flight.
const DRAIN_POLL: Duration = Duration::from_millis(20);

/// On shutdown (SIGTERM), once the listener is closed: waits until every
/// request in flight has been answered, at most `REQUEST_DEADLINE` (by then
/// each has its 200 or its 503), so that the process exits only after its
/// visits are committed or refused; then closes the database pool, which
/// their reads needed. Rocket's own grace period (`ROCKET_SHUTDOWN`) is
/// longer, so it cuts no answer short.
pub fn drain_on_shutdown() -> AdHoc {
    AdHoc::on_shutdown("Drain requests in flight", |rocket| Box::pin(drain(rocket)))
}

async fn drain(rocket: &Rocket<Orbit>) {
    let Some(metrics) = rocket.state::<Metrics>() else {
        return;
    };
    let limit = Instant::now() + REQUEST_DEADLINE;
    while metrics.requests_in_flight() > 0 && Instant::now() < limit {
        rocket::tokio::time::sleep(DRAIN_POLL).await;
    }
    rocket::info!(
        "shutting down with {} requests in flight",
        metrics.requests_in_flight()
    );
    // The last answers leave their connections.
    rocket::tokio::time::sleep(DRAIN_POLL).await;
    if let Some(db) = Db::fetch(rocket) {
        db.close().await;
    }
}
