//! Upkeep of the counters the write path maintains: merging the shards of
//! past buckets and pruning minute and hour rollups older than the
//! dashboard reads (`maintain_counters()` in the migration `rollups`).

use std::time::Duration;

use rocket::fairing::AdHoc;
use rocket_db_pools::Database;
use sqlx::PgPool;

use crate::infra::database::Db;

/// How often each replica maintains the counters: a minute bucket's shards
/// can be merged as soon as the minute is over. Running it on several
/// replicas at once is harmless.
const MAINTAIN_EVERY: Duration = Duration::from_secs(60);

pub async fn maintain_counters(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT maintain_counters()")
        .execute(pool)
        .await
        .map(drop)
}

/// Maintains the counters in the background from the moment the server is up.
pub fn job() -> AdHoc {
    AdHoc::on_liftoff("Counter maintenance", |rocket| {
        Box::pin(async move {
            let Some(db) = Db::fetch(rocket) else { return };
            let pool = sqlx::PgPool::clone(db);
            rocket::tokio::spawn(async move {
                let mut every = rocket::tokio::time::interval(MAINTAIN_EVERY);
                loop {
                    every.tick().await;
                    if let Err(error) = maintain_counters(&pool).await {
                        rocket::warn!("maintaining the counters failed: {error}");
                    }
                }
            });
        })
    })
}
