//! `GET /pixel/DOMAIN.gif?p=/path`: the one-line, JavaScript-free way to
//! count a page. It answers the same transparent GIF whatever happens, so a
//! page never shows a broken image; its status says only whether the hit
//! could be recorded right now (503 when not), and why a hit did not count
//! is the metrics' business, not the page's.

use rocket::{
    get, head,
    http::{ContentType, Status},
};

use crate::{
    counting::visit::RequestVisitor,
    infra::page::CrossSiteImage,
    sites::hit::{Dropped, HitCounter, HitRequest, HitSource},
};

/// A 1×1 transparent GIF (43 bytes).
const TRANSPARENT_GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff\
!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

fn transparent_gif() -> CrossSiteImage<&'static [u8]> {
    CrossSiteImage::new(TRANSPARENT_GIF, ContentType::GIF, "no-store")
}

/// The image whatever happens; a 503 (with the image all the same) when the
/// hit could not be recorded right now, so that the answer never says a
/// hit counted that did not.
#[get("/pixel/<file>?<p>&<s>")]
pub async fn pixel(
    file: &str,
    p: Option<&str>,
    s: Option<&str>,
    source: HitSource,
    visitor: Option<RequestVisitor<'_>>,
    counter: HitCounter<'_>,
) -> Option<(Status, CrossSiteImage<&'static [u8]>)> {
    let domain = file.strip_suffix(".gif")?;
    let hit = HitRequest {
        domain,
        path: p,
        signature: s,
    };
    let status = match counter.count(&hit, &source, visitor).await {
        Err(Dropped::Unavailable) => Status::ServiceUnavailable,
        Ok(_) | Err(_) => Status::Ok,
    };
    Some((status, transparent_gif()))
}

/// `HEAD` of a pixel (a link checker, a proxy probing it) counts nothing.
#[head("/pixel/<file>")]
pub fn pixel_head(file: &str) -> Option<CrossSiteImage<&'static [u8]>> {
    file.strip_suffix(".gif").map(|_| transparent_gif())
}
