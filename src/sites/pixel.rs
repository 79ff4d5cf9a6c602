//! `GET /pixel/DOMAIN.gif?p=/path`: the one-line, JavaScript-free way to
//! count a page. It answers the same transparent GIF whatever happens, so a
//! page never shows a broken image; whether the hit counted is the
//! metrics' business, not the page's.

use rocket::{get, http::Header, Responder, State};

use crate::{
    counting::{recorder::VisitRecorder, visit::RequestVisitor, visitor_key::VisitorIdentities},
    infra::{database::Db, metrics::Metrics},
    sites::{
        directory::SiteDirectory,
        hit::{HitCounter, HitRequest, HitSource},
    },
};

/// A 1×1 transparent GIF (43 bytes).
const TRANSPARENT_GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff\
!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

/// An image any site may embed, never cached (each view is a hit).
#[derive(Responder)]
pub struct CrossSiteImage<T> {
    pub body: T,
    pub content_type: rocket::http::ContentType,
    pub cache_control: Header<'static>,
    pub resource_policy: Header<'static>,
}

impl<T> CrossSiteImage<T> {
    pub fn new(
        body: T,
        content_type: rocket::http::ContentType,
        cache_control: &'static str,
    ) -> Self {
        Self {
            body,
            content_type,
            cache_control: Header::new("Cache-Control", cache_control),
            resource_policy: Header::new("Cross-Origin-Resource-Policy", "cross-origin"),
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[get("/pixel/<file>?<p>&<s>")]
pub async fn pixel(
    file: &str,
    p: Option<&str>,
    s: Option<&str>,
    source: HitSource,
    visitor: Option<RequestVisitor<'_>>,
    db: &Db,
    directory: &State<SiteDirectory>,
    recorder: &State<VisitRecorder>,
    identities: &State<VisitorIdentities>,
    metrics: &State<Metrics>,
) -> Option<CrossSiteImage<&'static [u8]>> {
    let domain = file.strip_suffix(".gif")?;
    let counter = HitCounter {
        directory,
        pool: db,
        recorder,
        identities,
        metrics,
    };
    let hit = HitRequest {
        domain,
        path: p,
        signature: s,
    };
    // Counted or not, the page gets its image.
    let _ = counter.count(&hit, &source, visitor).await;
    Some(CrossSiteImage::new(
        TRANSPARENT_GIF,
        rocket::http::ContentType::GIF,
        "no-store",
    ))
}
