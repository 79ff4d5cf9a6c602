//! A person's API keys: `vk_` and 32 random bytes in hex, shown once when
//! made, kept as their SHA-256 digest with a name and the time of their
//! last use. A key acts as its owner would on `/api/sites*`: on the
//! owner's sites, with the owner's role. Looked up on every request, so a
//! revoked key is refused at once on every replica.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use super::model::{User, UserId, UserRow};

const PREFIX: &str = "vk_";
const MAX_NAME_CHARS: usize = 60;

/// A key as its owner is given it, once.
pub struct ApiKey(String);

impl ApiKey {
    pub fn generate() -> Self {
        Self(format!(
            "{PREFIX}{}",
            hex::encode(rand::random::<[u8; 32]>())
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digest of a key presented in a request, if it looks like one.
    pub fn digest_of(presented: &str) -> Option<[u8; 32]> {
        presented
            .starts_with(PREFIX)
            .then(|| Sha256::digest(presented.as_bytes()).into())
    }
}

/// A key's name, as its owner tells keys apart.
pub fn key_name(text: &str) -> Result<String, &'static str> {
    let name = text.trim();
    if name.is_empty() {
        return Err("Name the key (what uses it), e.g. \"deploy script\".");
    }
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err("A key's name is at most 60 characters on one line.");
    }
    Ok(name.to_owned())
}

/// A key as its owner's account page lists it.
pub struct ListedKey {
    pub id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

pub async fn create(
    pool: &PgPool,
    user: UserId,
    name: &str,
    key: &ApiKey,
) -> Result<(), sqlx::Error> {
    let digest = ApiKey::digest_of(key.as_str()).expect("a generated key has the prefix");
    sqlx::query!(
        "INSERT INTO api_keys (user_id, name, key_digest) VALUES ($1, $2, $3)",
        user.0,
        name,
        &digest[..],
    )
    .execute(pool)
    .await
    .map(drop)
}

pub async fn keys_of(pool: &PgPool, user: UserId) -> Result<Vec<ListedKey>, sqlx::Error> {
    sqlx::query_as!(
        ListedKey,
        "SELECT id, name, created_at, last_used_at FROM api_keys WHERE user_id = $1 ORDER BY created_at, id",
        user.0,
    )
    .fetch_all(pool)
    .await
}

/// Whether the key was the user's and is now gone.
pub async fn revoke(pool: &PgPool, user: UserId, id: i64) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query!(
        "DELETE FROM api_keys WHERE id = $1 AND user_id = $2",
        id,
        user.0
    )
    .execute(pool)
    .await?;
    Ok(deleted.rows_affected() > 0)
}

/// The owner of the key with this digest, noting its use (at most once a
/// minute, to spare writes).
pub async fn user_of(pool: &PgPool, digest: &[u8]) -> Result<Option<User>, sqlx::Error> {
    let row = sqlx::query_as!(
        UserRow,
        r#"WITH found AS (
               SELECT k.id AS key_id, k.last_used_at, u.id, u.email, u.is_admin
               FROM api_keys k JOIN users u ON u.id = k.user_id
               WHERE k.key_digest = $1
           ), touched AS (
               UPDATE api_keys k SET last_used_at = now()
               FROM found
               WHERE k.id = found.key_id
                 AND (found.last_used_at IS NULL OR found.last_used_at < now() - interval '1 minute')
           )
           SELECT id AS "id: UserId", email, is_admin FROM found"#,
        digest,
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(User::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_a_prefix_and_only_such_keys_are_looked_up() {
        let key = ApiKey::generate();
        assert!(
            key.as_str().starts_with("vk_") && key.as_str().len() == 67,
            "{}",
            key.as_str()
        );
        assert!(ApiKey::digest_of(key.as_str()).is_some());
        assert!(ApiKey::digest_of("an admin token of some length").is_none());
    }

    #[test]
    fn key_names_are_one_short_line() {
        assert_eq!(key_name("  deploy script "), Ok("deploy script".into()));
        assert!(key_name(" ").is_err());
        assert!(key_name(&"x".repeat(61)).is_err());
        assert!(key_name("two\nlines").is_err());
    }
}
