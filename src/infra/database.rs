//! The database: the pool Rocket manages, the embedded migrations, waiting
//! for PostgreSQL at start, and the database's clock. Features keep their own
//! SQL; this is only what all of them share.

use std::{collections::HashSet, future::Future, str::FromStr, time::Duration};

use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, Utc};
use rocket::{fairing::AdHoc, figment::providers::Serialized, Build, Rocket};
use rocket_db_pools::Database;
use sqlx::{
    migrate::Migrator, postgres::PgConnectOptions, Connection, PgConnection, PgExecutor, PgPool,
};

/// The pool of `databases.visitors` (`DATABASE_URL`), built by `stage`.
#[derive(Database)]
#[database("visitors")]
pub struct Db(PgPool);

/// Builds the pool as rocket_db_pools' own initializer does (from
/// `databases.visitors`, 4 connections per worker unless set), without its
/// shutdown, which closes the pool at once: requests still in flight read
/// through it. The shutdown's drain closes it once they are answered
/// (`telemetry::drain_on_shutdown`).
async fn open_pool(rocket: Rocket<Build>) -> rocket::fairing::Result {
    let workers: usize = rocket
        .figment()
        .extract_inner(rocket::Config::WORKERS)
        .unwrap_or_else(|_| rocket::Config::default().workers);
    let figment = rocket
        .figment()
        .focus(&format!("databases.{}", Db::NAME))
        .join(Serialized::default("max_connections", workers * 4))
        .join(Serialized::default("connect_timeout", 5));
    match <PgPool as rocket_db_pools::Pool>::init(&figment).await {
        Ok(pool) => Ok(rocket.manage(Db::from(pool))),
        Err(error) => {
            rocket::error!("failed to initialize the database pool: {error}");
            Err(rocket)
        }
    }
}

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

/// Why this binary cannot use the database's schema.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// A newer release migrated the database: this binary would write into
    /// tables it does not know.
    #[error(
        "the database is at migration {database}, newer than this binary, which knows migrations \
         up to {known}: a later release migrated it. Run that release, or restore the backup \
         taken before the upgrade (docs/operations.md, \"Rolling back an upgrade\")"
    )]
    Newer { database: i64, known: i64 },
    /// A migration failed; it ran in a transaction of its own, so nothing of
    /// it is left.
    #[error(
        "migration {version} ({description}) failed and was rolled back, the database is as it \
         was before it: {error}"
    )]
    Failed {
        version: i64,
        description: String,
        error: sqlx::migrate::MigrateError,
    },
    #[error("migrating the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("reading the database's migrations: {0}")]
    Database(#[from] sqlx::Error),
}

/// The migrations the database has applied.
async fn applied_versions(pool: &PgPool) -> Result<HashSet<i64>, sqlx::Error> {
    // Two statements: the second cannot even be planned without the table.
    let has_table: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    if !has_table {
        return Ok(HashSet::new());
    }
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await?;
    Ok(applied.into_iter().collect())
}

/// Refuses a database that a newer release has migrated: no silent
/// downgrade. Every start checks it, migrating or not.
pub async fn check_schema(pool: &PgPool) -> Result<(), SchemaError> {
    let known: HashSet<i64> = MIGRATOR.iter().map(|m| m.version).collect();
    let unknown = applied_versions(pool)
        .await?
        .into_iter()
        .filter(|version| !known.contains(version))
        .max();
    match unknown {
        Some(database) => Err(SchemaError::Newer {
            database,
            known: known.into_iter().max().unwrap_or_default(),
        }),
        None => Ok(()),
    }
}

/// Applies pending migrations, each in a transaction of its own. sqlx holds
/// an advisory lock meanwhile, so replicas starting together apply each
/// migration exactly once. A migration that fails is named.
pub async fn migrate(pool: &PgPool) -> Result<(), SchemaError> {
    check_schema(pool).await?;
    let error = match MIGRATOR.run(pool).await {
        Ok(()) => return Ok(()),
        // PostgreSQL refused a statement of a migration; anything else (a
        // lost connection, a changed migration) is not one migration's.
        Err(error @ sqlx::migrate::MigrateError::Execute(sqlx::Error::Database(_))) => error,
        Err(error) => return Err(error.into()),
    };
    // Migrations apply in order and stop at the first that fails.
    let applied = applied_versions(pool).await?;
    match MIGRATOR.iter().find(|m| !applied.contains(&m.version)) {
        Some(failed) => Err(SchemaError::Failed {
            version: failed.version,
            description: failed.description.to_string(),
            error,
        }),
        None => Err(error.into()),
    }
}

/// Whether every embedded migration has been applied successfully.
pub async fn migrations_applied(pool: &PgPool) -> Result<bool, sqlx::Error> {
    let applied = applied_versions(pool).await?;
    Ok(MIGRATOR.iter().all(|m| applied.contains(&m.version)))
}

/// How long a request waits for its visit to be recorded before it is
/// answered 503 (`counting::recorder`).
pub const RECORD_DEADLINE: Duration = Duration::from_secs(5);

/// How long a request waits for one read from the database before it gives
/// up and answers 503.
pub const READ_DEADLINE: Duration = Duration::from_secs(3);

/// The longest a request waits for the database: a badge's, which looks
/// its site up, records its visit, then reads its numbers. The proxy in
/// front must wait longer (nginx's `proxy_read_timeout`, checked by a
/// test), or it would give up first and the client would not learn whether
/// the visit counted; a replica that shuts down waits this long for its
/// requests.
pub const REQUEST_DEADLINE: Duration =
    RECORD_DEADLINE.saturating_add(READ_DEADLINE.saturating_mul(2));

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

/// Whether `error` is a read that ran out of time: `within_deadline`'s, or
/// PostgreSQL's own `statement_timeout` (which cancels the statement).
pub fn is_past_deadline(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(io) => io.kind() == std::io::ErrorKind::TimedOut,
        sqlx::Error::Database(database) => database.code().as_deref() == Some("57014"),
        _ => false,
    }
}

/// The database's clock: every bucket is cut by it, so reads use it too.
pub async fn database_now(db: impl PgExecutor<'_>) -> Result<DateTime<Utc>, sqlx::Error> {
    sqlx::query_scalar("SELECT now()").fetch_one(db).await
}

/// The pool, then migrations (unless turned off; a newer schema is refused
/// either way); runs before the server accepts requests, and before every
/// feature that needs the pool.
pub fn stage(migrate_on_start: bool) -> AdHoc {
    AdHoc::on_ignite("Database", move |rocket| async move {
        rocket
            .attach(AdHoc::try_on_ignite("Database pool", open_pool))
            .attach(AdHoc::try_on_ignite(
                "Database schema",
                move |rocket| async move {
                    let Some(db) = Db::fetch(&rocket) else {
                        return Err(rocket);
                    };
                    let result = if migrate_on_start {
                        migrate(db).await
                    } else {
                        check_schema(db).await
                    };
                    match result {
                        Ok(()) => Ok(rocket),
                        Err(error) => {
                            rocket::error!("{error}");
                            Err(rocket)
                        }
                    }
                },
            ))
    })
}
