//! Operator actions, behind `Authorization: Bearer <ADMIN_TOKEN>`. Mounted
//! only when `ADMIN_TOKEN` is set: without it these routes do not exist.

use rocket::{
    http::Status,
    post,
    request::{FromRequest, Outcome},
    routes,
    serde::json::Json,
    Request, Route, State,
};
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

use crate::health::HealthSwitch;

/// The configured admin token, as managed state.
pub struct AdminToken(pub String);

/// Proof that the request carried the admin token.
pub struct Admin;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Admin {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let Some(AdminToken(expected)) = request.rocket().state::<AdminToken>() else {
            return Outcome::Error((Status::NotFound, ()));
        };
        let presented = request
            .headers()
            .get_one("Authorization")
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or("");
        // Constant time, so the comparison does not leak how much matched.
        if bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
            Outcome::Success(Admin)
        } else {
            Outcome::Error((Status::Unauthorized, ()))
        }
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

pub fn routes() -> Vec<Route> {
    routes![fail_health]
}
