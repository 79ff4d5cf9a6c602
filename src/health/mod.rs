//! Health: liveness and readiness for load balancers and orchestrators, the
//! health switch an operator can fail on purpose (and its watchdog), and
//! `visitors healthcheck`, the container's probe.

pub mod probe;
pub mod switch;

use std::time::Duration;

use prometheus::IntCounterVec;
use rocket::{fairing::AdHoc, get, http::Status, post, routes, serde::json::Json, State};
use serde_json::{json, Value};

use crate::{
    counting::{recorder::VisitRecorder, visitor_key::VisitorIdentities},
    infra::{
        admin::Admin,
        config::Config,
        database::{self, Db},
        metrics::Metrics,
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
    AdHoc::try_on_ignite("Health", move |rocket| async move {
        let Some(readiness) = rocket.state::<Metrics>().map(Readiness::new) else {
            return Err(rocket);
        };
        let rocket = rocket
            .manage(switch)
            .manage(readiness)
            .attach(HealthSwitch::watchdog())
            .mount("/", routes![healthz, readyz]);
        Ok(if admin {
            rocket.mount("/", routes![fail_health])
        } else {
            rocket
        })
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

/// Why this replica is not ready, as `/readyz` says it.
type NotReady = &'static str;

/// The last readiness check, reused for `READINESS_REUSE`: probes from
/// every load balancer and nginx's retries over the replicas then cost the
/// database a few round trips a second, not a few per probe.
struct Readiness {
    last: moka::future::Cache<(), Result<(), NotReady>>,
    /// Checks made (not answers reused), by result.
    checks: IntCounterVec,
}

/// How long one readiness answer is reused.
const READINESS_REUSE: Duration = Duration::from_secs(1);

impl Readiness {
    fn new(metrics: &Metrics) -> Self {
        let checks = metrics.counter_vec(
            "visitors_readiness_checks_total",
            "Readiness checks made (each answer is reused for 1 s), by result: ready or \
             unavailable",
            &["result"],
        );
        for result in ["ready", "unavailable"] {
            checks.with_label_values(&[result]);
        }
        Self {
            last: moka::future::Cache::builder()
                .time_to_live(READINESS_REUSE)
                .build(),
            checks,
        }
    }
}

/// Ready means this replica can serve visits: the database answers in time,
/// its schema is the one this binary expects, the visitor secret is loaded
/// (the probe loads it when a late migration made it readable), and the
/// visit recorder runs.
#[get("/readyz")]
async fn readyz(
    readiness: &State<Readiness>,
    db: &Db,
    identities: &State<VisitorIdentities>,
    recorder: &State<VisitRecorder>,
) -> (Status, Json<Value>) {
    let check = async {
        let result = readiness_of(db, identities, recorder).await;
        let label = if result.is_ok() {
            "ready"
        } else {
            "unavailable"
        };
        readiness.checks.with_label_values(&[label]).inc();
        result
    };
    match readiness.last.get_with((), check).await {
        Ok(()) => (Status::Ok, Json(json!({ "status": "ready" }))),
        Err(reason) => (
            Status::ServiceUnavailable,
            Json(json!({ "status": "unavailable", "reason": reason })),
        ),
    }
}

/// One readiness check, with the database's part bounded by
/// `READINESS_TIMEOUT`.
async fn readiness_of(
    db: &Db,
    identities: &VisitorIdentities,
    recorder: &VisitRecorder,
) -> Result<(), NotReady> {
    if !recorder.is_running() {
        return Err("the visit recorder has stopped");
    }
    let database = async {
        match database::migrations_applied(db).await {
            Ok(true) => {}
            Ok(false) => return Err("database migrations are not all applied"),
            Err(error) => {
                rocket::warn!("readiness check failed: {error}");
                return Err("database error");
            }
        }
        identities.load(db).await.map(drop).map_err(|error| {
            rocket::warn!("readiness check failed: {error}");
            "the visitor secret is not available"
        })
    };
    tokio::time::timeout(READINESS_TIMEOUT, database)
        .await
        .unwrap_or(Err("database did not answer within 1 s"))
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
