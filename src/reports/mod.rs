//! Email reports: a site's weekly and monthly figures, mailed to the
//! members who ask for them (`/account/reports`), each report once however
//! many replicas run.

pub mod period;
pub mod report;
pub mod store;

mod pages;
mod sender;

use rocket::fairing::AdHoc;

use crate::infra::config::Config;

/// The page of choices, and the sender on every replica.
pub fn stage(config: &Config) -> AdHoc {
    let sender = sender::job(config);
    AdHoc::on_ignite("Email reports", |rocket| async {
        rocket.mount("/", pages::routes()).attach(sender)
    })
}
