//! Prometheus' scrape endpoint. Prometheus reaches each replica directly;
//! nginx does not expose it.

use rocket::{get, http::ContentType, routes, Route, State};

use crate::{db::Db, metrics::Metrics};

#[get("/metrics")]
fn metrics(metrics: &State<Metrics>, db: &Db) -> (ContentType, String) {
    let text_format =
        ContentType::new("text", "plain").with_params([("version", "0.0.4"), ("charset", "utf-8")]);
    (text_format, metrics.render(db))
}

pub fn routes() -> Vec<Route> {
    routes![metrics]
}
