//! Keeps each site's stats per range and filters for a short while per
//! replica, so that a busy dashboard costs the database one computation per
//! question per period.

use std::{sync::Arc, time::Duration};

use moka::future::Cache;
use rocket::{
    http::Status,
    request::{FromRequest, Outcome},
    Request,
};
use rocket_db_pools::Database;
use sqlx::PgPool;

use crate::{
    counting::site_id::SiteId,
    infra::{
        config::RetentionDays,
        database::{within_deadline, Db},
        error::AppError,
    },
    stats::{
        model::{load_stats, Stats},
        query::StatsQuery,
        range::StatsRange,
    },
};

/// Ranges of this many sites stay cached; a busy instance's sites beyond
/// that are computed again when they are asked for.
const CACHED_SITES: u64 = 1024;

pub struct StatsCache {
    /// `None` when caching is off (`STATS_CACHE_MS=0`).
    cache: Option<Cache<(SiteId, StatsQuery), Arc<Stats>>>,
    /// How long raw visits are kept: what a goal read from them can cover.
    retention: Option<RetentionDays>,
}

impl StatsCache {
    /// A zero `ttl` turns caching off.
    pub fn new(ttl: Duration, retention: Option<RetentionDays>) -> Self {
        let cache = (!ttl.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(CACHED_SITES * StatsRange::ALL.len() as u64)
                .time_to_live(ttl)
                .build()
        });
        Self { cache, retention }
    }

    /// The answer to `query`; concurrent requests for one query that find
    /// nothing cached wait for one computation rather than each running it,
    /// and share its error when it fails.
    pub async fn get(
        &self,
        pool: &PgPool,
        site: SiteId,
        query: &StatsQuery,
    ) -> Result<Arc<Stats>, Arc<sqlx::Error>> {
        let load = async {
            within_deadline(load_stats(
                pool,
                site,
                query.range,
                &query.filters,
                self.retention,
            ))
            .await
            .map(Arc::new)
        };
        match &self.cache {
            None => load.await.map_err(Arc::new),
            Some(cache) => cache.try_get_with((site, query.clone()), load).await,
        }
    }
}

/// A request's way to the numbers: the pool and this replica's cache.
pub struct StatsReader<'r> {
    pool: &'r PgPool,
    cache: &'r StatsCache,
}

impl StatsReader<'_> {
    pub async fn get(&self, site: SiteId, query: &StatsQuery) -> Result<Arc<Stats>, AppError> {
        Ok(self.cache.get(self.pool, site, query).await?)
    }

    pub fn pool(&self) -> &PgPool {
        self.pool
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for StatsReader<'r> {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let rocket = request.rocket();
        match (Db::fetch(rocket), rocket.state::<StatsCache>()) {
            (Some(db), Some(cache)) => Outcome::Success(Self { pool: db, cache }),
            // A stage is missing: a mistake in assembling the server.
            _ => Outcome::Error((Status::InternalServerError, ())),
        }
    }
}
