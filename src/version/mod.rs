//! `/version`: the running build, for monitoring and deploy checks.

use rocket::{fairing::AdHoc, get, routes, serde::json::Json, State};

use crate::infra::build_info::BuildInfo;

pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Version", |rocket| async {
        rocket.mount("/", routes![version])
    })
}

#[get("/version")]
fn version(build: &State<BuildInfo>) -> Json<&BuildInfo> {
    Json(build)
}
