//! The SQL of a person's sites as their page lists them, and of the
//! invitations that make someone else a member.

use sqlx::PgPool;

use crate::{
    accounts::model::UserId,
    counting::site_id::SiteId,
    sites::{members::SiteRole, model::Visibility},
};

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

/// How long an invitation link can be used.
pub const INVITATION_DAYS: f64 = 7.0;

/// An unused invitation, as its page describes it.
pub struct Invitation {
    pub domain: String,
    pub role: SiteRole,
}

pub async fn invite(
    pool: &PgPool,
    digest: &[u8],
    site: SiteId,
    role: SiteRole,
    by: UserId,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO invitations (token_digest, site_id, role, invited_by, expires_at)
         VALUES ($1, $2, $3, $4, now() + $5 * interval '1 day')",
        digest,
        site.0,
        role as SiteRole,
        by.0,
        INVITATION_DAYS,
    )
    .execute(pool)
    .await
    .map(drop)
}

/// The invitation of this digest, if it is unused and unexpired.
pub async fn invitation(pool: &PgPool, digest: &[u8]) -> Result<Option<Invitation>, sqlx::Error> {
    sqlx::query_as!(
        Invitation,
        r#"SELECT s.domain AS "domain!", i.role AS "role: SiteRole"
           FROM invitations i JOIN sites s ON s.id = i.site_id
           WHERE i.token_digest = $1 AND i.accepted_at IS NULL AND i.expires_at > now()
             AND s.domain IS NOT NULL"#,
        digest,
    )
    .fetch_optional(pool)
    .await
}

/// Spends the invitation on `user`, who becomes a member with its role (an
/// owner stays one); `None` if it was used, expired or never made.
pub async fn accept(
    pool: &PgPool,
    digest: &[u8],
    user: UserId,
) -> Result<Option<Invitation>, sqlx::Error> {
    sqlx::query_as!(
        Invitation,
        r#"WITH spent AS (
               UPDATE invitations SET accepted_at = now(), accepted_by = $2
               WHERE token_digest = $1 AND accepted_at IS NULL AND expires_at > now()
               RETURNING site_id, role
           ), joined AS (
               INSERT INTO site_members AS m (site_id, user_id, role)
               SELECT site_id, $2, role FROM spent
               ON CONFLICT (site_id, user_id) DO UPDATE SET
                   role = CASE WHEN m.role = 'owner' THEN m.role ELSE excluded.role END
           )
           SELECT s.domain AS "domain!", spent.role AS "role: SiteRole"
           FROM spent JOIN sites s ON s.id = spent.site_id"#,
        digest,
        user.0,
    )
    .fetch_optional(pool)
    .await
}
