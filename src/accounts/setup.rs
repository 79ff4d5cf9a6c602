//! The first run: while the instance has no account, every replica prints a
//! setup code of its own in its log at start, and `/setup` creates the first
//! account (its admin) only for someone who can read one of those logs, so
//! that nobody else on the network can claim a fresh instance.

use rocket::{fairing::AdHoc, Orbit, Rocket};
use rocket_db_pools::Database;
use sha2::{Digest, Sha256};

use super::store;
use crate::infra::{database::Db, page::Layout};

/// Unambiguous letters and digits (no 0/O, 1/I/L): 16 of them are 80 bits.
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const GROUPS: usize = 4;
const GROUP_LEN: usize = 4;

/// A code as the log prints it: `7KQM-3XPD-R9TA-WC4E`.
pub struct SetupCode(String);

impl SetupCode {
    fn generate() -> Self {
        use rand::Rng;
        let mut rng = rand::rngs::OsRng;
        let groups: Vec<String> = (0..GROUPS)
            .map(|_| {
                (0..GROUP_LEN)
                    .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
                    .collect()
            })
            .collect();
        Self(groups.join("-"))
    }

    /// The digest stored for a code as someone typed it: case, spaces and
    /// dashes do not matter.
    pub fn digest_of(typed: &str) -> [u8; 32] {
        let normalised: String = typed
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        Sha256::digest(normalised.as_bytes()).into()
    }
}

/// At liftoff, with no account yet: a code, stored as its digest, and the
/// log line that says where to use it.
pub fn print_code_at_start(public_url: String) -> AdHoc {
    AdHoc::on_liftoff("Setup code", move |rocket| {
        Box::pin(async move { offer_setup(rocket, &public_url).await })
    })
}

async fn offer_setup(rocket: &Rocket<Orbit>, public_url: &str) {
    let Some(db) = Db::fetch(rocket) else {
        return;
    };
    let code = SetupCode::generate();
    let result = async {
        if store::has_users(db).await? {
            return Ok(false);
        }
        store::add_setup_code(db, &SetupCode::digest_of(&code.0)).await?;
        Ok::<_, sqlx::Error>(true)
    };
    match result.await {
        Ok(true) => {
            let instance = rocket
                .state::<Layout>()
                .map_or("this instance", |layout| layout.instance_name.as_str());
            rocket::warn!(
                "no account yet: open {public_url}/setup and enter the setup code {} (printed \
                 by {instance}, valid for 24 hours) to create the first account",
                code.0
            );
        }
        Ok(false) => {}
        Err(error) => rocket::warn!("could not offer the first-run setup: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_four_groups_of_unambiguous_characters() {
        let code = SetupCode::generate();
        let groups: Vec<&str> = code.0.split('-').collect();
        assert_eq!(groups.len(), GROUPS);
        for group in groups {
            assert_eq!(group.len(), GROUP_LEN);
            assert!(group.bytes().all(|b| ALPHABET.contains(&b)), "{}", code.0);
        }
        assert_ne!(SetupCode::generate().0, code.0);
    }

    #[test]
    fn a_code_is_recognised_however_it_is_typed() {
        let digest = SetupCode::digest_of("7KQM-3XPD-R9TA-WC4E");
        assert_eq!(SetupCode::digest_of(" 7kqm 3xpd r9ta wc4e "), digest);
        assert_ne!(SetupCode::digest_of("7KQM-3XPD-R9TA-WC4F"), digest);
    }
}
