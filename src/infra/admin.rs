//! Operator authentication: `Authorization: Bearer <ADMIN_TOKEN>`. Features
//! mount their admin routes only when a token is configured, so without one
//! those routes do not exist (404).

use rocket::{
    fairing::AdHoc,
    http::Status,
    request::{FromRequest, Outcome},
    Request,
};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::infra::config::{Config, Secret};

/// The configured admin token, as managed state.
struct AdminToken(Secret);

/// Manages the token, when one is configured.
pub fn stage(config: &Config) -> AdHoc {
    let token = config.admin_token.clone();
    AdHoc::on_ignite("Admin token", |rocket| async {
        match token {
            Some(token) => rocket.manage(AdminToken(token)),
            None => rocket,
        }
    })
}

/// Proof that the request carried the admin token.
pub struct Admin;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Admin {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let Some(AdminToken(expected)) = request.rocket().state::<AdminToken>() else {
            return Outcome::Error((Status::NotFound, ()));
        };
        let presented = request
            .headers()
            .get_one("Authorization")
            .and_then(bearer_token)
            .unwrap_or("");
        // Constant time over digests of equal length, so the comparison
        // leaks neither how much matched nor how long the token is.
        let digest = |bytes: &[u8]| Sha256::digest(bytes);
        if bool::from(digest(presented.as_bytes()).ct_eq(&digest(expected.as_bytes()))) {
            Outcome::Success(Admin)
        } else {
            Outcome::Error((Status::Unauthorized, ()))
        }
    }
}

/// The token of an `Authorization: Bearer <token>` value; the scheme's name
/// is case-insensitive (RFC 9110, 11.1).
fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim_start_matches(' '))
}
