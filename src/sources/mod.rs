//! Where a site's visitors come from: the optional script that sends a
//! page's referrer, campaign and screen class (and custom events), the
//! known referrers' names, and the attribution of a hit to a source.

pub mod attribution;
pub mod known;

mod script;

use rocket::{fairing::AdHoc, routes};

use self::known::KnownSources;

pub use self::script::ScriptUrls;

/// The known referrers and `/script.js`.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Sources", |rocket| async {
        rocket
            .manage(KnownSources::load())
            .mount("/", routes![script::latest, script::versioned])
    })
}
