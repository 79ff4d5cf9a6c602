//! Liveness and readiness for load balancers and orchestrators.

use std::time::Duration;

use rocket::{get, http::Status, routes, serde::json::Json, Route, State};
use serde_json::{json, Value};

use crate::{
    db::{self, Db},
    health::HealthSwitch,
};

/// How long readiness waits for the database before calling it unavailable.
const READINESS_TIMEOUT: Duration = Duration::from_secs(1);

/// Alive means the process serves HTTP and nobody failed its health on
/// purpose; the database is deliberately left out, so that a database outage
/// does not get every replica restarted.
#[get("/healthz")]
fn healthz(switch: &State<HealthSwitch>) -> (Status, Json<Value>) {
    if switch.is_failing() {
        (
            Status::ServiceUnavailable,
            Json(json!({ "status": "failing" })),
        )
    } else {
        (Status::Ok, Json(json!({ "status": "ok" })))
    }
}

/// Ready means this replica can serve visits: the database answers in time
/// and its schema is the one this binary expects.
#[get("/readyz")]
async fn readyz(db: &Db) -> (Status, Json<Value>) {
    let unavailable = |reason: &str| {
        (
            Status::ServiceUnavailable,
            Json(json!({ "status": "unavailable", "reason": reason })),
        )
    };
    match tokio::time::timeout(READINESS_TIMEOUT, db::migrations_applied(db)).await {
        Ok(Ok(true)) => (Status::Ok, Json(json!({ "status": "ready" }))),
        Ok(Ok(false)) => unavailable("database migrations are not all applied"),
        Ok(Err(error)) => {
            rocket::warn!("readiness check failed: {error}");
            unavailable("database error")
        }
        Err(_) => unavailable("database did not answer within 1 s"),
    }
}

pub fn routes() -> Vec<Route> {
    routes![healthz, readyz]
}
