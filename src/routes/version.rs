//! The running version, for monitoring and deploy checks.

use rocket::{get, routes, serde::json::Json, Route, State};

use crate::page::SiteInfo;
use crate::version::BuildInfo;

#[get("/version")]
fn version(site: &State<SiteInfo>) -> Json<&BuildInfo> {
    Json(&site.build)
}

pub fn routes() -> Vec<Route> {
    routes![version]
}
