//! The visit a request represents, as the database will see it: the keyed
//! visitor identity and what the dashboard breaks visits down by. The client
//! address is used for the hash and dropped here.

use std::{net::IpAddr, sync::Arc};

use rocket::{
    http::Status,
    request::{FromRequest, Outcome},
    Request, State,
};

use crate::{
    counting::{
        country::{CountryCode, CountryLookup},
        details::HitDetails,
        site_id::SiteId,
        store::NewVisit,
        user_agent::{ClientInfo, UserAgentClassifier},
        visitor_key::{VisitorHasher, VisitorIdentities, VisitorKey},
    },
    infra::{config::forwarded_client, text::clip},
};

/// Longest path stored; a site's page beyond it is refused, not cut.
pub const MAX_PATH_LEN: usize = 1024;
const MAX_HOST_LEN: usize = 253;

/// Where the client's address is read from: the peer address, the header
/// Rocket's `ip_header` names, or the right end of `X-Forwarded-For` behind
/// `hops` appending proxies (`TRUSTED_PROXY_HOPS`).
pub struct ClientAddressRule {
    pub hops: usize,
}

impl ClientAddressRule {
    /// The address to count the request under. Rocket's `client_ip` honours
    /// `ip_header` only when configured, and falls back to the peer address
    /// when the header does not parse; so does the forwarded rule.
    pub fn client_address(&self, request: &Request<'_>) -> Option<IpAddr> {
        if self.hops > 0 {
            // Several header lines are one comma-separated list (RFC 9110).
            let lines: Vec<&str> = request.headers().get("X-Forwarded-For").collect();
            return forwarded_client(&lines.join(","), self.hops)
                .or_else(|| request.remote().map(|peer| peer.ip()));
        }
        request.client_ip()
    }
}

pub struct IncomingVisit {
    pub site: SiteId,
    pub visitor: VisitorKey,
    pub client: Arc<ClientInfo>,
    /// The country of the client's address, when known.
    pub country: Option<CountryCode>,
    pub path: String,
    pub referrer_host: Option<String>,
    pub details: HitDetails,
    pub request: Option<RequestId>,
}

/// The id a proxy gives a request (nginx's `$request_id`, 32 hex digits in
/// `X-Request-ID`), the same on every replica the proxy tries: the write
/// path records a request once however often it is sent. A client that
/// sends its own id can only make its own visits count once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestId([u8; 16]);

impl RequestId {
    pub fn parse(text: &str) -> Option<Self> {
        let mut bytes = [0; 16];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(Self(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl IncomingVisit {
    pub fn as_new_visit(&self) -> NewVisit<'_> {
        NewVisit {
            site: self.site,
            visitor: self.visitor,
            path: &self.path,
            browser: &self.client.browser,
            os: &self.client.os,
            device: self.client.device.as_str(),
            is_bot: self.client.is_bot(),
            country: self.country.as_ref().map(CountryCode::as_str),
            referrer_host: self.referrer_host.as_deref(),
            details: &self.details,
            visited_at: None,
            request: self.request,
        }
    }
}

/// Who made a request, before it is known which site it counts for: the
/// client address (only ever hashed and looked up for its country, and
/// dropped with the request) and the User-Agent, read as the dashboard
/// shows it.
pub struct RequestVisitor<'r> {
    hasher: &'r VisitorHasher,
    address: Option<IpAddr>,
    user_agent: &'r str,
    request: Option<RequestId>,
    pub client: Arc<ClientInfo>,
    pub country: Option<CountryCode>,
}

impl RequestVisitor<'_> {
    /// The visit of `path` of `site`; the path is clipped to a bounded size.
    pub fn visit(
        &self,
        site: SiteId,
        path: &str,
        referrer_host: Option<String>,
        details: HitDetails,
    ) -> IncomingVisit {
        IncomingVisit {
            site,
            visitor: self.hasher.key(site, self.address, self.user_agent),
            client: Arc::clone(&self.client),
            country: self.country,
            path: clip(path, MAX_PATH_LEN).to_owned(),
            referrer_host,
            details,
            request: self.request,
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for RequestVisitor<'r> {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let identities =
            rocket::outcome::try_outcome!(request.guard::<&State<VisitorIdentities>>().await);
        // Not loaded yet: the schema is not there (see VisitorIdentities).
        let Some(hasher) = identities.hasher() else {
            return Outcome::Error((Status::ServiceUnavailable, ()));
        };
        let classifier =
            rocket::outcome::try_outcome!(request.guard::<&State<UserAgentClassifier>>().await);
        let rule =
            rocket::outcome::try_outcome!(request.guard::<&State<ClientAddressRule>>().await);
        let countries =
            rocket::outcome::try_outcome!(request.guard::<&State<CountryLookup>>().await);
        let user_agent = request.headers().get_one("User-Agent").unwrap_or("");
        let address = rule.client_address(request);
        Outcome::Success(Self {
            hasher,
            country: countries.country(request, address),
            address,
            user_agent,
            request: request
                .headers()
                .get_one("X-Request-ID")
                .and_then(RequestId::parse),
            client: classifier.classify(user_agent),
        })
    }
}

/// A visit of the instance's own page: the request's own path, and the
/// referrer unless it is this host.
#[rocket::async_trait]
impl<'r> FromRequest<'r> for IncomingVisit {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let visitor = rocket::outcome::try_outcome!(request.guard::<RequestVisitor<'r>>().await);
        let host = request
            .host()
            .map(|h| h.domain().as_str().to_ascii_lowercase());
        let referrer_host = request
            .headers()
            .get_one("Referer")
            .and_then(referrer_host)
            .filter(|referrer| Some(referrer) != host.as_ref());
        Outcome::Success(visitor.visit(
            SiteId::INSTANCE,
            request.uri().path().as_str(),
            referrer_host,
            HitDetails::default(),
        ))
    }
}

/// A page's path in the one spelling it is stored, signed and looked up
/// in, however it arrived (`p` decoded by Rocket, or a Referer): as a URL
/// carries it (percent-encoded), dot segments resolved, without its query
/// and fragment. `None` for anything that is not an absolute path on the
/// site itself, or longer than `MAX_PATH_LEN`.
pub fn canonical_page(raw: &str) -> Option<String> {
    if !raw.starts_with('/') || raw.chars().any(char::is_control) {
        return None;
    }
    let base = url::Url::parse("http://page.invalid/").expect("a valid base URL");
    // A path that names another host ("//x", "/\\x") is no page of the site.
    let url = base
        .join(raw)
        .ok()
        .filter(|url| url.host() == base.host())?;
    let path = url.path();
    (path.len() <= MAX_PATH_LEN).then(|| path.to_owned())
}

/// The host of a Referer or Origin URL; our own host is dropped by the
/// caller, so that moving around the dashboard does not show up as a
/// referral.
pub fn referrer_host(referer: &str) -> Option<String> {
    let url = url::Url::parse(referer).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    (host.len() <= MAX_HOST_LEN).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::referrer_host;

    #[test]
    fn referrers_are_reduced_to_their_host() {
        assert_eq!(
            referrer_host("https://News.Example.com/a?b=c").as_deref(),
            Some("news.example.com")
        );
        assert_eq!(referrer_host("not a url"), None);
        assert_eq!(referrer_host("mailto:someone@example.com"), None);
        assert_eq!(
            referrer_host(&format!("https://{}.com/", "a".repeat(300))),
            None
        );
    }
}
