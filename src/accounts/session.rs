//! Signed-in sessions: a random token in a cookie, its SHA-256 digest in a
//! `sessions` row. A session ends after `SESSION_IDLE` without use, after
//! `SESSION_LIFETIME` whatever its use, at sign-out, and with every other
//! session of its account when the password changes.

use std::time::Duration;

use rocket::{
    http::{CookieJar, Status},
    request::{FromRequest, Outcome},
    Request,
};
use sha2::{Digest, Sha256};

use super::{
    cookies::{CookieKind, CookiePolicy},
    model::User,
    store,
};
use crate::infra::{
    database::{within_deadline, Db},
    error::AppError,
};

pub const SESSION_IDLE: Duration = Duration::from_secs(14 * 24 * 3600);
pub const SESSION_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// What the browser holds: 32 random bytes, in hex.
pub struct SessionToken(String);

impl SessionToken {
    pub fn generate() -> Self {
        Self(hex::encode(rand::random::<[u8; 32]>()))
    }

    pub fn digest(&self) -> SessionDigest {
        SessionDigest(Sha256::digest(self.0.as_bytes()).into())
    }

    /// Gives the token to the browser.
    pub fn set(self, policy: CookiePolicy, jar: &CookieJar<'_>) {
        policy.set(jar, CookieKind::Session, self.0);
    }
}

/// What the database holds.
pub struct SessionDigest([u8; 32]);

impl SessionDigest {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// A request from a live session.
pub struct SignedIn {
    pub user: User,
    pub session: SessionDigest,
}

/// Why a request has no session.
#[derive(Debug)]
pub enum NoSession {
    /// No cookie, or one of a session that ended.
    SignedOut,
    /// The sessions could not be read.
    Unavailable(AppError),
}

/// The digest of the session a request's cookie names, read without the
/// database: whether that session is live is the store's to say.
pub fn presented_session(request: &Request<'_>) -> Option<SessionDigest> {
    let policy = *request
        .rocket()
        .state::<CookiePolicy>()
        .expect("the accounts stage manages the cookie policy");
    policy
        .read(request.cookies(), CookieKind::Session)
        .map(|token| SessionToken(token).digest())
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SignedIn {
    type Error = NoSession;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let policy = *request
            .rocket()
            .state::<CookiePolicy>()
            .expect("the accounts stage manages the cookie policy");
        let Some(session) = presented_session(request) else {
            return Outcome::Error((Status::Unauthorized, NoSession::SignedOut));
        };
        let db = match request.guard::<&Db>().await {
            Outcome::Success(db) => db,
            _ => {
                let error = AppError::Unavailable("the database pool is not ready");
                return Outcome::Error((Status::ServiceUnavailable, NoSession::Unavailable(error)));
            }
        };
        match within_deadline(store::session_user(db, &session)).await {
            Ok(Some(user)) => Outcome::Success(Self { user, session }),
            Ok(None) => {
                // An ended session's cookie is of no more use.
                policy.remove(request.cookies(), CookieKind::Session);
                Outcome::Error((Status::Unauthorized, NoSession::SignedOut))
            }
            Err(error) => Outcome::Error((
                Status::ServiceUnavailable,
                NoSession::Unavailable(error.into()),
            )),
        }
    }
}
