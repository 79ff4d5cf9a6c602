//! What a dashboard asks: a range and its filters, parsed from the address.

use crate::{
    infra::error::AppError,
    stats::{
        filter::{Filters, InvalidFilter},
        range::{InvalidRange, StatsRange},
    },
};

/// One question to the numbers, and the key of its cached answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StatsQuery {
    pub range: StatsRange,
    pub filters: Filters,
}

/// A `?range=` or `?f=` that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidQuery {
    #[error(transparent)]
    Range(#[from] InvalidRange),
    #[error(transparent)]
    Filter(#[from] InvalidFilter),
}

impl StatsQuery {
    /// The whole site over `range`.
    pub fn whole(range: StatsRange) -> Self {
        Self {
            range,
            filters: Filters::default(),
        }
    }

    pub fn parse(range: Option<&str>, filters: &[&str]) -> Result<Self, InvalidQuery> {
        Ok(Self {
            range: StatsRange::parse(range)?,
            filters: Filters::parse(filters)?,
        })
    }
}

impl InvalidQuery {
    /// The 400 of a page: a bad range offers the valid ones, each linking to
    /// `link_prefix` and `range=…`.
    pub fn on_page(self, link_prefix: String) -> AppError {
        match self {
            Self::Range(invalid) => invalid.on_page(link_prefix),
            Self::Filter(invalid) => invalid.into(),
        }
    }
}

impl From<InvalidFilter> for AppError {
    fn from(invalid: InvalidFilter) -> Self {
        Self::BadRequest(invalid.0)
    }
}

impl From<InvalidQuery> for AppError {
    fn from(invalid: InvalidQuery) -> Self {
        match invalid {
            InvalidQuery::Range(invalid) => invalid.into(),
            InvalidQuery::Filter(invalid) => invalid.into(),
        }
    }
}
