//! The database: the pool Rocket manages, the embedded migrations, waiting
//! for PostgreSQL at start, and the database's clock. Features keep their own
//! SQL; this is only what all of them share.

use std::{collections::HashSet, future::Future, str::FromStr, time::Duration};

use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, Utc};
use rocket::fairing::AdHoc;
use rocket_db_pools::Database;
use sqlx::{
    migrate::Migrator, postgres::PgConnectOptions, Connection, PgConnection, PgExecutor, PgPool,
};

/// The pool rocket_db_pools builds from `databases.visitors` (`DATABASE_URL`).
#[derive(Database)]
#[database("visitors")]
pub struct Db(PgPool);

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// Why the database could not be used at start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Waits until PostgreSQL accepts a connection, retrying with exponential
/// back-off (100 ms doubling up to 2 s), for at most `timeout`.
pub async fn wait_for_database(url: &str, timeout: Duration) -> Result<(), StartupError> {
    let options = PgConnectOptions::from_str(url)?;
    let connect = || async { PgConnection::connect_with(&options).await?.close().await };
    let retries = connect.retry(
        ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_secs(2))
            .without_max_times(),
    );
    match tokio::time::timeout(timeout, retries).await {
        Ok(result) => result.map_err(StartupError::from),
        Err(_) => Err(StartupError::TimedOut(timeout)),
    }
}

/// Applies pending migrations. sqlx holds an advisory lock meanwhile, so
/// replicas starting together apply each migration exactly once.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// Whether every embedded migration has been applied successfully.
pub async fn migrations_applied(pool: &PgPool) -> Result<bool, sqlx::Error> {
    // Two statements: the second cannot even be planned without the table.
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

/// How long a request waits for its visit to be recorded before it is
/// answered 503 (`counting::recorder`).
pub const RECORD_DEADLINE: Duration = Duration::from_secs(5);

/// How long a request waits for one read from the database before it gives
/// up and answers 503.
pub const READ_DEADLINE: Duration = Duration::from_secs(5);

/// The longest a request waits for the database: its visit, then its
/// numbers. The proxy in front must wait longer (nginx's
/// `proxy_read_timeout`, checked by a test), or it would give up first and
/// the client would not learn whether the visit counted; a replica that
/// shuts down waits this long for its requests.
pub const REQUEST_DEADLINE: Duration = RECORD_DEADLINE.saturating_add(READ_DEADLINE);

/// `read`, or a timed-out I/O error once `READ_DEADLINE` has passed: a
/// database that stops answering (a frozen server, a lost network) would
/// otherwise keep the request waiting for ever.
pub async fn within_deadline<T>(
    read: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, sqlx::Error> {
    tokio::time::timeout(READ_DEADLINE, read)
        .await
        .unwrap_or_else(|_| {
            Err(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "the database did not answer within {} s",
                    READ_DEADLINE.as_secs()
                ),
            )))
        })
}

/// The database's clock: every bucket is cut by it, so reads use it too.
pub async fn database_now(db: impl PgExecutor<'_>) -> Result<DateTime<Utc>, sqlx::Error> {
    sqlx::query_scalar("SELECT now()").fetch_one(db).await
}

/// The pool, then migrations (unless turned off); runs before the server
/// accepts requests, and before every feature that needs the pool.
pub fn stage(migrate_on_start: bool) -> AdHoc {
    AdHoc::on_ignite("Database", move |rocket| async move {
        let rocket = rocket.attach(Db::init());
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
