//! The sites every replica looks up on each pixel, badge and dashboard
//! request, kept for a few seconds so that a hit costs no extra query. A
//! change made on another replica (a site added, removed or made private, a
//! link rotated) is seen here within `FRESH_FOR`; the replica that made it
//! sees it at once.

use std::{sync::Arc, time::Duration};

use moka::future::Cache;
use sqlx::PgPool;

use crate::{
    infra::database::within_deadline,
    sites::{domain::Domain, model::Site, store},
};

const FRESH_FOR: Duration = Duration::from_secs(5);
/// Unknown domains are remembered too (as `None`), so that hits for sites
/// that do not exist cannot each cost a query; this bounds the memory.
const CAPACITY: u64 = 10_000;

pub struct SiteDirectory {
    sites: Cache<Domain, Option<Arc<Site>>>,
}

impl Default for SiteDirectory {
    fn default() -> Self {
        Self {
            sites: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(FRESH_FOR)
                .build(),
        }
    }
}

impl SiteDirectory {
    /// The site of `domain`, active or not, if there is one.
    pub async fn find(
        &self,
        pool: &PgPool,
        domain: &Domain,
    ) -> Result<Option<Arc<Site>>, Arc<sqlx::Error>> {
        self.sites
            .try_get_with_by_ref(domain, async {
                within_deadline(store::find(pool, domain))
                    .await
                    .map(|site| site.map(Arc::new))
            })
            .await
    }

    /// Forgets what this replica knew of `domain`, after changing it.
    pub async fn forget(&self, domain: &Domain) {
        self.sites.invalidate(domain).await;
    }
}
