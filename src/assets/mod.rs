//! Files from `static/`, embedded in the binary so that the image needs no
//! asset folder. Pages link them with `?v=<version>`, which lets browsers
//! and nginx cache them for a year.

use std::{borrow::Cow, ffi::OsStr, path::PathBuf};

use rocket::{
    fairing::AdHoc,
    get,
    http::{ContentType, Header},
    routes, Responder,
};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "static/"]
struct StaticFiles;

#[derive(Responder)]
struct Asset {
    body: Cow<'static, [u8]>,
    content_type: ContentType,
    cache_control: Header<'static>,
}

#[get("/static/<path..>")]
fn asset(path: PathBuf) -> Option<Asset> {
    let file = StaticFiles::get(path.to_str()?)?;
    let content_type = path
        .extension()
        .and_then(OsStr::to_str)
        .and_then(ContentType::from_extension)
        .unwrap_or(ContentType::Binary);
    Some(Asset {
        body: file.data,
        content_type,
        cache_control: Header::new("Cache-Control", "public, max-age=31536000, immutable"),
    })
}

pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Static files", |rocket| async {
        rocket.mount("/", routes![asset])
    })
}
