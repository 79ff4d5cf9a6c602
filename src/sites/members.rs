//! Who may do what with a site besides the public and its link's holders:
//! its members (`site_members`), owners and viewers. The instance's admins
//! may do everything with every site without being members.

use sqlx::PgPool;

use crate::{accounts::model::UserId, counting::site_id::SiteId};

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
