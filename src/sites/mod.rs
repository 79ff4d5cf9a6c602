//! Counting any website: its sites (a domain, its hosts, who may see it),
//! the no-JavaScript pixel, the counter badge, and the sites' JSON API. The
//! command line's `visitors sites` is in `commands`; the sites' dashboards
//! are the dashboard feature's.

pub mod access;
pub mod caller;
pub mod commands;
pub mod directory;
pub mod domain;
pub mod hit;
pub mod links;
pub mod manage;
pub mod members;
pub mod model;
pub mod signature;
pub mod store;

mod api;
mod badge;
mod pixel;

use rocket::{fairing::AdHoc, routes};

use crate::infra::{config::Config, metrics::Metrics};

use self::hit::Dropped;

pub use self::{directory::SiteDirectory, links::SiteLinks};

/// The site directory, the links, the pixel, the badge and `/api/sites`.
pub fn stage(config: &Config) -> AdHoc {
    let links = SiteLinks {
        public_url: config.public_url.clone(),
    };
    AdHoc::on_ignite("Sites", |rocket| async {
        if let Some(metrics) = rocket.state::<Metrics>() {
            metrics.declare_hit_drop_reasons(&Dropped::ALL.map(Dropped::reason));
        }
        rocket
            .manage(SiteDirectory::default())
            .manage(links)
            .mount(
                "/",
                routes![
                    pixel::pixel,
                    pixel::pixel_head,
                    pixel::hit,
                    badge::badge,
                    badge::badge_head
                ],
            )
            .mount("/", api::routes())
    })
}
