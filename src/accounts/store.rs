//! The SQL of accounts: users, their sessions, the setup codes and the
//! sign-in throttle. Sessions and codes are stored as SHA-256 digests of
//! what the browser or the log holds, so a copy of the database signs
//! nobody in.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::{
    model::{Email, SessionSummary, User, UserId, UserRow},
    session::{SessionDigest, SESSION_IDLE, SESSION_LIFETIME},
};

/// How long a setup code printed at start stays valid.
const SETUP_CODE_HOURS: f64 = 24.0;
/// The window of the sign-in throttle.
pub const THROTTLE_WINDOW_MINUTES: f64 = 15.0;

/// Why an account was not added.
#[derive(Debug, thiserror::Error)]
pub enum AddUserRefusal {
    #[error("an account with the address {0} exists already")]
    Exists(Email),
    /// The instance has its first account already (a second setup raced).
    #[error("this instance is set up already")]
    SetUpAlready,
}

/// What a sign-in checks a password against.
pub struct Credentials {
    pub id: UserId,
    pub password_hash: String,
}

/// An account as the command line lists it.
pub struct ListedUser {
    pub email: Email,
    pub is_admin: bool,
    pub created_at: DateTime<Utc>,
    pub sessions: i64,
}

fn seconds(duration: std::time::Duration) -> f64 {
    duration.as_secs_f64()
}

pub async fn has_users(pool: &PgPool) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM users) AS "exists!""#)
        .fetch_one(pool)
        .await
}

pub async fn add_setup_code(pool: &PgPool, digest: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "WITH stale AS (
             DELETE FROM setup_codes WHERE created_at < now() - $2 * interval '1 hour'
         )
         INSERT INTO setup_codes (code_digest) VALUES ($1) ON CONFLICT DO NOTHING",
        digest,
        SETUP_CODE_HOURS,
    )
    .execute(pool)
    .await
    .map(drop)
}

/// Whether a code some replica printed at start, still valid, has this digest.
pub async fn setup_code_valid(pool: &PgPool, digest: &[u8]) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM setup_codes
                          WHERE code_digest = $1 AND created_at >= now() - $2 * interval '1 hour')
           AS "valid!""#,
        digest,
        SETUP_CODE_HOURS,
    )
    .fetch_one(pool)
    .await
}

/// Adds an account; the first one of the instance is its admin whatever
/// `is_admin` says. With `only_first`, adds it only if it is the first
/// (the setup page), and then spends every setup code.
pub async fn add_user(
    pool: &PgPool,
    email: &Email,
    password_hash: &str,
    is_admin: bool,
    only_first: bool,
) -> Result<Result<UserId, AddUserRefusal>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    // Two setups, or two first `users add`, one after the other.
    sqlx::query!("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let first = !sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM users) AS "exists!""#)
        .fetch_one(&mut *tx)
        .await?;
    if only_first && !first {
        return Ok(Err(AddUserRefusal::SetUpAlready));
    }
    let added = sqlx::query_scalar!(
        r#"INSERT INTO users (email, password_hash, is_admin) VALUES ($1, $2, $3)
           ON CONFLICT ((lower(email))) DO NOTHING
           RETURNING id AS "id: UserId""#,
        email.as_str(),
        password_hash,
        is_admin || first,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = added else {
        return Ok(Err(AddUserRefusal::Exists(email.clone())));
    };
    sqlx::query!("DELETE FROM setup_codes")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Ok(id))
}

pub async fn credentials(pool: &PgPool, email: &Email) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as!(
        Credentials,
        r#"SELECT id AS "id: UserId", password_hash FROM users WHERE lower(email) = lower($1)"#,
        email.as_str(),
    )
    .fetch_optional(pool)
    .await
}

/// Counts a sign-in attempt for an address (known or not) and returns how
/// many it has had in the current window, this one included. Counted before
/// the password is checked, so a burst of concurrent attempts is counted
/// whole. Windows that ended are deleted on the way.
pub async fn count_attempt(pool: &PgPool, email_digest: &[u8]) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar!(
        r#"WITH ended AS (
               DELETE FROM login_throttle WHERE window_start < now() - $2 * interval '1 minute'
                                            AND email_digest <> $1
           )
           INSERT INTO login_throttle AS t (email_digest, window_start, attempts) VALUES ($1, now(), 1)
           ON CONFLICT (email_digest) DO UPDATE SET
               attempts = CASE WHEN t.window_start < now() - $2 * interval '1 minute' THEN 1
                               ELSE t.attempts + 1 END,
               window_start = CASE WHEN t.window_start < now() - $2 * interval '1 minute' THEN now()
                                   ELSE t.window_start END
           RETURNING attempts"#,
        email_digest,
        THROTTLE_WINDOW_MINUTES,
    )
    .fetch_one(pool)
    .await
}

pub async fn clear_attempts(pool: &PgPool, email_digest: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM login_throttle WHERE email_digest = $1",
        email_digest
    )
    .execute(pool)
    .await
    .map(drop)
}

/// Starts a session; the account's expired ones go on the way.
pub async fn start_session(
    pool: &PgPool,
    digest: &SessionDigest,
    user: UserId,
    client: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "WITH expired AS (
             DELETE FROM sessions
             WHERE user_id = $2 AND (last_seen < now() - $4 * interval '1 second'
                                     OR created_at < now() - $5 * interval '1 second')
         )
         INSERT INTO sessions (session_digest, user_id, client) VALUES ($1, $2, $3)",
        digest.as_bytes(),
        user.0,
        client,
        seconds(SESSION_IDLE),
        seconds(SESSION_LIFETIME),
    )
    .execute(pool)
    .await
    .map(drop)
}

/// The account of a live session (neither idle too long nor too old),
/// noting that it was used (at most once a minute, to spare writes).
pub async fn session_user(
    pool: &PgPool,
    digest: &SessionDigest,
) -> Result<Option<User>, sqlx::Error> {
    let row = sqlx::query_as!(
        UserRow,
        r#"WITH live AS (
               SELECT s.session_digest, s.last_seen, u.id, u.email, u.is_admin
               FROM sessions s JOIN users u ON u.id = s.user_id
               WHERE s.session_digest = $1
                 AND s.last_seen >= now() - $2 * interval '1 second'
                 AND s.created_at >= now() - $3 * interval '1 second'
           ), touched AS (
               UPDATE sessions s SET last_seen = now()
               FROM live
               WHERE s.session_digest = live.session_digest AND live.last_seen < now() - interval '1 minute'
           )
           SELECT id AS "id: UserId", email, is_admin FROM live"#,
        digest.as_bytes(),
        seconds(SESSION_IDLE),
        seconds(SESSION_LIFETIME),
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(User::from))
}

/// The account's live sessions, the latest used first.
pub async fn sessions(
    pool: &PgPool,
    user: UserId,
    current: &SessionDigest,
) -> Result<Vec<SessionSummary>, sqlx::Error> {
    sqlx::query_as!(
        SessionSummary,
        r#"SELECT created_at, last_seen, client, session_digest = $2 AS "current!"
           FROM sessions
           WHERE user_id = $1
             AND last_seen >= now() - $3 * interval '1 second'
             AND created_at >= now() - $4 * interval '1 second'
           ORDER BY last_seen DESC"#,
        user.0,
        current.as_bytes(),
        seconds(SESSION_IDLE),
        seconds(SESSION_LIFETIME),
    )
    .fetch_all(pool)
    .await
}

pub async fn end_session(pool: &PgPool, digest: &SessionDigest) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM sessions WHERE session_digest = $1",
        digest.as_bytes()
    )
    .execute(pool)
    .await
    .map(drop)
}

pub async fn end_all_sessions(pool: &PgPool, user: UserId) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM sessions WHERE user_id = $1", user.0)
        .execute(pool)
        .await
        .map(drop)
}

/// Sets a new password and ends every session of the account; `then` is a
/// new session for the browser that changed it (none from the command line).
pub async fn set_password(
    pool: &PgPool,
    user: UserId,
    password_hash: &str,
    then: Option<(&SessionDigest, &str)>,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "UPDATE users SET password_hash = $2, password_changed_at = now() WHERE id = $1",
        user.0,
        password_hash,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("DELETE FROM sessions WHERE user_id = $1", user.0)
        .execute(&mut *tx)
        .await?;
    if let Some((digest, client)) = then {
        sqlx::query!(
            "INSERT INTO sessions (session_digest, user_id, client) VALUES ($1, $2, $3)",
            digest.as_bytes(),
            user.0,
            client,
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

pub async fn find_user(pool: &PgPool, email: &Email) -> Result<Option<UserId>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id: UserId" FROM users WHERE lower(email) = lower($1)"#,
        email.as_str(),
    )
    .fetch_optional(pool)
    .await
}

/// Deletes an account and, with it, its sessions.
pub async fn remove_user(pool: &PgPool, user: UserId) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM users WHERE id = $1", user.0)
        .execute(pool)
        .await
        .map(drop)
}

struct ListedUserRow {
    email: String,
    is_admin: bool,
    created_at: DateTime<Utc>,
    sessions: i64,
}

pub async fn list_users(pool: &PgPool) -> Result<Vec<ListedUser>, sqlx::Error> {
    let rows = sqlx::query_as!(
        ListedUserRow,
        r#"SELECT u.email, u.is_admin, u.created_at,
                  (SELECT count(*) FROM sessions s WHERE s.user_id = u.id
                     AND s.last_seen >= now() - $1 * interval '1 second'
                     AND s.created_at >= now() - $2 * interval '1 second') AS "sessions!"
           FROM users u ORDER BY lower(u.email)"#,
        seconds(SESSION_IDLE),
        seconds(SESSION_LIFETIME),
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| ListedUser {
            email: Email::from_stored(row.email),
            is_admin: row.is_admin,
            created_at: row.created_at,
            sessions: row.sessions,
        })
        .collect())
}
