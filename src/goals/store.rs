//! The SQL of a site's goals.

use sqlx::PgPool;

use crate::counting::{goal::Goal, site_id::SiteId};

pub use crate::stats::store::goals as list;

/// Adds the goal; false when the site has it already.
pub async fn add(pool: &PgPool, site: SiteId, goal: &Goal) -> Result<bool, sqlx::Error> {
    let added = sqlx::query!(
        "INSERT INTO goals (site_id, kind, pattern) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        site.0,
        goal.kind as _,
        goal.pattern,
    )
    .execute(pool)
    .await?;
    Ok(added.rows_affected() == 1)
}

/// Removes the goal; false when the site has no such goal.
pub async fn remove(pool: &PgPool, site: SiteId, goal: &Goal) -> Result<bool, sqlx::Error> {
    let removed = sqlx::query!(
        "DELETE FROM goals WHERE site_id = $1 AND kind = $2 AND pattern = $3",
        site.0,
        goal.kind as _,
        goal.pattern,
    )
    .execute(pool)
    .await?;
    Ok(removed.rows_affected() == 1)
}
