//! Password hashing: Argon2id with OWASP's parameters (19 MiB, 2 passes, one
//! lane: the `argon2` crate's defaults), off the async threads, and never
//! more at once than the machine has cores, since each hash is the costliest
//! thing a request can ask for.

use std::{sync::Arc, time::Duration};

use argon2::{
    password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString},
    Argon2,
};
use rocket::tokio::{sync::Semaphore, task, time::timeout};

use super::model::Password;

/// How long a sign-in waits for a free hashing slot before it is answered
/// 503: a burst beyond the machine's cores waits, a flood is turned away.
const QUEUE_DEADLINE: Duration = Duration::from_secs(5);

/// The hashing slots of one replica.
#[derive(Clone)]
pub struct PasswordHasher {
    slots: Arc<Semaphore>,
    /// A hash of no one's password: an unknown email is checked against it,
    /// so that it costs what a wrong password costs.
    decoy: Arc<str>,
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("too many sign-ins at once")]
    Busy,
    #[error("hashing failed: {0}")]
    Failed(String),
}

impl PasswordHasher {
    /// Hashes the decoy: call it once, off the request path.
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let decoy = hash_now("a password nobody has").expect("hashing a fixed text works");
        Self {
            slots: Arc::new(Semaphore::new(cores)),
            decoy: decoy.into(),
        }
    }

    /// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) to store.
    pub async fn hash(&self, password: &Password) -> Result<String, HashError> {
        let password = password.expose().to_owned();
        self.run(move || hash_now(&password)).await
    }

    /// Whether `password` matches `stored`; `None` checks it against the
    /// decoy, which it never matches, at the same cost.
    pub async fn verify(
        &self,
        password: &Password,
        stored: Option<&str>,
    ) -> Result<bool, HashError> {
        let (password, stored, real) = (
            password.expose().to_owned(),
            stored.map_or_else(|| self.decoy.to_string(), str::to_owned),
            stored.is_some(),
        );
        let matched = self
            .run(move || {
                let parsed = PasswordHash::new(&stored)
                    .map_err(|error| HashError::Failed(error.to_string()))?;
                Ok(Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok())
            })
            .await?;
        Ok(matched && real)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let _slot = timeout(QUEUE_DEADLINE, Arc::clone(&self.slots).acquire_owned())
            .await
            .map_err(|_| HashError::Busy)?
            .map_err(|_| HashError::Busy)?;
        task::spawn_blocking(work)
            .await
            .map_err(|error| HashError::Failed(error.to_string()))?
    }
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new()
    }
}

fn hash_now(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| HashError::Failed(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rocket::async_test]
    async fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let hasher = PasswordHasher::new();
        let password = Password::new("correct horse battery".into());
        let stored = hasher.hash(&password).await.unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(hasher.verify(&password, Some(&stored)).await.unwrap());
        let wrong = Password::new("correct horse battery!".into());
        assert!(!hasher.verify(&wrong, Some(&stored)).await.unwrap());
        // The decoy never matches, not even its own text.
        let decoy_text = Password::new("a password nobody has".into());
        assert!(!hasher.verify(&decoy_text, None).await.unwrap());
    }
}
