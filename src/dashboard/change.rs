//! How a headline number compares with the previous period: "↑ 12 %".

use crate::stats::{figure::Figure, model::PreviousPeriod, Stats};

/// One number's change, as its card shows it.
#[derive(Debug, PartialEq, Eq)]
pub struct Change {
    /// `↑ 12 %`, `↓ 3 %`, `no change`, `new` (`Figure::change`).
    pub text: String,
    /// `up`, `down` or `same`, for the colour.
    pub direction: &'static str,
    /// What it was compared with, for the tooltip.
    pub title: String,
}

impl Change {
    fn new(figure: Figure, period: &PreviousPeriod) -> Self {
        Self {
            text: figure.change(),
            direction: figure.direction(),
            title: format!(
                "{} from {} to {} UTC",
                figure.before,
                period.from.format("%Y-%m-%d %H:%M"),
                period.to.format("%Y-%m-%d %H:%M")
            ),
        }
    }
}

/// The headline numbers' changes; none without a previous period.
#[derive(Default)]
pub struct Changes {
    pub unique_visitors: Option<Change>,
    pub visits: Option<Change>,
}

impl Changes {
    pub fn of(stats: &Stats) -> Self {
        let Some(previous) = &stats.previous else {
            return Self::default();
        };
        let figure = |now, before| Some(Change::new(Figure { now, before }, previous));
        Self {
            unique_visitors: figure(stats.unique_visitors, previous.unique_visitors),
            visits: figure(stats.visits, previous.visits),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::range::at;

    #[test]
    fn a_change_says_what_it_compares_with() {
        let period = PreviousPeriod {
            from: at(0, 0, 0),
            to: at(12, 0, 0),
            unique_visitors: 2,
            visits: 2,
            series: Vec::new(),
        };
        let change = Change::new(Figure { now: 1, before: 2 }, &period);
        assert_eq!((change.text.as_str(), change.direction), ("↓ 50 %", "down"));
        assert_eq!(
            change.title,
            "2 from 2026-11-22 00:00 to 2026-11-22 12:00 UTC"
        );
    }
}
