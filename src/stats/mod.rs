//! The dashboard's numbers: ranges, filters and buckets, reading them from the
//! rollups, a short per-replica cache, and `/api/stats` for other programs.

pub mod cache;
pub mod figure;
pub mod filter;
pub mod model;
pub mod period;
pub mod query;
pub mod range;
pub mod store;

mod api;

use rocket::fairing::AdHoc;

use crate::infra::config::Config;

pub use self::{
    cache::{StatsCache, StatsReader},
    model::Stats,
    period::Period,
    query::{StatsParams, StatsQuery},
    range::StatsRange,
};

/// The stats cache and `/api/stats`.
pub fn stage(config: &Config) -> AdHoc {
    let cache = StatsCache::new(config.stats_cache_ttl, config.raw_visits_retention);
    AdHoc::on_ignite("Stats", |rocket| async {
        rocket.manage(cache).mount("/", api::routes())
    })
}
