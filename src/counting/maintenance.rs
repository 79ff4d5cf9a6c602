//! Upkeep of the data the write path leaves: merging the shards of past
//! buckets and pruning minute and hour rollups older than the dashboard
//! reads (`maintain_counters()` in the migration `rollups`), and deleting
//! raw visits older than `RAW_VISITS_RETENTION_DAYS` (`prune_raw_visits`).
//!
//! Pruning raw visits changes no number read from the rollups and the
//! per-visitor rows, which stay: a range up to now, unfiltered, in UTC.
//! Filtered numbers, periods that ended and other time zones are counted
//! from the raw visits, and say so where the retention has cut them
//! (`raw_visits_since`).

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use rocket::fairing::AdHoc;
use rocket_db_pools::Database;
use sqlx::PgPool;

use crate::infra::{config::RetentionDays, database::Db};

/// How often each replica maintains the counters: a minute bucket's shards
/// can be merged as soon as the minute is over. Running it on several
/// replicas at once is harmless.
const MAINTAIN_EVERY: Duration = Duration::from_secs(60);

/// Raw visits deleted per statement: each statement is its own short
/// transaction that finds its rows through the `visited_at` index, so no
/// lock is held for long and the write path never waits on the prune.
pub const PRUNE_BATCH: i64 = 10_000;

pub async fn maintain_counters(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT maintain_counters()")
        .execute(pool)
        .await
        .map(drop)
}

/// How long a recorded request's id is kept: far longer than a proxy takes
/// to send a request to the next replica (seconds).
const REQUEST_IDS_KEPT: &str = "10 minutes";

/// Forgets the ids of requests recorded more than `REQUEST_IDS_KEPT` ago.
pub async fn forget_old_request_ids(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM recorded_requests WHERE recorded_at < now() - $1::interval")
        .bind(REQUEST_IDS_KEPT)
        .execute(pool)
        .await
        .map(drop)
}

/// What one prune did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    /// Raw visits deleted.
    pub visits: u64,
    /// Statements run (batches of at most `PRUNE_BATCH`).
    pub batches: u64,
    pub took: Duration,
    /// The longest statement: about the longest any row lock was held.
    pub slowest_batch: Duration,
}

/// Deletes the raw visits older than `retention` as of the database's
/// clock, in batches of `PRUNE_BATCH`, until a batch deletes fewer rows.
/// Several replicas pruning at once are harmless: one waits for the other's
/// batch to commit, finds its rows gone, and stops.
pub async fn prune_raw_visits(
    pool: &PgPool,
    retention: RetentionDays,
) -> Result<Pruned, sqlx::Error> {
    let now: DateTime<Utc> = sqlx::query_scalar("SELECT now()").fetch_one(pool).await?;
    let before = now - TimeDelta::days(i64::from(retention.days()));
    prune_raw_visits_before(pool, before).await
}

/// The same with an explicit limit: every raw visit before `before` goes.
pub async fn prune_raw_visits_before(
    pool: &PgPool,
    before: DateTime<Utc>,
) -> Result<Pruned, sqlx::Error> {
    let started = Instant::now();
    let mut pruned = Pruned {
        visits: 0,
        batches: 0,
        took: Duration::ZERO,
        slowest_batch: Duration::ZERO,
    };
    loop {
        let batch_started = Instant::now();
        // The rows by their physical address (a TID scan), oldest first
        // through the index: about twice as fast as by primary key. Within
        // one statement, a row seen by its snapshot keeps its address.
        let deleted = sqlx::query(
            "DELETE FROM visit_events WHERE visited_at < $1 AND ctid = ANY (ARRAY(
                 SELECT ctid FROM visit_events WHERE visited_at < $1
                 ORDER BY visited_at LIMIT $2))",
        )
        .bind(before)
        .bind(PRUNE_BATCH)
        .execute(pool)
        .await?
        .rows_affected();
        pruned.slowest_batch = pruned.slowest_batch.max(batch_started.elapsed());
        pruned.visits += deleted;
        pruned.batches += 1;
        if deleted < PRUNE_BATCH as u64 {
            break;
        }
        // Lets the write path's statements in between batches.
        rocket::tokio::task::yield_now().await;
    }
    pruned.took = started.elapsed();
    Ok(pruned)
}

/// One round of upkeep: the counters and the request ids, then the raw
/// visits past retention.
pub async fn maintain(pool: &PgPool, retention: Option<RetentionDays>) -> Result<(), sqlx::Error> {
    maintain_counters(pool).await?;
    forget_old_request_ids(pool).await?;
    if let Some(retention) = retention {
        let pruned = prune_raw_visits(pool, retention).await?;
        if pruned.visits > 0 {
            rocket::info!(
                "deleted {} raw visits older than {} days in {} ms",
                pruned.visits,
                retention.days(),
                pruned.took.as_millis()
            );
        }
    }
    Ok(())
}

/// Maintains the data in the background from the moment the server is up.
pub fn job(retention: Option<RetentionDays>) -> AdHoc {
    AdHoc::on_liftoff("Counter maintenance", move |rocket| {
        Box::pin(async move {
            let Some(db) = Db::fetch(rocket) else { return };
            let pool = sqlx::PgPool::clone(db);
            rocket::tokio::spawn(async move {
                let mut every = rocket::tokio::time::interval(MAINTAIN_EVERY);
                loop {
                    every.tick().await;
                    if let Err(error) = maintain(&pool, retention).await {
                        rocket::warn!("maintaining the counters failed: {error}");
                    }
                }
            });
        })
    })
}
