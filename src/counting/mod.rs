//! Counting visits: who a visitor is (a keyed hash, never the address), what
//! their User-Agent says, and the group-committed write path that records a
//! visit and answers with its counts. `/api/whoami` shows a caller the
//! address the counter sees for them.

pub mod bots;
pub mod country;
pub mod details;
pub mod goal;
pub mod maintenance;
pub mod recorder;
pub mod site_id;
pub mod store;
pub mod user_agent;
pub mod visit;
pub mod visitor_key;

use std::{net::IpAddr, time::Duration};

use backon::{ExponentialBuilder, Retryable};
use rocket::{
    fairing::AdHoc,
    get,
    http::Header,
    request::{FromRequest, Outcome},
    routes,
    serde::json::Json,
    Request, Responder, State,
};
use rocket_db_pools::Database;
use serde::Serialize;

use crate::infra::{config::Config, database::Db, metrics::Metrics};

use self::{
    country::{CountryDatabase, CountryLookup},
    recorder::{RecorderDatabase, RecorderMetrics, VisitRecorder},
    user_agent::UserAgentClassifier,
    visit::ClientAddressRule,
    visitor_key::VisitorIdentities,
};

/// The classifier, the country lookup, the identities, the address rule,
/// the recorder, the maintenance (counters and raw-visit retention) and
/// `/api/whoami`. The recorder and the shared secret need the pool, so
/// they are set up once the database stage has made it. A country
/// database that cannot be read stops the start.
pub fn stage(config: &Config) -> AdHoc {
    let identities = VisitorIdentities::new(config.visitor_secret.clone());
    let rule = ClientAddressRule {
        hops: config.trusted_proxy_hops,
    };
    let retention = config.raw_visits_retention;
    let database_url = config.database_url.clone();
    let (geoip_db, country_header) = (config.geoip_db.clone(), config.country_header);
    AdHoc::try_on_ignite("Counting", move |rocket| async move {
        // Compiling the rules and reading the country database take tens
        // of milliseconds of CPU: off the async workers, and out of the
        // request path.
        let classifier = rocket::tokio::task::spawn_blocking(UserAgentClassifier::new)
            .await
            .expect("building the User-Agent classifier does not panic");
        let database = if geoip_db.required || geoip_db.path.exists() {
            let path = geoip_db.path.clone();
            let opened = rocket::tokio::task::spawn_blocking(move || CountryDatabase::open(&path))
                .await
                .expect("reading the country database does not panic");
            match opened {
                Ok(database) => Some(database),
                Err(error) => {
                    rocket::error!("{error}");
                    return Err(rocket);
                }
            }
        } else {
            rocket::info!(
                "no country database at {}: no countries (GEOIP_DB)",
                geoip_db.path.display()
            );
            None
        };
        Ok(rocket
            .manage(classifier)
            .manage(CountryLookup::new(database, country_header))
            .manage(identities)
            .manage(rule)
            .mount("/", routes![whoami])
            .attach(maintenance::job(retention))
            .attach(AdHoc::try_on_ignite(
                "Visit recorder",
                |rocket| async move {
                    let (Some(db), Some(metrics)) = (Db::fetch(&rocket), rocket.state::<Metrics>())
                    else {
                        return Err(rocket);
                    };
                    let pool = sqlx::PgPool::clone(db);
                    let writer = match RecorderDatabase::connect_lazy(&database_url) {
                        Ok(writer) => writer,
                        Err(error) => {
                            rocket::error!("the visit recorder's pool: {error}");
                            return Err(rocket);
                        }
                    };
                    let recorder = VisitRecorder::start(writer, RecorderMetrics::register(metrics));
                    let identities = rocket.state::<VisitorIdentities>().expect("managed above");
                    if let Err(error) = identities.load(&pool).await.map(drop) {
                        rocket::warn!("the visitor secret is not readable yet ({error}): retrying");
                    }
                    Ok(rocket.manage(recorder))
                },
            ))
            .attach(AdHoc::on_liftoff("Visitor secret", |rocket| {
                Box::pin(async move {
                    let (Some(identities), Some(db)) =
                        (rocket.state::<VisitorIdentities>(), Db::fetch(rocket))
                    else {
                        return;
                    };
                    if identities.hasher().is_none() {
                        rocket::tokio::spawn(keep_loading(
                            identities.clone(),
                            sqlx::PgPool::clone(db),
                        ));
                    }
                })
            })))
    })
}

/// Retries loading the shared secret until the schema is there (a replica
/// started before `visitors migrate`); readiness also tries on every probe.
async fn keep_loading(identities: VisitorIdentities, pool: sqlx::PgPool) {
    let load = || async { identities.load(&pool).await.map(drop) };
    let _ = load
        .retry(
            ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(200))
                .with_max_delay(Duration::from_secs(5))
                .without_max_times(),
        )
        .await;
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
        let rule =
            rocket::outcome::try_outcome!(request.guard::<&State<ClientAddressRule>>().await);
        let client_address = rule.client_address(request);
        let peer_address = request.remote().map(|peer| peer.ip());
        let trusted_header = if rule.hops > 0 {
            Some("X-Forwarded-For".to_owned())
        } else {
            request
                .rocket()
                .config()
                .ip_header
                .as_ref()
                .map(|h| h.to_string())
        };
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
