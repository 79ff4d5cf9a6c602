//! Keeps each site's stats per range and filters for a short while per
//! replica, so that a busy dashboard costs the database one computation per
//! question per period.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
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
        database::{is_past_deadline, within_deadline, Db},
        error::AppError,
    },
    stats::{
        model::{load_previous, load_stats, PreviousPeriod, Stats},
        period::Period,
        query::StatsQuery,
        range::Granularity,
    },
};

/// Ranges of this many sites stay cached; a busy instance's sites beyond
/// that are computed again when they are asked for.
const CACHED_SITES: u64 = 1024;

/// A past period's numbers do not change: each is kept this long.
const PREVIOUS_TTL: Duration = Duration::from_secs(120);

/// A previous period: its site, its question and the minute it ends at.
type PreviousKey = (SiteId, StatsQuery, DateTime<Utc>);

/// The previous period as far as it could be counted: `LeftOut` when its
/// raw visits took longer than a read may, kept like a count so that the
/// next dashboards of that minute do not wait for the same deadline.
#[derive(Clone)]
enum Before {
    Counted(Option<PreviousPeriod>),
    LeftOut,
}

pub struct StatsCache {
    /// `None` when caching is off (`STATS_CACHE_MS=0`).
    cache: Option<Cache<(SiteId, StatsQuery), Arc<Stats>>>,
    /// The previous periods' numbers, by the minute they end at; off with
    /// the cache.
    previous: Option<Cache<PreviousKey, Before>>,
    /// How long raw visits are kept: what a goal read from them can cover.
    retention: Option<RetentionDays>,
}

impl StatsCache {
    /// A zero `ttl` turns caching off.
    pub fn new(ttl: Duration, retention: Option<RetentionDays>) -> Self {
        Self {
            cache: cache_for(ttl),
            previous: cache_for(if ttl.is_zero() { ttl } else { PREVIOUS_TTL }),
            retention,
        }
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
            let mut stats = within_deadline(load_stats(pool, site, query, self.retention))
                .await
                .map_err(Arc::new)?;
            match self.previous(pool, site, query, stats.generated_at).await? {
                Before::Counted(previous) => stats.previous = previous,
                Before::LeftOut => stats.previous_left_out = true,
            }
            Ok(Arc::new(stats))
        };
        match &self.cache {
            None => load.await,
            Some(cache) => cache
                .try_get_with((site, query.clone()), load)
                .await
                .map_err(|error: Arc<Arc<sqlx::Error>>| Arc::clone(&*error)),
        }
    }

    /// The numbers of the period before `query`'s range at `now`, from the
    /// minute `now` is in. The range's numbers are worth showing without
    /// them: one that takes longer than a read may is left out.
    async fn previous(
        &self,
        pool: &PgPool,
        site: SiteId,
        query: &StatsQuery,
        now: DateTime<Utc>,
    ) -> Result<Before, Arc<sqlx::Error>> {
        let minute = Granularity::Minute.truncate(now);
        let load = async {
            match within_deadline(load_previous(pool, site, query, minute, self.retention)).await {
                Ok(previous) => Ok(Before::Counted(previous)),
                Err(error) if is_past_deadline(&error) => {
                    rocket::warn!(
                        "the period before was left out of site {}'s numbers: {error}",
                        site.0
                    );
                    Ok(Before::LeftOut)
                }
                Err(error) => Err(error),
            }
        };
        match &self.previous {
            None => load.await.map_err(Arc::new),
            Some(cache) => {
                cache
                    .try_get_with((site, query.clone(), minute), load)
                    .await
            }
        }
    }
}

/// A cache of answers kept for `ttl`; none when it is zero.
fn cache_for<K, V>(ttl: Duration) -> Option<Cache<K, V>>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    (!ttl.is_zero()).then(|| {
        Cache::builder()
            .max_capacity(CACHED_SITES * Period::PRESETS.len() as u64)
            .time_to_live(ttl)
            .build()
    })
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
