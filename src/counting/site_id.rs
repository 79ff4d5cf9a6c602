//! Which site's counters a visit goes to. The sites themselves (domains,
//! sharing, the pixel) are the `sites` feature; counting and the stats only
//! need to tell the counters apart.

use serde::Serialize;

/// A row of `sites`; the instance's own page `/` is site 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, sqlx::Type)]
#[sqlx(transparent)]
#[serde(transparent)]
pub struct SiteId(pub i32);

impl SiteId {
    /// The instance's own dashboard, which counts itself.
    pub const INSTANCE: SiteId = SiteId(0);
}
