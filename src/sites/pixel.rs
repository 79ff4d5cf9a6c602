//! `GET /pixel/DOMAIN.gif?p=/path`: the one-line, JavaScript-free way to
//! count a page. It answers the same transparent GIF whatever happens, so a
//! page never shows a broken image; whether the hit counted is the
//! metrics' business, not the page's.

use rocket::get;

use crate::{
    counting::visit::RequestVisitor,
    infra::page::CrossSiteImage,
    sites::hit::{HitCounter, HitRequest, HitSource},
};

/// A 1×1 transparent GIF (43 bytes).
const TRANSPARENT_GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff\
!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

#[get("/pixel/<file>?<p>&<s>")]
pub async fn pixel(
    file: &str,
    p: Option<&str>,
    s: Option<&str>,
    source: HitSource,
    visitor: Option<RequestVisitor<'_>>,
    counter: HitCounter<'_>,
) -> Option<CrossSiteImage<&'static [u8]>> {
    let domain = file.strip_suffix(".gif")?;
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
