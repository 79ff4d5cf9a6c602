//! The periods a report covers: whole weeks (Monday to Sunday) and whole
//! calendar months, in UTC, and the one before each to compare with.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};

/// How often a report comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type)]
#[sqlx(type_name = "report_cadence", rename_all = "lowercase")]
pub enum Cadence {
    Weekly,
    Monthly,
}

/// From `start` (included) to `end` (excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
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

    /// The period that starts on `start`.
    fn period_from(self, start: NaiveDate) -> Period {
        let end = match self {
            Self::Weekly => start + Days::new(7),
            Self::Monthly => start + Months::new(1),
        };
        Period {
            start: midnight(start),
            end: midnight(end),
        }
    }

    /// The latest period that has ended at `now`: the report due.
    pub fn last_complete(self, now: DateTime<Utc>) -> Period {
        let current = self.start_of(now.date_naive());
        self.period_from(self.start_of(current - Days::new(1)))
    }

    /// The period that starts at `start` (a claimed report's).
    pub fn starting(self, start: DateTime<Utc>) -> Period {
        self.period_from(start.date_naive())
    }

    /// The period just before `period`, of the same length in weeks or in
    /// calendar months.
    pub fn previous(self, period: Period) -> Period {
        self.period_from(self.start_of(period.start.date_naive() - Days::new(1)))
    }

    /// "the week of 30 November 2026" or "November 2026".
    pub fn label(self, period: Period) -> String {
        match self {
            Self::Weekly => format!("the week of {}", period.start.format("%-d %B %Y")),
            Self::Monthly => period.start.format("%B %Y").to_string(),
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
        let monday = Cadence::Weekly.last_complete(at("2026-12-07T00:00:01Z"));
        assert_eq!(monday.start, at("2026-11-30T00:00:00Z"));
        assert_eq!(monday.end, at("2026-12-07T00:00:00Z"));
        let sunday = Cadence::Weekly.last_complete(at("2026-12-06T23:59:59Z"));
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
        let january = Cadence::Monthly.last_complete(at("2027-02-01T08:00:00Z"));
        assert_eq!(january.start, at("2027-01-01T00:00:00Z"));
        assert_eq!(january.end, at("2027-02-01T00:00:00Z"));
        let march = Cadence::Monthly.last_complete(at("2024-04-30T12:00:00Z"));
        let february = Cadence::Monthly.previous(march);
        assert_eq!(february.start, at("2024-02-01T00:00:00Z"));
        assert_eq!(february.end, at("2024-03-01T00:00:00Z"));
        let december = Cadence::Monthly.last_complete(at("2027-01-15T00:00:00Z"));
        assert_eq!(Cadence::Monthly.label(december), "December 2026");
    }
}
