//! The database: the pool, migrations, and every SQL statement the app runs,
//! as plain functions over a pool.

mod stats;
mod visits;

use std::{collections::HashSet, str::FromStr, time::Duration};

use rand::RngCore;
use rocket::fairing::AdHoc;
use rocket_db_pools::Database;
use sqlx::{migrate::Migrator, postgres::PgConnectOptions, Connection, PgConnection, PgPool};

use crate::config::VisitorSecret;

pub use stats::{breakdowns, breakdowns_since, buckets, visitors_since, BreakdownRow, BucketRow};
pub use visits::{record_visits, NewVisit, VisitCounts};

/// The pool rocket_db_pools builds from `databases.visitors` (`DATABASE_URL`).
#[derive(Database)]
#[database("visitors")]
pub struct Db(PgPool);

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!();

const SECRET_SETTING: &str = "visitor_secret";

/// Waits until PostgreSQL accepts a connection, retrying with back-off, for at
/// most `timeout`. Returns the last error when it never did.
pub async fn wait_for_database(url: &str, timeout: Duration) -> Result<(), sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?;
    let deadline = tokio::time::Instant::now() + timeout;
    let mut delay = Duration::from_millis(100);
    loop {
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        let attempt = tokio::time::timeout(remaining, PgConnection::connect_with(&options)).await;
        let error = match attempt {
            Ok(Ok(connection)) => return connection.close().await,
            Ok(Err(error)) => error,
            Err(_) => sqlx::Error::PoolTimedOut,
        };
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        if remaining.is_zero() {
            return Err(error);
        }
        tokio::time::sleep(delay.min(remaining)).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

/// Applies pending migrations. sqlx holds an advisory lock meanwhile, so
/// replicas starting together apply each migration exactly once.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// Whether every embedded migration has been applied successfully.
pub async fn migrations_applied(pool: &PgPool) -> Result<bool, sqlx::Error> {
    let has_table: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    if !has_table {
        return Ok(false);
    }
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await?;
    let applied: HashSet<i64> = applied.into_iter().collect();
    Ok(MIGRATOR.iter().all(|m| applied.contains(&m.version)))
}

/// The database's clock: every bucket is cut by it, so reads use it too.
pub async fn database_now(pool: &PgPool) -> Result<chrono::DateTime<chrono::Utc>, sqlx::Error> {
    sqlx::query_scalar("SELECT now()").fetch_one(pool).await
}

/// Merges the shards of past buckets and deletes counters older than the
/// dashboard reads (`maintain_counters()` in the migration `rollups`).
pub async fn maintain_counters(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT maintain_counters()")
        .execute(pool)
        .await
        .map(drop)
}

/// The secret stored in the database, created by whichever replica asks first.
pub async fn shared_visitor_secret(pool: &PgPool) -> Result<VisitorSecret, sqlx::Error> {
    let mut candidate = vec![0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut candidate);
    // Racing replicas all insert; only the first wins, and all read its value.
    sqlx::query(
        "INSERT INTO app_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(SECRET_SETTING)
    .bind(&candidate)
    .execute(pool)
    .await?;
    let secret: Vec<u8> = sqlx::query_scalar("SELECT value FROM app_settings WHERE name = $1")
        .bind(SECRET_SETTING)
        .fetch_one(pool)
        .await?;
    Ok(VisitorSecret::new(secret))
}

/// The database stage: the pool, then migrations (unless turned off). Runs
/// before the server accepts requests.
pub fn stage(migrate_on_start: bool) -> AdHoc {
    AdHoc::on_ignite("Database", move |rocket| async move {
        // The recorder's own ignite needs the pool, so it runs after Db's.
        let rocket = rocket
            .attach(Db::init())
            .attach(crate::recorder::recording());
        if !migrate_on_start {
            return rocket;
        }
        rocket.attach(AdHoc::try_on_ignite(
            "Database migrations",
            |rocket| async move {
                let Some(db) = Db::fetch(&rocket) else {
                    return Err(rocket);
                };
                match migrate(db).await {
                    Ok(()) => Ok(rocket),
                    Err(error) => {
                        rocket::error!("database migrations failed: {error}");
                        Err(rocket)
                    }
                }
            },
        ))
    })
}

/// How often each replica maintains the counters: a minute bucket's shards
/// can be merged as soon as the minute is over. Running it on several
/// replicas at once is harmless.
const MAINTAIN_EVERY: Duration = Duration::from_secs(60);

/// Maintains the counters in the background from the moment the server is up.
pub fn maintenance() -> AdHoc {
    AdHoc::on_liftoff("Counter maintenance", |rocket| {
        Box::pin(async move {
            let Some(db) = Db::fetch(rocket) else { return };
            let pool = db.0.clone();
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
