//! The SQL of sites: reading, adding, sharing and removing them. Counting a
//! site's visits is the write path's (`counting::store`).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::{PgExecutor, PgPool};

use crate::{
    counting::site_id::SiteId,
    sites::{
        domain::Domain,
        model::{stored_time_zone, NewSite, ShareToken, Site, Visibility},
    },
};

/// A `sites` row as stored; `Site` once its names are parsed again.
struct SiteRow {
    id: i32,
    domain: Option<String>,
    hosts: Vec<String>,
    visibility: Visibility,
    share_token: Vec<u8>,
    signed: bool,
    badge: bool,
    origin_required: bool,
    active: bool,
    created_at: DateTime<Utc>,
    time_zone: String,
}

impl From<SiteRow> for Site {
    fn from(row: SiteRow) -> Self {
        // Stored names were validated on the way in; one that no longer
        // parses (a stricter rule in a later release) is left out, not fatal.
        let parse = |name: String| Domain::parse(&name).ok();
        Site {
            id: SiteId(row.id),
            domain: row.domain.and_then(parse),
            hosts: row.hosts.into_iter().filter_map(parse).collect(),
            visibility: row.visibility,
            share_token: ShareToken::from_stored(row.share_token),
            signed: row.signed,
            badge: row.badge,
            origin_required: row.origin_required,
            time_zone: stored_time_zone(&row.time_zone),
            active: row.active,
            created_at: row.created_at,
        }
    }
}

/// Why a site could not be added.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    #[error("the site {0} exists already")]
    Exists(Domain),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<AddError> for crate::infra::error::AppError {
    fn from(error: AddError) -> Self {
        match error {
            AddError::Exists(_) => Self::Conflict(error.to_string()),
            AddError::Database(error) => error.into(),
        }
    }
}

pub async fn find(pool: &PgPool, domain: &Domain) -> Result<Option<Site>, sqlx::Error> {
    let row = sqlx::query_as!(
        SiteRow,
        r#"SELECT id, domain, hosts, visibility AS "visibility: Visibility", share_token,
                  signed, badge, origin_required, active, created_at, time_zone
           FROM sites WHERE domain = $1"#,
        domain.as_str(),
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(Site::from))
}

/// Every site with a domain, removed ones included, by domain.
pub async fn list(pool: &PgPool) -> Result<Vec<Site>, sqlx::Error> {
    let rows = sqlx::query_as!(
        SiteRow,
        r#"SELECT id, domain, hosts, visibility AS "visibility: Visibility", share_token,
                  signed, badge, origin_required, active, created_at, time_zone
           FROM sites WHERE domain IS NOT NULL ORDER BY domain"#,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Site::from).collect())
}

/// Adds the site, or brings a removed one back (with its counts and link)
/// under the new settings.
pub async fn add(db: impl PgExecutor<'_>, site: &NewSite) -> Result<Site, AddError> {
    let hosts: Vec<&str> = site.hosts.iter().map(Domain::as_str).collect();
    let token = ShareToken::generate();
    let row = sqlx::query_as!(
        SiteRow,
        r#"INSERT INTO sites AS s (domain, hosts, visibility, share_token, signed, badge, origin_required)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (domain) DO UPDATE SET
               hosts = excluded.hosts, visibility = excluded.visibility,
               signed = excluded.signed, badge = excluded.badge,
               origin_required = excluded.origin_required, active = true
           WHERE NOT s.active
           RETURNING id, domain, hosts, visibility AS "visibility: Visibility", share_token,
                     signed, badge, origin_required, active, created_at, time_zone"#,
        site.domain.as_str(),
        &hosts[..] as &[&str],
        site.visibility as Visibility,
        token.as_bytes(),
        site.signed,
        site.badge,
        site.origin_required,
    )
    .fetch_optional(db)
    .await?;
    row.map(Site::from)
        .ok_or_else(|| AddError::Exists(site.domain.clone()))
}

/// Changes the site's hosts and flags (its domain stays); the site as it
/// is now, or `None` if there is no such site.
pub async fn update(pool: &PgPool, site: &NewSite) -> Result<Option<Site>, sqlx::Error> {
    let hosts: Vec<&str> = site.hosts.iter().map(Domain::as_str).collect();
    let row = sqlx::query_as!(
        SiteRow,
        r#"UPDATE sites SET hosts = $2, visibility = $3, signed = $4, badge = $5, origin_required = $6
           WHERE domain = $1
           RETURNING id, domain, hosts, visibility AS "visibility: Visibility", share_token,
                     signed, badge, origin_required, active, created_at, time_zone"#,
        site.domain.as_str(),
        &hosts[..] as &[&str],
        site.visibility as Visibility,
        site.signed,
        site.badge,
        site.origin_required,
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(Site::from))
}

/// Sets the time zone the site's dashboard counts its days in.
pub async fn set_time_zone(pool: &PgPool, site: SiteId, zone: Tz) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE sites SET time_zone = $2 WHERE id = $1",
        site.0,
        zone.name(),
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Gives the site a new share token, which revokes every earlier link.
pub async fn rotate_token(pool: &PgPool, domain: &Domain) -> Result<Option<Site>, sqlx::Error> {
    let token = ShareToken::generate();
    let row = sqlx::query_as!(
        SiteRow,
        r#"UPDATE sites SET share_token = $2 WHERE domain = $1
           RETURNING id, domain, hosts, visibility AS "visibility: Visibility", share_token,
                     signed, badge, origin_required, active, created_at, time_zone"#,
        domain.as_str(),
        token.as_bytes(),
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(Site::from))
}

/// Stops counting the site; with `purge`, deletes it and every count it
/// has, in one transaction. Whether there was such a site.
pub async fn remove(pool: &PgPool, domain: &Domain, purge: bool) -> Result<bool, sqlx::Error> {
    if !purge {
        let updated = sqlx::query!(
            "UPDATE sites SET active = false WHERE domain = $1",
            domain.as_str()
        )
        .execute(pool)
        .await?;
        return Ok(updated.rows_affected() > 0);
    }
    let mut tx = pool.begin().await?;
    let Some(id) = sqlx::query_scalar!(
        "DELETE FROM sites WHERE domain = $1 RETURNING id",
        domain.as_str()
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(false);
    };
    // The counters have no foreign key to sites (see the migration `sites`).
    sqlx::query!("DELETE FROM visit_events WHERE site_id = $1", id)
        .execute(&mut *tx)
        .await?;
    sqlx::query!("DELETE FROM visitors WHERE site_id = $1", id)
        .execute(&mut *tx)
        .await?;
    sqlx::query!("DELETE FROM visitor_values WHERE site_id = $1", id)
        .execute(&mut *tx)
        .await?;
    sqlx::query!("DELETE FROM visit_rollups WHERE site_id = $1", id)
        .execute(&mut *tx)
        .await?;
    sqlx::query!("DELETE FROM visitor_breakdowns WHERE site_id = $1", id)
        .execute(&mut *tx)
        .await?;
    sqlx::query!("DELETE FROM visit_totals WHERE site_id = $1", id)
        .execute(&mut *tx)
        .await?;
    sqlx::query!("DELETE FROM imported_counts WHERE site_id = $1", id)
        .execute(&mut *tx)
        .await?;
    sqlx::query!("DELETE FROM imports WHERE site_id = $1", id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// A public site and its unique visitors over the last 30 days.
pub struct ListedSite {
    pub domain: String,
    pub unique_visitors: i64,
}

/// The public, active sites with their unique visitors over the 30 day
/// buckets from `from` on, most visited first.
pub async fn public_sites(
    pool: &PgPool,
    from: DateTime<Utc>,
) -> Result<Vec<ListedSite>, sqlx::Error> {
    sqlx::query_as!(
        ListedSite,
        r#"SELECT s.domain AS "domain!",
                  coalesce(sum(r.arrivals - r.departures), 0)::bigint AS "unique_visitors!"
           FROM sites s
           LEFT JOIN visit_rollups r
             ON r.site_id = s.id AND r.granularity = 'day' AND r.bucket >= $1
           WHERE s.domain IS NOT NULL AND s.active AND s.visibility = 'public'
           GROUP BY s.domain
           ORDER BY 2 DESC, 1"#,
        from,
    )
    .fetch_all(pool)
    .await
}
