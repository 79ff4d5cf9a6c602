//! The periods a dashboard can show: the rolling ranges (`StatsRange`),
//! calendar periods (today, yesterday, this month, last month, this year)
//! and any days (`?from=2026-11-01&to=2026-11-15`), in the site's time zone.

use std::borrow::Cow;

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Serialize, Serializer};

use crate::stats::range::{local_midnight, Granularity, InvalidRange, StatsRange};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// The last hour, day, week or month up to now, or all time.
    Rolling(StatsRange),
    Today,
    Yesterday,
    ThisMonth,
    LastMonth,
    ThisYear,
    /// Whole days, the first and last included.
    Days {
        first: NaiveDate,
        last: NaiveDate,
    },
}

/// Custom days reach back at most this far in one view (ten years).
const MAX_DAYS: i64 = 3660;

/// `?from=`/`?to=` that are not two dates in order: the message says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidDays(pub String);

impl Period {
    /// The periods the range links offer, in their order.
    pub const PRESETS: [Self; 10] = [
        Self::Rolling(StatsRange::LastHour),
        Self::Today,
        Self::Yesterday,
        Self::Rolling(StatsRange::LastDay),
        Self::Rolling(StatsRange::LastWeek),
        Self::Rolling(StatsRange::LastMonth),
        Self::ThisMonth,
        Self::LastMonth,
        Self::ThisYear,
        Self::Rolling(StatsRange::AllTime),
    ];

    /// A `?range=` value: one of `PRESETS` (`24h` when there is none).
    pub fn parse(value: Option<&str>) -> Result<Self, InvalidRange> {
        match value {
            None => Ok(Self::Rolling(StatsRange::LastDay)),
            Some(value) => Self::PRESETS
                .into_iter()
                .find(|period| period.as_str() == value)
                .ok_or_else(|| InvalidRange(value.to_owned())),
        }
    }

    /// `?from=` and `?to=`, two dates (`2026-11-01`), the first not after
    /// the last.
    pub fn days(from: &str, to: &str) -> Result<Self, InvalidDays> {
        let date = |name: &str, value: &str| {
            NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
                InvalidDays(format!(
                    "{name} must be a date such as 2026-11-01, not {value:?}"
                ))
            })
        };
        let (first, last) = (date("from", from)?, date("to", to)?);
        if first > last {
            return Err(InvalidDays(format!(
                "from ({first}) must not be after to ({last})"
            )));
        }
        if (last - first).num_days() >= MAX_DAYS {
            return Err(InvalidDays(format!("at most {MAX_DAYS} days at once")));
        }
        Ok(Self::Days { first, last })
    }

    /// The `?range=` value; `custom` for days.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rolling(range) => range.as_str(),
            Self::Today => "today",
            Self::Yesterday => "yesterday",
            Self::ThisMonth => "month",
            Self::LastMonth => "last-month",
            Self::ThisYear => "year",
            Self::Days { .. } => "custom",
        }
    }

    /// The address's parameters for it: `range=7d`, `from=…&to=…`.
    pub fn query(self) -> String {
        match self {
            Self::Days { first, last } => format!("from={first}&to={last}"),
            _ => format!("range={}", self.as_str()),
        }
    }

    pub fn label(self) -> Cow<'static, str> {
        let day = |date: NaiveDate| date.format("%-d %b %Y");
        match self {
            Self::Days { first, last } if first == last => Cow::Owned(day(first).to_string()),
            Self::Days { first, last } => Cow::Owned(format!("{} to {}", day(first), day(last))),
            _ => Cow::Borrowed(self.name()),
        }
    }

    /// A preset's name, as its link says it; days are named by `label`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Rolling(range) => range.label(),
            Self::Today => "Today",
            Self::Yesterday => "Yesterday",
            Self::ThisMonth => "This month",
            Self::LastMonth => "Last month",
            Self::ThisYear => "This year",
            Self::Days { .. } => "Custom dates",
        }
    }

    pub fn granularity(self) -> Granularity {
        match self {
            Self::Rolling(range) => range.granularity(),
            Self::Today | Self::Yesterday => Granularity::Hour,
            Self::Days { first, last } if first == last => Granularity::Hour,
            Self::ThisMonth | Self::LastMonth | Self::ThisYear | Self::Days { .. } => {
                Granularity::Day
            }
        }
    }

    /// Where the period starts at `now` in `zone` (`None`: the first day
    /// counted), and where it ends, if before `now`.
    pub fn bounds(
        self,
        now: DateTime<Utc>,
        zone: Tz,
    ) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        let today = now.with_timezone(&zone).date_naive();
        let month = today.with_day(1).unwrap_or(today);
        let (start, end) = match self {
            Self::Rolling(range) => return (range.first_bucket_in(now, zone), None),
            Self::Today => (today, None),
            Self::Yesterday => (today - Days::new(1), Some(today)),
            Self::ThisMonth => (month, None),
            Self::LastMonth => (month - Months::new(1), Some(month)),
            Self::ThisYear => (month.with_month(1).unwrap_or(month), None),
            Self::Days { first, last } => (first, Some(last + Days::new(1))),
        };
        let midnight = |day| local_midnight(day, zone);
        let end = end.map(midnight).filter(|end| *end <= now);
        (Some(midnight(start)), end)
    }

    /// The period before, of the same kind, up to the same point: the
    /// rolling ranges moved back by their length, yesterday for today, the
    /// month before for a month, last year for this one, as many days
    /// before for days. `None` for all time.
    pub fn previous(self, now: DateTime<Utc>, zone: Tz) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let (Some(start), end) = self.bounds(now, zone) else {
            return None;
        };
        let end = end.unwrap_or(now);
        let first_day = start.with_timezone(&zone).date_naive();
        let days_before = |days: u64| local_midnight(first_day - Days::new(days), zone);
        let earlier_start = match self {
            Self::Rolling(range) if range.granularity() == Granularity::Day => {
                days_before(range.span()?.num_days().try_into().ok()?)
            }
            Self::Rolling(range) => start - range.span()?,
            Self::Today | Self::Yesterday => days_before(1),
            Self::ThisMonth | Self::LastMonth => local_midnight(first_day - Months::new(1), zone),
            Self::ThisYear => local_midnight(first_day - Months::new(12), zone),
            Self::Days { first, last } => {
                days_before(((last - first).num_days() + 1).try_into().ok()?)
            }
        };
        Some((earlier_start, (earlier_start + (end - start)).min(start)))
    }
}

/// The JSON names it as `?range=` does.
impl Serialize for Period {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::range::at;
    use chrono::TimeDelta;

    fn day(text: &str) -> DateTime<Utc> {
        local_midnight(
            NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap(),
            Tz::UTC,
        )
    }

    #[test]
    fn periods_parse_and_read_back() {
        for period in Period::PRESETS {
            assert_eq!(Period::parse(Some(period.as_str())), Ok(period));
            assert_eq!(period.query(), format!("range={}", period.as_str()));
        }
        assert!(Period::parse(Some("last-year")).is_err());
        let days = Period::days("2026-11-01", "2026-11-15").unwrap();
        assert_eq!(days.query(), "from=2026-11-01&to=2026-11-15");
        assert_eq!(days.label(), "1 Nov 2026 to 15 Nov 2026");
        assert_eq!(days.granularity(), Granularity::Day);
        let one = Period::days("2026-11-01", "2026-11-01").unwrap();
        assert_eq!(
            (one.label().as_ref(), one.granularity()),
            ("1 Nov 2026", Granularity::Hour)
        );
        for (from, to, why) in [
            ("2026-11-15", "2026-11-01", "must not be after"),
            ("yesterday", "2026-11-01", "must be a date"),
            ("2026-11-01", "2026-13-01", "must be a date"),
            ("2000-01-01", "2026-11-01", "at most"),
        ] {
            assert!(
                Period::days(from, to).unwrap_err().0.contains(why),
                "{from} {to}"
            );
        }
    }

    #[test]
    fn calendar_periods_start_and_end_at_midnight_utc() {
        let now = at(14, 5, 42);
        assert_eq!(
            Period::Today.bounds(now, Tz::UTC),
            (Some(day("2026-11-22")), None)
        );
        assert_eq!(
            Period::Yesterday.bounds(now, Tz::UTC),
            (Some(day("2026-11-21")), Some(day("2026-11-22")))
        );
        assert_eq!(
            Period::ThisMonth.bounds(now, Tz::UTC),
            (Some(day("2026-11-01")), None)
        );
        assert_eq!(
            Period::LastMonth.bounds(now, Tz::UTC),
            (Some(day("2026-10-01")), Some(day("2026-11-01")))
        );
        assert_eq!(
            Period::ThisYear.bounds(now, Tz::UTC),
            (Some(day("2026-01-01")), None)
        );
        let through_today = Period::days("2026-11-20", "2026-11-22").unwrap();
        assert_eq!(
            through_today.bounds(now, Tz::UTC),
            (Some(day("2026-11-20")), None)
        );
        let past = Period::days("2026-11-02", "2026-11-03").unwrap();
        assert_eq!(
            past.bounds(now, Tz::UTC),
            (Some(day("2026-11-02")), Some(day("2026-11-04")))
        );
    }

    #[test]
    fn the_previous_period_is_of_the_same_kind_up_to_the_same_point() {
        let now = at(14, 5, 42);
        let elapsed = now - day("2026-11-22");
        assert_eq!(
            Period::Today.previous(now, Tz::UTC),
            Some((day("2026-11-21"), day("2026-11-21") + elapsed))
        );
        assert_eq!(
            Period::Yesterday.previous(now, Tz::UTC),
            Some((day("2026-11-20"), day("2026-11-21")))
        );
        // 21 days and a bit into November: as far into October.
        assert_eq!(
            Period::ThisMonth.previous(now, Tz::UTC),
            Some((day("2026-10-01"), day("2026-10-22") + elapsed))
        );
        // October has 31 days, September 30: all of September.
        assert_eq!(
            Period::LastMonth.previous(now, Tz::UTC),
            Some((day("2026-09-01"), day("2026-10-01")))
        );
        let past = Period::days("2026-11-02", "2026-11-03").unwrap();
        assert_eq!(
            past.previous(now, Tz::UTC),
            Some((day("2026-10-31"), day("2026-11-02")))
        );
        assert_eq!(
            Period::Rolling(StatsRange::LastWeek).previous(now, Tz::UTC),
            Some((day("2026-11-09"), now - TimeDelta::days(7)))
        );
        assert_eq!(
            Period::Rolling(StatsRange::AllTime).previous(now, Tz::UTC),
            None
        );
    }
}
