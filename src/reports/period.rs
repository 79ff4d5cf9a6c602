//! The periods a report covers: whole weeks (Monday to Sunday) and whole
//! calendar months in the site's time zone, and the one before each to
//! compare with.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::stats::range::local_midnight;

/// How often a report comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type)]
#[sqlx(type_name = "report_cadence", rename_all = "lowercase")]
pub enum Cadence {
    Weekly,
    Monthly,
}

/// From `start` (included) to `end` (excluded), local midnights of `zone`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub zone: Tz,
}

impl Period {
    /// The period's first day, as its site's calendar names it.
    pub fn first_day(self) -> NaiveDate {
        self.start.with_timezone(&self.zone).date_naive()
    }

    /// The period's last day, as its site's calendar names it.
    pub fn last_day(self) -> NaiveDate {
        self.end.with_timezone(&self.zone).date_naive() - Days::new(1)
    }
}

impl Cadence {
    pub const ALL: [Self; 2] = [Self::Weekly, Self::Monthly];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
        }
    }

    /// The start of the period that holds `day`.
    fn start_of(self, day: NaiveDate) -> NaiveDate {
        match self {
            Self::Weekly => day - Days::new(u64::from(day.weekday().num_days_from_monday())),
            Self::Monthly => day.with_day(1).expect("every month has a first day"),
        }
    }

    /// The period that starts on `start` in `zone`.
    fn period_from(self, start: NaiveDate, zone: Tz) -> Period {
        let end = match self {
            Self::Weekly => start + Days::new(7),
            Self::Monthly => start + Months::new(1),
        };
        Period {
            start: local_midnight(start, zone),
            end: local_midnight(end, zone),
            zone,
        }
    }

    /// The latest period that has ended at `now` in `zone`: the report due.
    pub fn last_complete(self, now: DateTime<Utc>, zone: Tz) -> Period {
        let current = self.start_of(now.with_timezone(&zone).date_naive());
        self.period_from(self.start_of(current - Days::new(1)), zone)
    }

    /// The period that starts at `start` in `zone` (a claimed report's).
    pub fn starting(self, start: DateTime<Utc>, zone: Tz) -> Period {
        self.period_from(start.with_timezone(&zone).date_naive(), zone)
    }

    /// The period just before `period`, of the same length in weeks or in
    /// calendar months.
    pub fn previous(self, period: Period) -> Period {
        let day_before = period.first_day() - Days::new(1);
        self.period_from(self.start_of(day_before), period.zone)
    }

    /// "the week of 30 November 2026" or "November 2026".
    pub fn label(self, period: Period) -> String {
        let first_day = period.first_day();
        match self {
            Self::Weekly => format!("the week of {}", first_day.format("%-d %B %Y")),
            Self::Monthly => first_day.format("%B %Y").to_string(),
        }
    }

    /// How the period before is named next to a change.
    pub fn previous_label(self) -> &'static str {
        match self {
            Self::Weekly => "the week before",
            Self::Monthly => "the month before",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn the_report_due_covers_the_last_whole_week() {
        // A Monday just after midnight, and the Sunday before it.
        let monday = Cadence::Weekly.last_complete(at("2026-12-07T00:00:01Z"), Tz::UTC);
        assert_eq!(monday.start, at("2026-11-30T00:00:00Z"));
        assert_eq!(monday.end, at("2026-12-07T00:00:00Z"));
        let sunday = Cadence::Weekly.last_complete(at("2026-12-06T23:59:59Z"), Tz::UTC);
        assert_eq!(sunday.start, at("2026-11-23T00:00:00Z"));
        assert_eq!(
            Cadence::Weekly.label(monday),
            "the week of 30 November 2026"
        );
        let before = Cadence::Weekly.previous(monday);
        assert_eq!((before.start, before.end), (sunday.start, sunday.end));
    }

    #[test]
    fn the_report_due_covers_the_last_whole_month() {
        let january = Cadence::Monthly.last_complete(at("2027-02-01T08:00:00Z"), Tz::UTC);
        assert_eq!(january.start, at("2027-01-01T00:00:00Z"));
        assert_eq!(january.end, at("2027-02-01T00:00:00Z"));
        let march = Cadence::Monthly.last_complete(at("2024-04-30T12:00:00Z"), Tz::UTC);
        let february = Cadence::Monthly.previous(march);
        assert_eq!(february.start, at("2024-02-01T00:00:00Z"));
        assert_eq!(february.end, at("2024-03-01T00:00:00Z"));
        let december = Cadence::Monthly.last_complete(at("2027-01-15T00:00:00Z"), Tz::UTC);
        assert_eq!(Cadence::Monthly.label(december), "December 2026");
    }

    #[test]
    fn a_sites_week_starts_at_its_own_monday_midnight() {
        // Sunday 15:30 UTC is already Monday 00:30 in Tokyo (UTC+9).
        let week = Cadence::Weekly.last_complete(at("2026-12-06T15:30:00Z"), Tz::Asia__Tokyo);
        assert_eq!(week.start, at("2026-11-29T15:00:00Z"));
        assert_eq!(week.end, at("2026-12-06T15:00:00Z"));
        assert_eq!(Cadence::Weekly.label(week), "the week of 30 November 2026");
        assert_eq!(week.last_day().to_string(), "2026-12-06");
        // The same instant in UTC is still in that week.
        let utc = Cadence::Weekly.last_complete(at("2026-12-06T15:30:00Z"), Tz::UTC);
        assert_eq!(utc.start, at("2026-11-23T00:00:00Z"));
    }

    #[test]
    fn a_month_across_a_summer_time_change_is_the_sites_calendar_month() {
        // New York moves from UTC-5 to UTC-4 on 8 March 2026.
        let zone = Tz::America__New_York;
        let march = Cadence::Monthly.last_complete(at("2026-04-01T12:00:00Z"), zone);
        assert_eq!(march.start, at("2026-03-01T05:00:00Z"));
        assert_eq!(march.end, at("2026-04-01T04:00:00Z"));
        assert_eq!(Cadence::Monthly.label(march), "March 2026");
        assert_eq!(march.last_day().to_string(), "2026-03-31");
        let february = Cadence::Monthly.previous(march);
        assert_eq!(february.start, at("2026-02-01T05:00:00Z"));
        assert_eq!(february.end, march.start);
        // 1 April 03:00 UTC is still 31 March there: March is not over.
        let due = Cadence::Monthly.last_complete(at("2026-04-01T03:00:00Z"), zone);
        assert_eq!(due, february);
        assert_eq!(Cadence::Monthly.starting(march.start, zone), march);
    }
}
