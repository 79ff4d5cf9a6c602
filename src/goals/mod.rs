//! A site's goals (an event's name, a page's path): managed with the
//! command line (`visitors goals`) and the admin API
//! (`/api/sites/DOMAIN/goals`); their numbers are the stats'.

pub mod commands;
pub mod store;

mod api;

use rocket::fairing::AdHoc;

/// `/api/sites/DOMAIN/goals`, with the admin token.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Goals", |rocket| async { rocket.mount("/", api::routes()) })
}
