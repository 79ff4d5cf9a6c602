//! Anti-forgery tokens of the accounts' forms (double-submit): a random
//! token in a `SameSite=Strict` cookie, repeated in a hidden field of every
//! form; a POST whose field does not equal the cookie changes nothing. A
//! browser that says the POST came from another site is refused outright.

use rocket::{
    http::CookieJar,
    request::{FromRequest, Outcome},
    Request,
};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::cookies::{CookieKind, CookiePolicy};
use crate::infra::error::AppError;

/// The token of this browser's forms: the one its cookie holds, or a new
/// one set in the answer.
pub struct FormToken {
    value: String,
    cross_site: bool,
}

impl FormToken {
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// Whether a form sent `presented` in its hidden field legitimately.
    pub fn check(&self, presented: &str) -> Result<(), AppError> {
        // Constant time over digests of equal length.
        let digest = |text: &str| Sha256::digest(text.as_bytes());
        let matches = bool::from(digest(presented).ct_eq(&digest(&self.value)));
        if self.cross_site || !matches {
            return Err(AppError::Forbidden(
                "This form has expired or was sent from another site: nothing was changed. \
                 Reload the page and try again.",
            ));
        }
        Ok(())
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for FormToken {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let policy = *request
            .rocket()
            .state::<CookiePolicy>()
            .expect("the accounts stage manages the cookie policy");
        let jar: &CookieJar<'_> = request.cookies();
        let value = match policy.read(jar, CookieKind::FormToken) {
            Some(value) if value.len() == 64 => value,
            _ => {
                let value = hex::encode(rand::random::<[u8; 32]>());
                policy.set(jar, CookieKind::FormToken, value.clone());
                value
            }
        };
        let cross_site = request
            .headers()
            .get_one("Sec-Fetch-Site")
            .is_some_and(|site| site == "cross-site");
        Outcome::Success(Self { value, cross_site })
    }
}
