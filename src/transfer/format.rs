//! The CSV of a site's counts, one row per bucket and dimension value:
//!
//! ```text
//! time,granularity,dimension,value,unique_visitors,visits
//! 2026-11-30T00:00:00Z,day,total,,120,340
//! 2026-11-30T00:00:00Z,day,page,/about,31,40
//! 2026-11-30T00:00:00Z,day,browser,Firefox,22,
//! ```
//!
//! RFC 4180 quoting (the `csv` crate), UTC times. `unique_visitors` are the
//! distinct visitors of that bucket (and value); `visits` are kept for the
//! total and pages. A cell that a spreadsheet would run as a formula is
//! written with a leading `'`, which reading takes off again.

use chrono::{DateTime, Timelike, Utc};

use crate::{
    counting::{
        country::CountryCode,
        details::{DetailText, ScreenClass},
    },
    stats::range::Granularity,
};

pub const HEADER: [&str; 6] = [
    "time",
    "granularity",
    "dimension",
    "value",
    "unique_visitors",
    "visits",
];

/// Dimensions a row can be about; `total` is the bucket's own count.
pub const DIMENSIONS: [&str; 15] = [
    "total",
    "page",
    "browser",
    "os",
    "device",
    "referrer",
    "country",
    "source",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "screen",
    "event",
];

const MAX_VALUE_LEN: usize = 1024;

/// One row of the file.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CountRow {
    pub time: DateTime<Utc>,
    pub granularity: String,
    pub dimension: String,
    pub value: String,
    pub unique_visitors: i64,
    pub visits: Option<i64>,
}

/// Cells a spreadsheet would run as a formula, and those that start with
/// the guard itself (so that reading can always take one off).
fn needs_guard(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r', '\''])
}

fn guard(cell: &str) -> String {
    if needs_guard(cell) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

fn unguard(cell: &str) -> &str {
    cell.strip_prefix('\'').unwrap_or(cell)
}

/// The first day a file may hold: older ones are a mistake (a year typed
/// wrong), and would make every all-time range span millennia.
fn earliest_day() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("1990-01-01T00:00:00Z")
        .expect("a valid time")
        .to_utc()
}

/// The header line.
pub fn header_line() -> String {
    line(HEADER.iter().map(|s| s.to_string()))
}

fn line(cells: impl IntoIterator<Item = String>) -> String {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer
        .write_record(cells.into_iter().collect::<Vec<_>>())
        .expect("writing to memory cannot fail");
    String::from_utf8(writer.into_inner().expect("flushing to memory cannot fail"))
        .expect("the cells are UTF-8")
}

impl CountRow {
    /// The row as one CSV line, CRLF-terminated.
    pub fn to_line(&self) -> String {
        line([
            self.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            self.granularity.clone(),
            self.dimension.clone(),
            guard(&self.value),
            self.unique_visitors.to_string(),
            self.visits.map(|v| v.to_string()).unwrap_or_default(),
        ])
    }
}

/// Why a file was refused; `line` counts from 1, the header included.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct InvalidFile {
    pub line: u64,
    pub reason: String,
}

/// Reads the daily rows of a file, checking every one; the first problem
/// refuses the whole file. Only days before `now`'s (UTC) can be imported:
/// today is still being counted here, and later days cannot have been.
pub fn read_daily_rows(text: &[u8], now: DateTime<Utc>) -> Result<Vec<CountRow>, InvalidFile> {
    let today = Granularity::Day.truncate(now);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text);
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (index, record) in reader.records().enumerate() {
        let line = index as u64 + 1;
        let refuse = |reason: String| InvalidFile { line, reason };
        let record = record.map_err(|error| refuse(format!("not CSV: {error}")))?;
        if line == 1 {
            if record.iter().ne(HEADER) {
                return Err(refuse(format!("the header must be {}", HEADER.join(","))));
            }
            continue;
        }
        if record.len() != HEADER.len() {
            return Err(refuse(format!(
                "{} cells, not {}",
                record.len(),
                HEADER.len()
            )));
        }
        let time = DateTime::parse_from_rfc3339(&record[0])
            .map_err(|_| refuse(format!("{:?} is not an RFC 3339 time", &record[0])))?
            .to_utc();
        if time.num_seconds_from_midnight() != 0 || time.nanosecond() != 0 {
            return Err(refuse(format!(
                "{:?} is not the start of a UTC day",
                &record[0]
            )));
        }
        if time < earliest_day() || time >= today {
            return Err(refuse(format!(
                "{:?} is before 1990, or not before today (UTC)",
                &record[0]
            )));
        }
        if &record[1] != "day" {
            return Err(refuse(
                "only daily rows (granularity day) can be imported".into(),
            ));
        }
        let dimension = &record[2];
        if !DIMENSIONS.contains(&dimension) {
            return Err(refuse(format!(
                "unknown dimension {dimension:?} (one of {})",
                DIMENSIONS.join(", ")
            )));
        }
        let value = unguard(&record[3]);
        if value.chars().any(char::is_control) {
            return Err(refuse("the value holds a control character".into()));
        }
        match dimension {
            "total" if !value.is_empty() => {
                return Err(refuse("a total has an empty value".into()))
            }
            "page" if !value.starts_with('/') => {
                return Err(refuse(format!("the page {value:?} is not a path")))
            }
            "country" if CountryCode::parse(value).is_none_or(|code| code.as_str() != value) => {
                return Err(refuse(format!(
                    "the country {value:?} is not a two-letter code"
                )))
            }
            "screen" if !matches!(ScreenClass::parse(value), Ok(Some(_))) => {
                return Err(refuse(format!(
                    "the screen {value:?} is not mobile, tablet, laptop or desktop"
                )))
            }
            "source" | "utm_source" | "utm_medium" | "utm_campaign" | "utm_term"
            | "utm_content" | "event"
                if !matches!(DetailText::parse("the value", value), Ok(Some(text)) if text.as_str() == value) =>
            {
                return Err(refuse(format!(
                    "the {dimension} {value:?} is not stored so (trimmed, at most 100 characters)"
                )))
            }
            "total" => {}
            _ if value.is_empty() || value.len() > MAX_VALUE_LEN => {
                return Err(refuse("the value must be 1 to 1024 bytes".into()))
            }
            _ => {}
        }
        let count = |cell: &str, name: &str| {
            cell.parse::<u32>()
                .map(i64::from)
                .map_err(|_| refuse(format!("{name} {cell:?} is not a whole number")))
        };
        let unique_visitors = count(&record[4], "unique_visitors")?;
        let visits = match (dimension, &record[5]) {
            ("total" | "page" | "event", cell) => Some(count(cell, "visits")?),
            (_, "") => None,
            _ => return Err(refuse(format!("{dimension} rows have no visits"))),
        };
        if visits.is_some_and(|visits| unique_visitors > visits) {
            return Err(refuse("more unique visitors than visits".into()));
        }
        if !seen.insert((time, dimension.to_owned(), value.to_owned())) {
            return Err(refuse("the same day and value twice".into()));
        }
        rows.push(CountRow {
            time,
            granularity: "day".into(),
            dimension: dimension.to_owned(),
            value: value.to_owned(),
            unique_visitors,
            visits,
        });
    }
    if rows.is_empty() {
        return Err(InvalidFile {
            line: 1,
            reason: "no rows".into(),
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn row(dimension: &str, value: &str, visits: Option<i64>) -> CountRow {
        CountRow {
            time: Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap(),
            granularity: "day".into(),
            dimension: dimension.into(),
            value: value.into(),
            unique_visitors: 3,
            visits,
        }
    }

    #[test]
    fn rows_survive_writing_and_reading() {
        let rows = vec![
            row("total", "", Some(5)),
            row("page", "/a \"quoted\", page", Some(4)),
            row("browser", "=HYPERLINK(\"x\")", None),
            row("referrer", "'quoted", None),
        ];
        let mut text = header_line();
        for r in &rows {
            text.push_str(&r.to_line());
        }
        assert!(text.contains("'=HYPERLINK"), "{text}");
        assert!(text.contains("\"/a \"\"quoted\"\", page\""), "{text}");
        assert_eq!(read_daily_rows(text.as_bytes(), Utc::now()).unwrap(), rows);
    }

    #[test]
    fn today_cannot_be_imported_only_the_days_before() {
        let now = DateTime::parse_from_rfc3339("2026-12-04T15:30:00Z")
            .unwrap()
            .to_utc();
        let file = |day: &str| format!("{}{day},day,total,,2,3\r\n", header_line());
        let today = read_daily_rows(file("2026-12-04T00:00:00Z").as_bytes(), now).unwrap_err();
        assert!(today.reason.contains("not before today"), "{today}");
        assert_eq!(
            read_daily_rows(file("2026-12-03T00:00:00Z").as_bytes(), now)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn a_bad_line_refuses_the_file_with_its_number() {
        let file = |body: &str| format!("{}{body}", header_line());
        let err = |body: &str| read_daily_rows(file(body).as_bytes(), Utc::now()).unwrap_err();
        assert_eq!(err("2026-11-30T00:00:00Z,day,total,,1,x\r\n").line, 2);
        let e =
            err("2026-11-30T00:00:00Z,day,total,,1,1\r\n2026-11-30T05:00:00Z,day,total,,1,1\r\n");
        assert_eq!(e.line, 3);
        assert!(e.reason.contains("start of a UTC day"));
        assert!(err("2026-11-30T00:00:00Z,hour,total,,1,1\r\n")
            .reason
            .contains("daily"));
        assert!(err("2026-11-30T00:00:00Z,day,colour,red,1,\r\n")
            .reason
            .contains("dimension"));
        assert!(err("2026-11-30T00:00:00Z,day,page,about,1,1\r\n")
            .reason
            .contains("path"));
        assert!(err("2026-11-30T00:00:00Z,day,os,Linux,1,4\r\n")
            .reason
            .contains("no visits"));
        assert!(err(
            "2026-11-30T00:00:00Z,day,total,,1,1\r\n2026-11-30T00:00:00Z,day,total,,2,2\r\n"
        )
        .reason
        .contains("twice"));
        assert!(err("0001-01-01T00:00:00Z,day,total,,1,1\r\n")
            .reason
            .contains("1990"));
        assert!(err("2999-01-01T00:00:00Z,day,total,,1,1\r\n")
            .reason
            .contains("not before today"));
        assert!(err("2026-11-30T00:00:00Z,day,total,,5,4\r\n")
            .reason
            .contains("more unique"));
        assert!(err("2026-11-30T00:00:00Z,day,os,\"a\nb\",1,\r\n")
            .reason
            .contains("control"));
        assert!(err("2026-11-30T00:00:00Z,day,country,Germany,1,\r\n")
            .reason
            .contains("two-letter"));
        assert!(err("2026-11-30T00:00:00Z,day,screen,1920,1,\r\n")
            .reason
            .contains("laptop"));
        let long = "x".repeat(101);
        assert!(err(&format!(
            "2026-11-30T00:00:00Z,day,utm_campaign,{long},1,\r\n"
        ))
        .reason
        .contains("at most 100"));
        let now = Utc::now();
        assert!(read_daily_rows(b"a,b\r\n", now)
            .unwrap_err()
            .reason
            .contains("header"));
        assert!(read_daily_rows(header_line().as_bytes(), now)
            .unwrap_err()
            .reason
            .contains("no rows"));
    }
}
