//! What every request leaves behind: one log line and its metrics.

use std::time::Instant;

use rocket::{
    fairing::{Fairing, Info, Kind},
    Data, Request, Response,
};

use crate::infra::metrics::Metrics;

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
    }

    async fn on_response<'r>(&self, request: &'r Request<'_>, response: &mut Response<'r>) {
        let elapsed = request.local_cache(|| Arrival(Instant::now())).0.elapsed();
        // The template ("/api/stats?<range>"), never the raw path: a client
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
