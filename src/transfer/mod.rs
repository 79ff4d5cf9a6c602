//! A site's counts in and out as CSV: `GET /api/sites/DOMAIN/export.csv`,
//! `visitors export`, and `visitors import` of daily history from elsewhere
//! (kept apart from the live counters, and shown as imported).

pub mod commands;
pub mod format;
pub mod store;

mod api;

use chrono::{DateTime, Utc};
use rocket::{fairing::AdHoc, routes};
use sqlx::PgPool;

use crate::{
    counting::site_id::SiteId,
    infra::{database::database_now, error::AppError},
    stats::{range::Granularity, StatsRange},
};

/// What an import did, when it was not refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    Rows(usize),
    /// This very file was imported before, at that time: nothing changed.
    Before(DateTime<Utc>),
}

/// Reads `file` (called `name` in messages) and stores its daily rows as
/// the site's imported history, recorded as from `source`; or says why it
/// is refused, in the words the command line and the site's page share.
pub async fn import_file(
    pool: &PgPool,
    site: SiteId,
    name: &str,
    source: &str,
    file: &[u8],
) -> Result<Result<Imported, String>, sqlx::Error> {
    let today = database_now(pool).await?;
    let rows = match format::read_daily_rows(file, today) {
        Ok(rows) => rows,
        Err(error) => return Ok(Err(format!("{name}: {error}; nothing was imported"))),
    };
    Ok(
        match store::import(pool, site, source, file, &rows).await? {
            store::ImportOutcome::Imported { rows } => Ok(Imported::Rows(rows)),
            store::ImportOutcome::AlreadyImported(at) => Ok(Imported::Before(at)),
            store::ImportOutcome::CountedHere(day) => Err(format!(
                "{name}: {} is counted here already; nothing was imported",
                day.format("%Y-%m-%d")
            )),
        },
    )
}

/// `/api/sites/DOMAIN/export.csv`.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Export", |rocket| async {
        rocket.mount("/", routes![api::export])
    })
}

/// Which rows an export holds: a range (default all time), by day (the
/// default) or by hour (kept for the last two days).
#[derive(Debug, Clone, Copy)]
pub struct ExportRequest {
    pub range: StatsRange,
    pub granularity: Granularity,
}

impl ExportRequest {
    pub fn parse(range: Option<&str>, granularity: Option<&str>) -> Result<Self, AppError> {
        let range = match range {
            None => StatsRange::AllTime,
            Some(value) => StatsRange::parse(Some(value))?,
        };
        let granularity = match granularity {
            None | Some("day") => Granularity::Day,
            Some("hour") => Granularity::Hour,
            Some(_) => {
                return Err(AppError::BadRequest(
                    "granularity must be day or hour".into(),
                ))
            }
        };
        Ok(Self { range, granularity })
    }

    /// Which buckets the rows cover, by the database's clock.
    pub async fn buckets(&self, pool: &PgPool) -> Result<ExportedBuckets, sqlx::Error> {
        let now = database_now(pool).await?;
        Ok(ExportedBuckets {
            from: self
                .range
                .first_bucket(now)
                .map(|start| self.granularity.truncate(start)),
            // Only complete days: today is still being counted, and a file
            // with it could not be imported (see format::read_daily_rows).
            before: match self.granularity {
                Granularity::Day => Some(Granularity::Day.truncate(now)),
                Granularity::Minute | Granularity::Hour => None,
            },
        })
    }
}

/// The buckets an export holds: from the range's first day (or hour; all
/// of them when `None`) and, by day, before today.
#[derive(Debug, Clone, Copy)]
pub struct ExportedBuckets {
    pub from: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
}
