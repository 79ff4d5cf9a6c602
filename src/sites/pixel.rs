//! `GET /pixel/DOMAIN.gif?p=/path`: the one-line, JavaScript-free way to
//! count a page. It answers the same transparent GIF whatever happens, so a
//! page never shows a broken image; its status says only whether the hit
//! could be recorded right now (503 when not), and why a hit did not count
//! is the metrics' business, not the page's.

use rocket::{
    get, head,
    http::{ContentType, Status},
    post,
};

use crate::{
    counting::visit::RequestVisitor,
    infra::page::CrossSiteResource,
    sites::hit::{Dropped, HitCounter, HitRequest, HitSource},
    sources::attribution::DetailParams,
};

/// A 1×1 transparent GIF (43 bytes).
const TRANSPARENT_GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff\
!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

fn transparent_gif() -> CrossSiteResource<&'static [u8]> {
    CrossSiteResource::new(TRANSPARENT_GIF, ContentType::GIF, "no-store")
}

/// The image whatever happens; a 503 (with the image all the same) when the
/// hit could not be recorded right now, so that the answer never says a
/// hit counted that did not. Beyond `p` and `s`, the query may say where
/// the visitor came from and name an event (`e=`): `DetailParams`.
#[get("/pixel/<file>?<p>&<s>&<details..>")]
pub async fn pixel(
    file: &str,
    p: Option<&str>,
    s: Option<&str>,
    details: DetailParams<'_>,
    source: HitSource,
    visitor: Option<RequestVisitor<'_>>,
    counter: HitCounter<'_>,
) -> Option<(Status, CrossSiteResource<&'static [u8]>)> {
    let hit = HitRequest {
        domain: file.strip_suffix(".gif")?,
        path: p,
        signature: s,
        details: &details,
    };
    Some((
        count(&counter, &hit, &source, visitor).await,
        transparent_gif(),
    ))
}

/// The script's hit (`navigator.sendBeacon`, or `fetch` with `keepalive`):
/// the pixel's query without the image, answered 204, or 503 when it could
/// not be recorded. A POST without a body needs no CORS preflight.
#[post("/hit/<domain>?<p>&<s>&<details..>")]
pub async fn hit(
    domain: &str,
    p: Option<&str>,
    s: Option<&str>,
    details: DetailParams<'_>,
    source: HitSource,
    visitor: Option<RequestVisitor<'_>>,
    counter: HitCounter<'_>,
) -> Status {
    let hit = HitRequest {
        domain,
        path: p,
        signature: s,
        details: &details,
    };
    match count(&counter, &hit, &source, visitor).await {
        Status::Ok => Status::NoContent,
        status => status,
    }
}

/// Counts the hit when it may count; 503 only when it could not be
/// recorded right now (a hit that may not count is the metrics' business).
async fn count(
    counter: &HitCounter<'_>,
    hit: &HitRequest<'_>,
    source: &HitSource,
    visitor: Option<RequestVisitor<'_>>,
) -> Status {
    match counter.count(hit, source, visitor).await {
        Err(Dropped::Unavailable) => Status::ServiceUnavailable,
        Ok(_) | Err(_) => Status::Ok,
    }
}

/// `HEAD` of a pixel (a link checker, a proxy probing it) counts nothing.
#[head("/pixel/<file>")]
pub fn pixel_head(file: &str) -> Option<CrossSiteResource<&'static [u8]>> {
    file.strip_suffix(".gif").map(|_| transparent_gif())
}
