//! Who a visitor is, without knowing their address: a keyed hash of the
//! site, the client IP and the User-Agent. Only the hash ever leaves this
//! module.

use std::{
    io::Write,
    net::IpAddr,
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
    sync::{Arc, OnceLock},
};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::PgPool;

use rand::RngCore;

use crate::{
    counting::site_id::SiteId,
    infra::config::{Secret, SecretSource},
};

const SECRET_SETTING: &str = "visitor_secret";

/// HMAC-SHA-256 of (site, client IP, User-Agent); what the database stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VisitorKey([u8; 32]);

impl VisitorKey {
    /// A key computed elsewhere, e.g. by a fixture or an import.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Derives visitor keys with the secret shared by every replica.
pub struct VisitorHasher {
    mac: Hmac<Sha256>,
}

impl VisitorHasher {
    pub fn new(secret: &Secret) -> Self {
        let mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
            .expect("HMAC accepts keys of any length");
        Self { mac }
    }

    /// A key for another purpose (`purpose` names it), derived from the
    /// same shared secret, so that replicas need no second secret.
    pub fn derived_key(&self, purpose: &str) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(b"derived key\xff");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// `ip` is `None` only when the server does not know the peer at all.
    /// The same person on two sites gets two unrelated keys. The instance's
    /// own site keeps the key of the releases before sites (no site part),
    /// so that its visitors are still recognised after the upgrade.
    pub fn key(&self, site: SiteId, ip: Option<IpAddr>, user_agent: &str) -> VisitorKey {
        let mut mac = self.mac.clone();
        if site != SiteId::INSTANCE {
            mac.update(b"site");
            mac.update(&site.0.to_be_bytes());
        }
        // Fixed-width address encoding plus a separator keeps (ip, agent)
        // pairs from colliding through concatenation.
        match ip {
            Some(IpAddr::V4(v4)) => mac.update(&v4.to_ipv6_mapped().octets()),
            Some(IpAddr::V6(v6)) => mac.update(&v6.octets()),
            None => mac.update(&[0; 16]),
        }
        mac.update(&[0xff]);
        mac.update(user_agent.as_bytes());
        VisitorKey(mac.finalize().into_bytes().into())
    }
}

/// Why the secret could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the visitor secret file {0}: {1}")]
    File(PathBuf, std::io::Error),
    #[error("the visitor secret file {0} does not hold 64 hexadecimal digits (32 bytes)")]
    Malformed(PathBuf),
    #[error("moving the visitor secret out of the database: {0}")]
    Database(#[from] sqlx::Error),
}

/// The hasher every replica shares, once the secret is known: at ignition,
/// or (a replica started before `visitors migrate`, while the database
/// still holds an earlier release's secret to move out) by readiness and a
/// background task, until which visits answer 503. Requests never wait for
/// it. Clones share one secret.
#[derive(Clone)]
pub struct VisitorIdentities {
    source: SecretSource,
    hasher: Arc<OnceLock<VisitorHasher>>,
    /// Set once an earlier release's stored secret is known to be gone.
    stored_forgotten: Arc<tokio::sync::OnceCell<()>>,
    /// Set when that secret is still the one in use: the file could not be
    /// written.
    kept_in_database: Arc<OnceLock<()>>,
}

impl VisitorIdentities {
    pub fn new(source: SecretSource) -> Self {
        let hasher = OnceLock::new();
        if let SecretSource::Given(secret) = &source {
            let _ = hasher.set(VisitorHasher::new(secret));
        }
        Self {
            source,
            hasher: Arc::new(hasher),
            stored_forgotten: Arc::default(),
            kept_in_database: Arc::default(),
        }
    }

    /// The hasher, once the secret is known.
    pub fn hasher(&self) -> Option<&VisitorHasher> {
        self.hasher.get()
    }

    /// Whether the secret in use is the one an earlier release kept in the
    /// database, since no file could be written for it.
    pub fn kept_in_database(&self) -> bool {
        self.kept_in_database.get().is_some()
    }

    /// Loads the shared secret unless it is known already. An earlier
    /// release kept a generated secret in the database (`app_settings`):
    /// it moves into the file, so that visitors stay recognised, and out of
    /// the database (and its backups), unless no file can be written; a
    /// secret given as `VISITOR_SECRET` replaces it.
    pub async fn load(&self, pool: &PgPool) -> Result<&VisitorHasher, SecretError> {
        let (hasher, kept_in_database) = match (self.hasher.get(), &self.source) {
            (Some(hasher), _) => (hasher, self.kept_in_database.get().is_some()),
            (None, SecretSource::Given(secret)) => (
                self.hasher.get_or_init(|| VisitorHasher::new(secret)),
                false,
            ),
            (None, SecretSource::File(path)) => {
                let (secret, kept) = match read_secret_file(path)? {
                    Some(secret) => (secret, false),
                    None => file_or_stored_secret(path, stored_secret(pool).await?)?,
                };
                if kept {
                    let _ = self.kept_in_database.set(());
                }
                (
                    self.hasher.get_or_init(|| VisitorHasher::new(&secret)),
                    kept,
                )
            }
        };
        // Once the key is in use elsewhere, none is left in the database.
        if !kept_in_database {
            self.stored_forgotten
                .get_or_try_init(|| forget_stored_secret(pool))
                .await?;
        }
        Ok(hasher)
    }
}

/// The secret in `path`, or `None` when there is no such file.
fn read_secret_file(path: &Path) -> Result<Option<Secret>, SecretError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let mut bytes = vec![0; SECRET_BYTES];
            hex::decode_to_slice(text.trim(), &mut bytes)
                .map_err(|_| SecretError::Malformed(path.to_owned()))?;
            Ok(Some(Secret::new(bytes)))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(SecretError::File(path.to_owned(), error)),
    }
}

/// The secret of a new file at `path`, or, where no file can be written (a
/// stack whose compose file predates `VISITOR_SECRET_FILE`'s volume), the
/// one an earlier release kept in the database, which then stays there
/// (true): visitors stay recognised, with a warning to give it a volume.
fn file_or_stored_secret(
    path: &Path,
    stored: Option<Vec<u8>>,
) -> Result<(Secret, bool), SecretError> {
    match (create_secret_file(path, stored.clone()), stored) {
        (Ok(secret), _) => Ok((secret, false)),
        (Err(error @ SecretError::File(..)), Some(stored)) => {
            tracing::warn!(
                "{error}: the visitor secret stays in the database, where an earlier release \
                 kept it; give VISITOR_SECRET_FILE a writable volume (docs/operations.md, \
                 \"Rotating secrets\")"
            );
            Ok((Secret::new(stored), true))
        }
        (Err(error), _) => Err(error),
    }
}

/// Writes `secret` (a new random one when `None`) to `path` unless a file
/// is there already, and returns the one the file holds: replicas starting
/// together each write a file of their own and link it into place, and the
/// first link wins.
fn create_secret_file(path: &Path, secret: Option<Vec<u8>>) -> Result<Secret, SecretError> {
    let failed = |error| SecretError::File(path.to_owned(), error);
    let secret = secret.unwrap_or_else(|| {
        let mut bytes = vec![0u8; SECRET_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        bytes
    });
    if let Some(directory) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(directory).map_err(failed)?;
    }
    let mut draft = path.as_os_str().to_owned();
    // Random, not the process id: replicas in containers are all process 1.
    draft.push(format!(".{:016x}.new", rand::random::<u64>()));
    let draft = PathBuf::from(draft);
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&draft)?;
        file.write_all(format!("{}\n", hex::encode(&secret)).as_bytes())?;
        file.sync_all()?;
        match std::fs::hard_link(&draft, path) {
            Err(error) if error.kind() != std::io::ErrorKind::AlreadyExists => Err(error),
            _ => Ok(()),
        }
    })();
    let _ = std::fs::remove_file(&draft);
    written.map_err(failed)?;
    read_secret_file(path)?.ok_or_else(|| failed(std::io::ErrorKind::NotFound.into()))
}

const SECRET_BYTES: usize = 32;

/// The secret an earlier release generated and kept in the database.
async fn stored_secret(pool: &PgPool) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar("SELECT value FROM app_settings WHERE name = $1")
        .bind(SECRET_SETTING)
        .fetch_optional(pool)
        .await
}

async fn forget_stored_secret(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM app_settings WHERE name = $1")
        .bind(SECRET_SETTING)
        .execute(pool)
        .await
        .map(drop)
}

/// A command that needs the key says why it could not have it.
impl From<SecretError> for crate::infra::command::CommandError {
    fn from(error: SecretError) -> Self {
        Self::Failed(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher(secret: &str) -> VisitorHasher {
        VisitorHasher::new(&Secret::new(secret.as_bytes().to_vec()))
    }

    #[test]
    fn the_same_visitor_gets_the_same_key() {
        let h = hasher("a secret of some length");
        let ip = "203.0.113.9".parse().ok();
        assert_eq!(
            h.key(SiteId(3), ip, "Firefox"),
            h.key(SiteId(3), ip, "Firefox")
        );
    }

    #[test]
    fn address_agent_and_secret_all_matter() {
        let a = hasher("a secret of some length");
        let b = hasher("another secret entirely");
        let ip = "203.0.113.9".parse().ok();
        let other_ip = "203.0.113.10".parse().ok();
        let site = SiteId::INSTANCE;
        let key = a.key(site, ip, "Firefox");
        assert_ne!(key, a.key(site, other_ip, "Firefox"));
        assert_ne!(key, a.key(site, ip, "Chrome"));
        assert_ne!(key, b.key(site, ip, "Firefox"));
        assert_ne!(key, a.key(SiteId(1), ip, "Firefox"));
        assert_ne!(
            a.key(SiteId(1), ip, "Firefox"),
            a.key(SiteId(2), ip, "Firefox")
        );
    }

    fn scratch_path() -> PathBuf {
        std::env::temp_dir()
            .join(format!("visitors-secret-test-{}", rand::random::<u64>()))
            .join("visitor-secret")
    }

    /// Replicas starting together each write a secret file of their own:
    /// one wins, and all use its key.
    #[test]
    fn replicas_starting_together_agree_on_one_secret() {
        let path = scratch_path();
        let keys: Vec<Vec<u8>> = std::thread::scope(|scope| {
            let starts: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| create_secret_file(&path, None).unwrap()))
                .collect();
            starts
                .into_iter()
                .map(|start| start.join().unwrap().as_bytes().to_vec())
                .collect()
        });
        assert!(keys
            .iter()
            .all(|key| key == &keys[0] && key.len() == SECRET_BYTES));
        let read = read_secret_file(&path).unwrap().unwrap();
        assert_eq!(read.as_bytes(), &keys[0][..]);
        // A later start keeps it: an earlier release's key no longer applies.
        let again = create_secret_file(&path, Some(vec![1; SECRET_BYTES])).unwrap();
        assert_eq!(again.as_bytes(), &keys[0][..]);
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    /// Where the file cannot be written, an earlier release's key serves,
    /// and stays in the database; without one, that is an error.
    #[test]
    fn without_room_for_the_file_the_stored_secret_serves() {
        let path = PathBuf::from("/proc/visitors-cannot-write-here/visitor-secret");
        let stored = vec![9; SECRET_BYTES];
        let (secret, kept) = file_or_stored_secret(&path, Some(stored.clone())).unwrap();
        assert_eq!((secret.as_bytes(), kept), (&stored[..], true));
        assert!(matches!(
            file_or_stored_secret(&path, None),
            Err(SecretError::File(..))
        ));
    }

    #[test]
    fn a_damaged_secret_file_is_refused_not_replaced() {
        let path = scratch_path();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "not a key\n").unwrap();
        assert!(matches!(
            read_secret_file(&path),
            Err(SecretError::Malformed(_))
        ));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a key\n");
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn the_key_does_not_contain_the_address() {
        let h = hasher("a secret of some length");
        let key = h.key(SiteId(1), "203.0.113.9".parse().ok(), "");
        assert!(!key.as_bytes().windows(4).any(|w| w == [203, 0, 113, 9]));
    }
}
