//! Accounts: people who sign in with an email and a password, their
//! sessions, and the first-run setup that creates the instance's admin.
//! The pages are in `pages`, the command line's `visitors users` in
//! `commands`.

pub mod api_keys;
pub mod commands;
pub mod cookies;
pub mod form_token;
pub mod forms;
pub mod model;
pub mod password;
pub mod session;
pub mod setup;
pub mod store;
pub mod throttle;

mod pages;
mod people;

use rocket::fairing::AdHoc;

use crate::infra::config::Config;

use self::{cookies::CookiePolicy, password::PasswordHasher, throttle::ClientThrottle};

/// The setup, sign-in and account pages, and the setup code at start.
pub fn stage(config: &Config) -> AdHoc {
    let policy = CookiePolicy::new(&config.public_url);
    let public_url = config.public_url.clone();
    AdHoc::on_ignite("Accounts", move |rocket| async move {
        let hasher = rocket::tokio::task::spawn_blocking(PasswordHasher::new)
            .await
            .expect("hashing the decoy password does not panic");
        rocket
            .manage(policy)
            .manage(hasher)
            .manage(ClientThrottle::new())
            .mount("/", pages::routes())
            .mount("/", people::routes())
            .attach(setup::print_code_at_start(public_url))
    })
}
