//! Health: liveness and readiness for load balancers and orchestrators, the
//! health switch an operator can fail on purpose (and its watchdog), and
//! `visitors healthcheck`, the container's probe.

pub mod probe;
pub mod switch;

use std::time::Duration;

use rocket::{fairing::AdHoc, get, http::Status, post, routes, serde::json::Json, State};
use serde_json::{json, Value};

use crate::{
    counting::visitor_key::VisitorIdentities,
    infra::{
        admin::Admin,
        config::Config,
        database::{self, Db},
    },
};

pub use self::switch::HealthSwitch;

/// How long readiness waits for the database before calling it unavailable.
const READINESS_TIMEOUT: Duration = Duration::from_secs(1);

/// `/healthz`, `/readyz`, the switch and its watchdog; `POST
/// /admin/fail-health` only when an admin token is configured.
pub fn stage(config: &Config) -> AdHoc {
    let switch = HealthSwitch::new(config.health_fail_exit_after);
    let admin = config.admin_token.is_some();
    AdHoc::on_ignite("Health", move |rocket| async move {
        let rocket = rocket
            .manage(switch)
            .attach(HealthSwitch::watchdog())
            .mount("/", routes![healthz, readyz]);
        if admin {
            rocket.mount("/", routes![fail_health])
        } else {
            rocket
        }
    })
}

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

/// Ready means this replica can serve visits: the database answers in time,
/// its schema is the one this binary expects, and the visitor secret is
/// loaded (the probe loads it when a late migration made it readable).
#[get("/readyz")]
async fn readyz(db: &Db, identities: &State<VisitorIdentities>) -> (Status, Json<Value>) {
    let unavailable = |reason: &str| {
        (
            Status::ServiceUnavailable,
            Json(json!({ "status": "unavailable", "reason": reason })),
        )
    };
    let check = async {
        if !database::migrations_applied(db).await? {
            return Ok(false);
        }
        identities.load(db).await.map(|_| true)
    };
    match tokio::time::timeout(READINESS_TIMEOUT, check).await {
        Ok(Ok(true)) => (Status::Ok, Json(json!({ "status": "ready" }))),
        Ok(Ok(false)) => unavailable("database migrations are not all applied"),
        Ok(Err(error)) => {
            rocket::warn!("readiness check failed: {error}");
            unavailable("database error")
        }
        Err(_) => unavailable("database did not answer within 1 s"),
    }
}

/// Makes `/healthz` fail from now on; the process exits once it has failed
/// for `HEALTH_FAIL_EXIT_AFTER` seconds.
#[post("/admin/fail-health")]
fn fail_health(_admin: Admin, switch: &State<HealthSwitch>) -> Json<Value> {
    rocket::warn!("health switched to failing by an operator");
    switch.fail();
    Json(json!({
        "status": "failing",
        "exit_after_seconds": switch.exit_after().as_secs(),
    }))
}
