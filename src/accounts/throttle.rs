//! The sign-in throttle. Per address, in PostgreSQL (every replica counts
//! into one window, `store::count_attempt`); per client, in each replica's
//! memory: an address never leaves the process and is forgotten with its
//! window, so the per-client limit is per replica.

use std::{
    net::IpAddr,
    sync::{
        atomic::{AtomicU32, Ordering},
        Arc,
    },
    time::Duration,
};

use moka::sync::Cache;

use super::store::THROTTLE_WINDOW_MINUTES;

/// Sign-in attempts per address in a window, whoever makes them.
pub const ATTEMPTS_PER_ADDRESS: i32 = 10;
/// Sign-in and setup attempts per client in a window, whatever the address.
const ATTEMPTS_PER_CLIENT: u32 = 30;
/// Clients remembered at once; the oldest go first beyond it.
const CLIENTS: u64 = 100_000;

pub struct ClientThrottle {
    attempts: Cache<IpAddr, Arc<AtomicU32>>,
}

impl ClientThrottle {
    pub fn new() -> Self {
        Self {
            attempts: Cache::builder()
                .max_capacity(CLIENTS)
                .time_to_live(Duration::from_secs_f64(THROTTLE_WINDOW_MINUTES * 60.0))
                .build(),
        }
    }

    /// Counts an attempt of `client`; false once it has had its share.
    pub fn allow(&self, client: Option<IpAddr>) -> bool {
        let Some(client) = client else {
            return true;
        };
        let count = self
            .attempts
            .get_with(client, || Arc::new(AtomicU32::new(0)));
        count.fetch_add(1, Ordering::Relaxed) < ATTEMPTS_PER_CLIENT
    }
}

impl Default for ClientThrottle {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_has_its_share_and_no_more() {
        let throttle = ClientThrottle::new();
        let client = Some("192.0.2.7".parse().unwrap());
        for _ in 0..ATTEMPTS_PER_CLIENT {
            assert!(throttle.allow(client));
        }
        assert!(!throttle.allow(client));
        assert!(throttle.allow(Some("192.0.2.8".parse().unwrap())));
        assert!(throttle.allow(None));
    }
}
