//! The SQL of moving counts in and out: the rows of an export, straight
//! from the rollups (and the imported days), and an import in one
//! transaction.

use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::{
    counting::site_id::SiteId,
    stats::range::Granularity,
    transfer::{format::CountRow, ExportedBuckets},
};

/// Every row of the site's counts at `granularity` in `buckets`, in file
/// order, as the database produces them (not gathered in memory).
pub fn export_rows(
    pool: &PgPool,
    site: SiteId,
    granularity: Granularity,
    buckets: ExportedBuckets,
) -> BoxStream<'_, Result<CountRow, sqlx::Error>> {
    sqlx::query_as::<_, CountRow>(
        "SELECT time, $2 AS granularity, dimension, value, unique_visitors, visits FROM (
             SELECT bucket AS time, 'total' AS dimension, '' AS value,
                    sum(arrivals)::bigint AS unique_visitors, sum(visits)::bigint AS visits
             FROM visit_rollups
             WHERE site_id = $1 AND granularity = $2 AND ($3::timestamptz IS NULL OR bucket >= $3)
               AND ($4::timestamptz IS NULL OR bucket < $4)
             GROUP BY bucket
             UNION ALL
             SELECT bucket, dimension, value, sum(arrivals)::bigint,
                    CASE WHEN dimension IN ('page', 'event') THEN sum(visits)::bigint END
             FROM visitor_breakdowns
             WHERE site_id = $1 AND granularity = $2 AND ($3::timestamptz IS NULL OR bucket >= $3)
               AND ($4::timestamptz IS NULL OR bucket < $4)
             GROUP BY bucket, dimension, value
             UNION ALL
             SELECT day, dimension, value, unique_visitors, visits
             FROM imported_counts
             WHERE site_id = $1 AND $2 = 'day' AND ($3::timestamptz IS NULL OR day >= $3)
         ) counts
         ORDER BY time, dimension, value",
    )
    .bind(site.0)
    .bind(granularity.as_sql())
    .bind(buckets.from)
    .bind(buckets.before)
    .fetch(pool)
}

/// One past import, for `visitors sites history`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportRecord {
    pub source: String,
    pub imported_at: DateTime<Utc>,
    pub row_count: i32,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    Imported {
        rows: usize,
    },
    /// This very file was imported before (at that time): nothing changed.
    AlreadyImported(DateTime<Utc>),
    /// The file has a day the site has live counts for; nothing changed.
    /// (The two cannot be merged, and an export must not hold both.)
    CountedHere(DateTime<Utc>),
}

/// Stores the rows as imported history of the site, recording the import;
/// all of it or (on any error) none of it.
pub async fn import(
    pool: &PgPool,
    site: SiteId,
    source: &str,
    file: &[u8],
    rows: &[CountRow],
) -> Result<ImportOutcome, sqlx::Error> {
    let digest = Sha256::digest(file).to_vec();
    let mut tx = pool.begin().await?;
    // A second import of one file (even at the same moment: the insert
    // waits for the first) finds the first one's row.
    let import_id: Option<i32> = sqlx::query_scalar(
        "INSERT INTO imports (site_id, source, row_count, digest) VALUES ($1, $2, $3, $4)
         ON CONFLICT (site_id, digest) DO NOTHING RETURNING id",
    )
    .bind(site.0)
    .bind(source)
    .bind(rows.len() as i32)
    .bind(&digest)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(import_id) = import_id else {
        let at = sqlx::query_scalar(
            "SELECT imported_at FROM imports WHERE site_id = $1 AND digest = $2",
        )
        .bind(site.0)
        .bind(&digest)
        .fetch_one(&mut *tx)
        .await?;
        return Ok(ImportOutcome::AlreadyImported(at));
    };
    let days: Vec<DateTime<Utc>> = rows.iter().map(|r| r.time).collect();
    let counted: Option<DateTime<Utc>> = sqlx::query_scalar(
        "SELECT min(bucket) FROM visit_rollups
         WHERE site_id = $1 AND granularity = 'day' AND bucket = ANY($2)",
    )
    .bind(site.0)
    .bind(&days)
    .fetch_one(&mut *tx)
    .await?;
    if let Some(day) = counted {
        // Dropping the transaction takes the import's row back.
        return Ok(ImportOutcome::CountedHere(day));
    }
    let column = |f: fn(&CountRow) -> String| rows.iter().map(f).collect::<Vec<_>>();
    sqlx::query(
        "INSERT INTO imported_counts AS c (site_id, day, dimension, value, unique_visitors, visits, import_id)
         SELECT $1, * , $7 FROM unnest($2::timestamptz[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
         ON CONFLICT (site_id, day, dimension, value) DO UPDATE SET
             unique_visitors = excluded.unique_visitors, visits = excluded.visits,
             import_id = excluded.import_id",
    )
    .bind(site.0)
    .bind(&days)
    .bind(column(|r| r.dimension.clone()))
    .bind(column(|r| r.value.clone()))
    .bind(rows.iter().map(|r| r.unique_visitors).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.visits).collect::<Vec<_>>())
    .bind(import_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ImportOutcome::Imported { rows: rows.len() })
}

/// The site's imports, oldest first.
pub async fn history(pool: &PgPool, site: SiteId) -> Result<Vec<ImportRecord>, sqlx::Error> {
    sqlx::query_as(
        "SELECT source, imported_at, row_count FROM imports WHERE site_id = $1 ORDER BY id",
    )
    .bind(site.0)
    .fetch_all(pool)
    .await
}
