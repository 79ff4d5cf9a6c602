//! A hit of a site's page, by the pixel or a counting badge: which page it
//! is, whether it may count, and recording it through the group commit. A
//! hit that may not count stores nothing and is counted in a metric by its
//! reason; the image is served all the same.

use rocket::{
    http::Status,
    request::{FromRequest, Outcome},
    Request,
};
use rocket_db_pools::Database;
use sqlx::PgPool;

use crate::{
    counting::{
        details::HitDetails,
        recorder::VisitRecorder,
        store::VisitCounts,
        visit::{canonical_page, referrer_host, RequestVisitor},
        visitor_key::VisitorIdentities,
    },
    infra::{database::Db, metrics::Metrics},
    sites::{directory::SiteDirectory, domain::Domain, model::Site, signature::PathSigner},
    sources::{
        attribution::{details_of, DetailParams, OwnHosts},
        known::KnownSources,
    },
};

/// Where the browser says the hit comes from: the page (`Referer`) and its
/// origin (`Origin`), when it sends them.
pub struct HitSource {
    referer: Option<url::Url>,
    origin_host: Option<String>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for HitSource {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let headers = request.headers();
        Outcome::Success(Self {
            referer: headers
                .get_one("Referer")
                .and_then(|value| url::Url::parse(value).ok()),
            origin_host: headers
                .get_one("Origin")
                .filter(|origin| *origin != "null")
                .and_then(referrer_host),
        })
    }
}

/// Why a hit counted nothing; `reason()` is the metric's label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    UnknownSite,
    RemovedSite,
    ForeignHost,
    /// The site counts only hits that name its page, and this one did not.
    NoOrigin,
    BadPath,
    BadSignature,
    /// A source, campaign value or event name with control characters, a
    /// width class that is not one, a referrer that is no address.
    BadDetail,
    /// The database, or the shared secret, is not there right now.
    Unavailable,
}

impl Dropped {
    pub const ALL: [Dropped; 8] = [
        Self::UnknownSite,
        Self::RemovedSite,
        Self::ForeignHost,
        Self::NoOrigin,
        Self::BadPath,
        Self::BadSignature,
        Self::BadDetail,
        Self::Unavailable,
    ];

    pub fn reason(self) -> &'static str {
        match self {
            Self::UnknownSite => "unknown_site",
            Self::RemovedSite => "removed_site",
            Self::ForeignHost => "foreign_host",
            Self::NoOrigin => "no_origin",
            Self::BadPath => "bad_path",
            Self::BadSignature => "bad_signature",
            Self::BadDetail => "bad_detail",
            Self::Unavailable => "unavailable",
        }
    }
}

/// What a request asks to count: `p` and `s` of its URL, and the rest of
/// its query (where the visitor came from, an event).
pub struct HitRequest<'a> {
    pub domain: &'a str,
    pub path: Option<&'a str>,
    pub signature: Option<&'a str>,
    pub details: &'a DetailParams<'a>,
}

impl OwnHosts for Site {
    fn is_own(&self, host: &str) -> bool {
        self.has_host(host)
    }
}

/// The page a hit counts for: `p`, or else the path of the Referer, or
/// else the site's front page (a badge in a README fetched through an
/// image proxy comes with neither).
fn page_path(requested: Option<&str>, source: &HitSource) -> Result<String, Dropped> {
    let raw = match requested {
        Some(p) => p,
        None => source.referer.as_ref().map_or("/", url::Url::path),
    };
    canonical_page(raw).ok_or(Dropped::BadPath)
}

/// Whether the hit may count for `site`, and for which page.
fn check(
    site: &Site,
    hit: &HitRequest<'_>,
    source: &HitSource,
    signer: impl FnOnce() -> Option<PathSigner>,
) -> Result<String, Dropped> {
    if !site.active {
        return Err(Dropped::RemovedSite);
    }
    let page_host = source
        .referer
        .as_ref()
        .and_then(|url| url.host_str())
        .map(str::to_ascii_lowercase)
        .or_else(|| source.origin_host.clone());
    match page_host {
        Some(host) if !site.has_host(&host) => return Err(Dropped::ForeignHost),
        None if site.origin_required => return Err(Dropped::NoOrigin),
        _ => {}
    }
    let path = page_path(hit.path, source)?;
    if site.signed {
        let signer = signer().ok_or(Dropped::Unavailable)?;
        let valid = hit
            .signature
            .is_some_and(|signature| signer.verify(site.id, &path, signature));
        if !valid {
            return Err(Dropped::BadSignature);
        }
    }
    Ok(path)
}

/// Everything counting a hit needs from the server.
pub struct HitCounter<'a> {
    directory: &'a SiteDirectory,
    pool: &'a PgPool,
    recorder: &'a VisitRecorder,
    identities: &'a VisitorIdentities,
    known: &'a KnownSources,
    metrics: &'a Metrics,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for HitCounter<'r> {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let rocket = request.rocket();
        match (
            Db::fetch(rocket),
            rocket.state::<SiteDirectory>(),
            rocket.state::<VisitRecorder>(),
            rocket.state::<VisitorIdentities>(),
            rocket.state::<KnownSources>(),
            rocket.state::<Metrics>(),
        ) {
            (
                Some(db),
                Some(directory),
                Some(recorder),
                Some(identities),
                Some(known),
                Some(metrics),
            ) => Outcome::Success(Self {
                directory,
                pool: db,
                recorder,
                identities,
                known,
                metrics,
            }),
            // A stage is missing: a mistake in assembling the server.
            _ => Outcome::Error((Status::InternalServerError, ())),
        }
    }
}

impl HitCounter<'_> {
    /// Records the hit when it may count, once committed; otherwise stores
    /// nothing and says why (and counts the reason).
    pub async fn count(
        &self,
        hit: &HitRequest<'_>,
        source: &HitSource,
        visitor: Option<RequestVisitor<'_>>,
    ) -> Result<VisitCounts, Dropped> {
        let result = self.try_count(hit, source, visitor).await;
        if let Err(dropped) = result {
            self.metrics.hit_dropped(dropped.reason());
        }
        result
    }

    /// What a request that counted a hit answers; see
    /// `VisitRecorder::answer`.
    pub fn answer<T, E>(&self, counts: &VisitCounts, answer: Result<T, E>) -> Result<T, E> {
        self.recorder.answer(counts, answer)
    }

    async fn try_count(
        &self,
        hit: &HitRequest<'_>,
        source: &HitSource,
        visitor: Option<RequestVisitor<'_>>,
    ) -> Result<VisitCounts, Dropped> {
        let domain = Domain::parse(hit.domain).map_err(|_| Dropped::UnknownSite)?;
        let site = self
            .directory
            .find(self.pool, &domain)
            .await
            .map_err(|_| Dropped::Unavailable)?
            .ok_or(Dropped::UnknownSite)?;
        let path = check(&site, hit, source, || {
            self.identities.hasher().map(PathSigner::new)
        })?;
        // A hit's Referer is the site's own page: where the visitor came
        // from is what the page says (its script's `r`, its campaign). A
        // signature covers only the path, so a signed site's hit says
        // nothing else (a source or an event named by anyone who copied a
        // signed URL would not be the site's).
        let details = if site.signed {
            if !hit.details.is_empty() {
                return Err(Dropped::BadSignature);
            }
            HitDetails::default()
        } else {
            details_of(hit.details, source.referer.as_ref(), &*site, self.known)
                .map_err(|_| Dropped::BadDetail)?
        };
        let visitor = visitor.ok_or(Dropped::Unavailable)?;
        self.recorder
            .record(visitor.visit(site.id, &path, None, details))
            .await
            .map_err(|_| Dropped::Unavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        counting::{site_id::SiteId, visitor_key::VisitorHasher},
        infra::config::Secret,
        sites::model::{ShareToken, Visibility},
    };

    fn site(signed: bool) -> Site {
        Site {
            id: SiteId(7),
            domain: Domain::parse("example.com").ok(),
            hosts: vec![Domain::parse("www.example.com").unwrap()],
            visibility: Visibility::Public,
            share_token: ShareToken::generate(),
            signed,
            badge: false,
            origin_required: false,
            active: true,
            created_at: chrono::Utc::now(),
            time_zone: chrono_tz::Tz::UTC,
        }
    }

    fn source(referer: Option<&str>, origin: Option<&str>) -> HitSource {
        HitSource {
            referer: referer.and_then(|r| url::Url::parse(r).ok()),
            origin_host: origin.and_then(referrer_host),
        }
    }

    fn hit<'a>(path: Option<&'a str>, signature: Option<&'a str>) -> HitRequest<'a> {
        HitRequest {
            details: &DetailParams::NONE,
            domain: "example.com",
            path,
            signature,
        }
    }

    fn signer() -> PathSigner {
        PathSigner::new(&VisitorHasher::new(&Secret::new(b"secret".to_vec())))
    }

    #[test]
    fn the_page_comes_from_p_or_else_from_the_referer() {
        let page = |p, referer| check(&site(false), &hit(p, None), &source(referer, None), || None);
        assert_eq!(page(Some("/about?x=1#top"), None).as_deref(), Ok("/about"));
        assert_eq!(
            page(None, Some("https://www.example.com/blog/post?utm=1")).as_deref(),
            Ok("/blog/post")
        );
        assert_eq!(page(None, None).as_deref(), Ok("/"));
        assert_eq!(page(Some("about"), None), Err(Dropped::BadPath));
        let long = format!("/{}", "a".repeat(1024));
        assert_eq!(page(Some(&long), None), Err(Dropped::BadPath));
        assert_eq!(page(Some("//evil.example/x"), None), Err(Dropped::BadPath));
        assert_eq!(page(Some("/\\evil.example/x"), None), Err(Dropped::BadPath));
        // One page, one spelling.
        assert_eq!(page(Some("/café"), None).as_deref(), Ok("/caf%C3%A9"));
        assert_eq!(
            page(None, Some("https://example.com/caf%C3%A9")).as_deref(),
            Ok("/caf%C3%A9")
        );
        assert_eq!(page(Some("/a/../b/./c"), None).as_deref(), Ok("/b/c"));
    }

    #[test]
    fn only_the_sites_own_hosts_count() {
        let from = |referer, origin| {
            check(
                &site(false),
                &hit(Some("/"), None),
                &source(referer, origin),
                || None,
            )
        };
        assert!(from(Some("https://example.com/"), None).is_ok());
        assert!(from(None, Some("https://www.example.com")).is_ok());
        assert_eq!(
            from(Some("https://evil.example/"), None),
            Err(Dropped::ForeignHost)
        );
        assert_eq!(
            from(None, Some("https://evil.example")),
            Err(Dropped::ForeignHost)
        );
    }

    #[test]
    fn a_signed_site_counts_only_signed_paths() {
        let signature = signer().sign(SiteId(7), "/about");
        let signed = |p, s| {
            check(&site(true), &hit(p, s), &source(None, None), || {
                Some(signer())
            })
        };
        assert_eq!(
            signed(Some("/about"), Some(signature.as_str())).as_deref(),
            Ok("/about")
        );
        assert_eq!(
            signed(Some("/other"), Some(signature.as_str())),
            Err(Dropped::BadSignature)
        );
        assert_eq!(signed(Some("/about"), None), Err(Dropped::BadSignature));
    }

    #[test]
    fn a_removed_site_counts_nothing() {
        let mut removed = site(false);
        removed.active = false;
        assert_eq!(
            check(&removed, &hit(Some("/"), None), &source(None, None), || {
                None
            }),
            Err(Dropped::RemovedSite)
        );
    }
}
