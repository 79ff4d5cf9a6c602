//! The SQL of who may manage which site (`site_members`).

use sqlx::PgPool;

use crate::{
    accounts::model::UserId,
    counting::site_id::SiteId,
    sites::{
        model::{NewSite, Site, Visibility},
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

/// A site in the list of someone's sites.
pub struct ListedSite {
    pub domain: String,
    pub visibility: Visibility,
    pub active: bool,
    /// `None`: an admin's view of a site they are no member of.
    pub role: Option<SiteRole>,
}

/// The sites `user` is a member of; every site for an admin.
pub async fn sites_of(
    pool: &PgPool,
    user: UserId,
    admin: bool,
) -> Result<Vec<ListedSite>, sqlx::Error> {
    sqlx::query_as!(
        ListedSite,
        r#"SELECT s.domain AS "domain!", s.visibility AS "visibility: Visibility", s.active,
                  m.role AS "role?: SiteRole"
           FROM sites s LEFT JOIN site_members m ON m.site_id = s.id AND m.user_id = $1
           WHERE s.domain IS NOT NULL AND (m.user_id IS NOT NULL OR $2)
           ORDER BY s.active DESC, s.domain"#,
        user.0,
        admin,
    )
    .fetch_all(pool)
    .await
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
