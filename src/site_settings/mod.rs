//! Sites from the browser: a signed-in person's sites, adding one (its
//! owner is whoever adds it), and each site's settings page with its
//! snippets and its private link. Built on the accounts' sessions and forms
//! and on the sites' own validation, store and links.

pub mod store;

mod pages;
mod site_data;

use rocket::fairing::AdHoc;

/// `/account/sites` and each site's settings page.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Site settings", |rocket| async {
        rocket
            .mount("/", pages::routes())
            .mount("/", site_data::routes())
    })
}
