//! `GET /script.js`, the optional script (`assets/script/visitors.js`,
//! served minified), cached for an hour; and the same at a versioned,
//! immutable address (`/script/HASH.js`) for pages that want it cached for
//! a year. An earlier version's address leads to the current script, so a
//! page that kept it after an upgrade still counts. Loading it records
//! nothing.

use std::sync::LazyLock;

use rocket::{get, http::ContentType, response::Redirect, Responder};
use sha2::{Digest, Sha256};

use crate::infra::page::CrossSiteResource;

const SCRIPT: &str = include_str!("../../assets/script/visitors.min.js");

/// The first 16 hex digits of the script's SHA-256: its version.
static VERSION: LazyLock<String> =
    LazyLock::new(|| hex::encode(&Sha256::digest(SCRIPT.as_bytes())[..8]));

/// The script's addresses, for snippets.
pub struct ScriptUrls;

impl ScriptUrls {
    pub const LATEST: &'static str = "/script.js";

    /// `/script/HASH.js`, which never changes its content.
    pub fn versioned() -> String {
        format!("/script/{}.js", *VERSION)
    }
}

fn script(cache_control: &'static str) -> CrossSiteResource<&'static str> {
    CrossSiteResource::new(SCRIPT, ContentType::JavaScript, cache_control)
}

#[get("/script.js")]
pub fn latest() -> CrossSiteResource<&'static str> {
    script("public, max-age=3600")
}

#[derive(Responder)]
pub enum Versioned {
    Current(CrossSiteResource<&'static str>),
    Earlier(Redirect),
}

#[get("/script/<file>")]
pub fn versioned(file: &str) -> Option<Versioned> {
    let version = file.strip_suffix(".js")?;
    if version == VERSION.as_str() {
        Some(Versioned::Current(script(
            "public, max-age=31536000, immutable",
        )))
    } else if version.len() == VERSION.len() && version.bytes().all(|b| b.is_ascii_hexdigit()) {
        Some(Versioned::Earlier(Redirect::temporary(ScriptUrls::LATEST)))
    } else {
        None
    }
}
