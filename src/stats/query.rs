//! What a dashboard asks: a period and its filters, read from the address
//! (`?range=7d`, or `?from=2026-11-01&to=2026-11-15`, and `?f=…`).

use chrono_tz::Tz;
use rocket::form::FromForm;

use crate::{
    infra::error::{AppError, InvalidChoice},
    stats::{
        filter::{Filters, InvalidFilter},
        period::{InvalidDays, Period},
        range::{InvalidRange, StatsRange},
    },
};

/// The address's parameters that ask a question of the numbers; the others
/// (a share token) are the route's.
#[derive(Debug, FromForm)]
pub struct StatsParams<'r> {
    range: Option<&'r str>,
    from: Option<&'r str>,
    to: Option<&'r str>,
    f: Vec<&'r str>,
}

/// One question to the numbers, and the key of its cached answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StatsQuery {
    pub period: Period,
    pub filters: Filters,
    /// The site's time zone, which its days and hours follow.
    pub zone: Tz,
}

/// A `?range=`, `?from=`/`?to=` or `?f=` that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidQuery {
    #[error(transparent)]
    Range(#[from] InvalidRange),
    #[error(transparent)]
    Days(#[from] InvalidDays),
    #[error(transparent)]
    Filter(#[from] InvalidFilter),
}

impl StatsQuery {
    /// The whole site over `range`.
    pub fn whole(range: StatsRange) -> Self {
        Self {
            period: Period::Rolling(range),
            filters: Filters::default(),
            zone: Tz::UTC,
        }
    }

    /// Days (`from` and `to`, both) where given, else the range.
    pub fn parse(params: &StatsParams<'_>) -> Result<Self, InvalidQuery> {
        let period = match (params.from, params.to) {
            (None, None) => Period::parse(params.range)?,
            (Some(from), Some(to)) => Period::days(from, to)?,
            _ => return Err(InvalidDays("from and to go together".into()).into()),
        };
        Ok(Self {
            period,
            filters: Filters::parse(&params.f)?,
            zone: Tz::UTC,
        })
    }

    /// The same question in `zone`.
    pub fn in_zone(self, zone: Tz) -> Self {
        Self { zone, ..self }
    }
}

impl InvalidQuery {
    /// The 400 of a page: a bad range offers the valid ones, each linking to
    /// `link_prefix` and `range=…`.
    pub fn on_page(self, link_prefix: String) -> AppError {
        match self {
            Self::Range(invalid) => AppError::InvalidChoice(InvalidChoice {
                parameter: "range",
                value: invalid.0,
                link_prefix,
                choices: Period::PRESETS
                    .iter()
                    .map(|period| (period.as_str(), period.name()))
                    .collect(),
            }),
            Self::Days(invalid) => AppError::BadRequest(invalid.0),
            Self::Filter(invalid) => AppError::BadRequest(invalid.0),
        }
    }
}

/// A bad question to the JSON API or a chart: the ranges are offered as a
/// dashboard's links.
impl From<InvalidQuery> for AppError {
    fn from(invalid: InvalidQuery) -> Self {
        invalid.on_page("/?".to_owned())
    }
}
