//! Who calls `/api/sites*`: the operator, with `ADMIN_TOKEN`, or a person,
//! with one of their API keys (`Authorization: Bearer vk_…`), who may do
//! there what their roles let them do on the pages. Anyone else gets a 401.

use rocket::{
    http::Status,
    request::{FromRequest, Outcome},
    Request,
};
use rocket_db_pools::Database;
use sqlx::PgPool;

use crate::{
    accounts::{api_keys, model::User},
    infra::{admin::Admin, database::Db, error::AppError},
    sites::{
        members::{self, SiteRole},
        model::Site,
    },
};

pub enum ApiCaller {
    Operator,
    Person(User),
}

/// The digest of the API key in a request's `Authorization: Bearer`, read
/// without the database.
pub fn presented_key(request: &Request<'_>) -> Option<[u8; 32]> {
    request
        .headers()
        .get_one("Authorization")
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .and_then(|(_, key)| api_keys::ApiKey::digest_of(key.trim()))
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ApiCaller {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        if request.guard::<Admin>().await.is_success() {
            return Outcome::Success(Self::Operator);
        }
        let (Some(digest), Some(db)) = (presented_key(request), Db::fetch(request.rocket())) else {
            return Outcome::Error((Status::Unauthorized, ()));
        };
        match api_keys::user_of(db, &digest).await {
            Ok(Some(user)) => Outcome::Success(Self::Person(user)),
            Ok(None) => Outcome::Error((Status::Unauthorized, ())),
            Err(error) => {
                rocket::error!("reading an API key: {error}");
                Outcome::Error((Status::ServiceUnavailable, ()))
            }
        }
    }
}

impl ApiCaller {
    /// Whether the caller may change `site` (its owners, the admins, the
    /// operator).
    pub async fn may_manage(&self, pool: &PgPool, site: &Site) -> Result<bool, AppError> {
        Ok(match self {
            Self::Operator => true,
            Self::Person(user) => {
                user.is_admin
                    || members::role_of(pool, site.id, user.id).await? == Some(SiteRole::Owner)
            }
        })
    }

    /// The sites the caller may see among `sites`.
    pub async fn visible(&self, pool: &PgPool, sites: Vec<Site>) -> Result<Vec<Site>, AppError> {
        let Self::Person(user) = self else {
            return Ok(sites);
        };
        if user.is_admin {
            return Ok(sites);
        }
        let mine = members::site_ids(pool, user.id).await?;
        Ok(sites
            .into_iter()
            .filter(|site| mine.contains(&site.id))
            .collect())
    }
}
