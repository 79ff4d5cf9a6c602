//! Who may do what with a site besides the public and its link's holders:
//! its members (`site_members`), owners and viewers. The instance's admins
//! may do everything with every site without being members.

use sqlx::PgPool;

use crate::{
    accounts::model::UserId,
    counting::site_id::SiteId,
    sites::{
        model::{NewSite, Site},
        store::{self as site_store, AddError},
    },
};

/// What a member may do with a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "site_role", rename_all = "lowercase")]
pub enum SiteRole {
    /// Everything: its settings, its links.
    Owner,
    /// Reading its dashboards.
    Viewer,
}

impl SiteRole {
    pub fn label(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Viewer => "viewer",
        }
    }
}

pub async fn role_of(
    pool: &PgPool,
    site: SiteId,
    user: UserId,
) -> Result<Option<SiteRole>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT role AS "role: SiteRole" FROM site_members WHERE site_id = $1 AND user_id = $2"#,
        site.0,
        user.0,
    )
    .fetch_optional(pool)
    .await
}

/// The sites `user` is a member of.
pub async fn site_ids(pool: &PgPool, user: UserId) -> Result<Vec<SiteId>, sqlx::Error> {
    let ids = sqlx::query_scalar!(
        "SELECT site_id FROM site_members WHERE user_id = $1",
        user.0
    )
    .fetch_all(pool)
    .await?;
    Ok(ids.into_iter().map(SiteId).collect())
}

/// Adds the site with `owner` as its owner, both or neither.
pub async fn add_owned(
    pool: &PgPool,
    new: &NewSite,
    owner: UserId,
) -> Result<Result<Site, AddError>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let site = match site_store::add(&mut *tx, new).await {
        Ok(site) => site,
        Err(AddError::Database(error)) => return Err(error),
        Err(refused) => return Ok(Err(refused)),
    };
    sqlx::query!(
        "INSERT INTO site_members (site_id, user_id, role) VALUES ($1, $2, 'owner')
         ON CONFLICT (site_id, user_id) DO UPDATE SET role = 'owner'",
        site.id.0,
        owner.0,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Ok(site))
}
