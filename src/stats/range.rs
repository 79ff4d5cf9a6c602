//! Time ranges of the dashboard and the bucket sizes they are cut into.

use std::fmt;

use crate::infra::error::{AppError, InvalidChoice};
use chrono::{
    DateTime, Days, DurationRound, NaiveDate, NaiveTime, Offset, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;
use serde::{Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatsRange {
    LastHour,
    LastDay,
    LastWeek,
    LastMonth,
    AllTime,
}

/// A `?range=` value that is not one of `StatsRange::ALL`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown range {0:?}")]
pub struct InvalidRange(pub String);

impl StatsRange {
    pub const ALL: [Self; 5] = [
        Self::LastHour,
        Self::LastDay,
        Self::LastWeek,
        Self::LastMonth,
        Self::AllTime,
    ];

    pub fn parse(value: Option<&str>) -> Result<Self, InvalidRange> {
        match value {
            None => Ok(Self::LastDay),
            Some(value) => Self::ALL
                .into_iter()
                .find(|range| range.as_str() == value)
                .ok_or_else(|| InvalidRange(value.to_owned())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::LastHour => "1h",
            Self::LastDay => "24h",
            Self::LastWeek => "7d",
            Self::LastMonth => "30d",
            Self::AllTime => "all",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::LastHour => "Last hour",
            Self::LastDay => "Last 24 hours",
            Self::LastWeek => "Last 7 days",
            Self::LastMonth => "Last 30 days",
            Self::AllTime => "All time",
        }
    }

    pub fn granularity(self) -> Granularity {
        match self {
            Self::LastHour => Granularity::Minute,
            Self::LastDay => Granularity::Hour,
            Self::LastWeek | Self::LastMonth | Self::AllTime => Granularity::Day,
        }
    }

    /// How many buckets the range spans, the current one included; `None`
    /// for all time, which starts at the first recorded day.
    fn bucket_count(self) -> Option<i32> {
        match self {
            Self::LastHour => Some(60),
            Self::LastDay => Some(24),
            Self::LastWeek => Some(7),
            Self::LastMonth => Some(30),
            Self::AllTime => None,
        }
    }

    /// How far the range reaches back: the previous period of the same
    /// length is the range moved back by this much. `None` for all time.
    pub fn span(self) -> Option<TimeDelta> {
        self.bucket_count()
            .map(|count| self.granularity().step() * count)
    }

    /// The start of the range's first bucket at `now` (UTC); ranges are
    /// whole buckets, so that every bar of the chart covers a full period.
    pub fn first_bucket(self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.first_bucket_in(now, Tz::UTC)
    }

    /// The same, with days and hours of `zone`.
    pub fn first_bucket_in(self, now: DateTime<Utc>, zone: Tz) -> Option<DateTime<Utc>> {
        let granularity = self.granularity();
        let count = self.bucket_count()?;
        let last = granularity.truncate_in(now, zone);
        Some(match granularity {
            Granularity::Day => {
                let day = last.with_timezone(&zone).date_naive();
                local_midnight(day - Days::new(count as u64 - 1), zone)
            }
            Granularity::Minute | Granularity::Hour => last - granularity.step() * (count - 1),
        })
    }
}

impl fmt::Display for StatsRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for StatsRange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The width of one bar of the chart, and of one rollup bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Minute,
    Hour,
    Day,
}

impl Granularity {
    /// The name `date_trunc` and the rollup tables use.
    pub fn as_sql(self) -> &'static str {
        match self {
            Self::Minute => "minute",
            Self::Hour => "hour",
            Self::Day => "day",
        }
    }

    pub fn step(self) -> TimeDelta {
        match self {
            Self::Minute => TimeDelta::minutes(1),
            Self::Hour => TimeDelta::hours(1),
            Self::Day => TimeDelta::days(1),
        }
    }

    /// The start of the bucket holding `time` (UTC).
    pub fn truncate(self, time: DateTime<Utc>) -> DateTime<Utc> {
        time.duration_trunc(self.step())
            .expect("minutes, hours and days divide the UTC epoch evenly")
    }

    /// The start of the bucket holding `time` in `zone`: its local day, or
    /// its local hour or minute, which the offset at that time places (the
    /// hour repeated when summer time ends is two buckets).
    pub fn truncate_in(self, time: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
        let local = time.with_timezone(&zone);
        match self {
            Self::Day => local_midnight(local.date_naive(), zone),
            Self::Minute | Self::Hour => {
                let offset = TimeDelta::seconds(local.offset().fix().local_minus_utc().into());
                self.truncate(time + offset) - offset
            }
        }
    }

    /// The start of the bucket after the one starting at `start` in `zone`:
    /// a day may be 23 or 25 hours long.
    pub fn next_in(self, start: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
        match self {
            Self::Day => {
                local_midnight(start.with_timezone(&zone).date_naive() + Days::new(1), zone)
            }
            Self::Minute | Self::Hour => start + self.step(),
        }
    }

    /// How the chart labels a bucket in `zone`: `14:05`, `14:00` or `Nov 21`.
    pub fn label_in(self, start: DateTime<Utc>, zone: Tz) -> String {
        let local = start.with_timezone(&zone);
        match self {
            Self::Minute | Self::Hour => local.format("%H:%M").to_string(),
            Self::Day => local.format("%b %d").to_string(),
        }
    }
}

/// Where `day` starts in `zone`; a zone that skips its midnight (a
/// summer-time change at 00:00) starts that day at the first minute it has.
pub fn local_midnight(day: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let at = |hour| {
        zone.from_local_datetime(&day.and_hms_opt(hour, 0, 0)?)
            .earliest()
    };
    at(0).or_else(|| at(1)).map_or_else(
        || Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN)),
        |t| t.with_timezone(&Utc),
    )
}

impl InvalidRange {
    /// The 400 of a page, offering the valid ranges there: each links to
    /// `link_prefix` and `range=…` (see `InvalidChoice`).
    pub fn on_page(self, link_prefix: String) -> AppError {
        AppError::InvalidChoice(InvalidChoice {
            parameter: "range",
            value: self.0,
            link_prefix,
            choices: StatsRange::ALL
                .iter()
                .map(|range| (range.as_str(), range.label()))
                .collect(),
        })
    }
}

/// A bad `?range=` is a 400 that offers the valid ranges on the dashboard.
impl From<InvalidRange> for AppError {
    fn from(invalid: InvalidRange) -> Self {
        invalid.on_page("/?".to_owned())
    }
}

/// 2026-11-22 at h:m:s UTC, for the tests of the stats.
#[cfg(test)]
pub(crate) fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    use chrono::TimeZone;
    Utc.with_ymd_and_hms(2026, 11, 22, h, m, s).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ranges_parse_and_default_to_a_day() {
        assert_eq!(StatsRange::parse(None), Ok(StatsRange::LastDay));
        for range in StatsRange::ALL {
            assert_eq!(StatsRange::parse(Some(range.as_str())), Ok(range));
        }
        for bad in ["", "1d", "24H", "all ", "<script>"] {
            assert_eq!(StatsRange::parse(Some(bad)), Err(InvalidRange(bad.into())));
        }
    }

    #[test]
    fn ranges_are_whole_buckets_ending_with_the_current_one() {
        let now = at(14, 5, 42);
        assert_eq!(StatsRange::LastHour.first_bucket(now), Some(at(13, 6, 0)));
        assert_eq!(
            StatsRange::LastDay.first_bucket(now),
            Some(Utc.with_ymd_and_hms(2026, 11, 21, 15, 0, 0).unwrap())
        );
        assert_eq!(
            StatsRange::LastWeek.first_bucket(now),
            Some(Utc.with_ymd_and_hms(2026, 11, 16, 0, 0, 0).unwrap())
        );
        assert_eq!(
            StatsRange::LastMonth.first_bucket(now),
            Some(Utc.with_ymd_and_hms(2026, 10, 24, 0, 0, 0).unwrap())
        );
        assert_eq!(StatsRange::AllTime.first_bucket(now), None);
        assert_eq!(StatsRange::LastWeek.span(), Some(TimeDelta::days(7)));
        assert_eq!(StatsRange::LastHour.span(), Some(TimeDelta::hours(1)));
        assert_eq!(StatsRange::AllTime.span(), None);
    }

    #[test]
    fn buckets_truncate_at_their_edges() {
        assert_eq!(Granularity::Minute.truncate(at(14, 5, 0)), at(14, 5, 0));
        assert_eq!(Granularity::Minute.truncate(at(14, 5, 59)), at(14, 5, 0));
        assert_eq!(Granularity::Hour.truncate(at(14, 59, 59)), at(14, 0, 0));
        assert_eq!(Granularity::Day.truncate(at(23, 59, 59)), at(0, 0, 0));
        assert_eq!(Granularity::Minute.label_in(at(14, 5, 0), Tz::UTC), "14:05");
        assert_eq!(Granularity::Day.label_in(at(0, 0, 0), Tz::UTC), "Nov 22");
    }

    #[test]
    fn local_days_and_hours_follow_summer_time() {
        let berlin = chrono_tz::Europe::Berlin;
        let utc = |d: u32, h: u32, m: u32| Utc.with_ymd_and_hms(2026, 10, d, h, m, 0).unwrap();
        // 25 October 2026: Berlin's clocks go back at 03:00 CEST (01:00 UTC);
        // the day runs from 22:00 UTC the day before to 23:00 UTC.
        assert_eq!(
            Granularity::Day.truncate_in(utc(25, 12, 0), berlin),
            utc(24, 22, 0)
        );
        assert_eq!(
            Granularity::Day.next_in(utc(24, 22, 0), berlin),
            utc(25, 23, 0)
        );
        // 02:30 comes twice: in the hour from 00:00 UTC, then from 01:00.
        assert_eq!(
            Granularity::Hour.truncate_in(utc(25, 0, 30), berlin),
            utc(25, 0, 0)
        );
        assert_eq!(
            Granularity::Hour.truncate_in(utc(25, 1, 30), berlin),
            utc(25, 1, 0)
        );
        assert_eq!(Granularity::Hour.label_in(utc(25, 1, 0), berlin), "02:00");
        assert_eq!(Granularity::Hour.label_in(utc(25, 0, 0), berlin), "02:00");
        // Kolkata is 5:30 ahead: its hours start at half past, UTC.
        let kolkata = chrono_tz::Asia::Kolkata;
        assert_eq!(
            Granularity::Hour.truncate_in(utc(25, 12, 10), kolkata),
            utc(25, 11, 30)
        );
        assert_eq!(
            StatsRange::LastWeek.first_bucket_in(utc(25, 12, 0), berlin),
            Some(utc(18, 22, 0))
        );
    }
}
