//! The JSON API: the dashboard's numbers for other programs. Reading them
//! records no visit.

use std::{net::IpAddr, sync::Arc};

use rocket::{
    get,
    http::Header,
    request::{FromRequest, Outcome},
    routes,
    serde::json::Json,
    Request, Responder, Route, State,
};
use serde::Serialize;

use crate::{
    db::Db,
    error::AppError,
    stats::{Stats, StatsCache, StatsRange},
};

#[get("/api/stats?<range>")]
async fn stats(
    range: Option<&str>,
    db: &Db,
    cache: &State<StatsCache>,
) -> Result<Json<Arc<Stats>>, AppError> {
    let range = StatsRange::parse(range)?;
    Ok(Json(cache.get(db, range).await?))
}

/// The caller's address as this server sees it, and where it came from:
/// the diagnostic for a proxy setup where every visitor collapses into the
/// proxy's address (or where clients can claim any address). It only ever
/// shows callers their own address, and is neither stored nor logged.
#[derive(Serialize)]
pub struct SeenAddress {
    client_address: Option<IpAddr>,
    peer_address: Option<IpAddr>,
    trusted_header: Option<String>,
    from_header: bool,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SeenAddress {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let client_address = request.client_ip();
        let peer_address = request.remote().map(|peer| peer.ip());
        let trusted_header = request
            .rocket()
            .config()
            .ip_header
            .as_ref()
            .map(|h| h.to_string());
        Outcome::Success(Self {
            from_header: trusted_header.is_some() && client_address != peer_address,
            client_address,
            peer_address,
            trusted_header,
        })
    }
}

#[derive(Responder)]
struct Private<T> {
    body: T,
    cache_control: Header<'static>,
}

#[get("/api/whoami")]
fn whoami(seen: SeenAddress) -> Private<Json<SeenAddress>> {
    Private {
        body: Json(seen),
        cache_control: Header::new("Cache-Control", "no-store"),
    }
}

pub fn routes() -> Vec<Route> {
    routes![stats, whoami]
}
