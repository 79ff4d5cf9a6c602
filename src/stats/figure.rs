//! A number beside the same number over the period before, and how its
//! change reads: the dashboard's cards and the email reports say it alike.

/// A number and the same number over the period before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figure {
    pub now: i64,
    pub before: i64,
}

impl Figure {
    /// "↑ 50 %", "↓ 10 %", "no change", or "new" when there was nothing before.
    pub fn change(&self) -> String {
        if self.now == self.before {
            return "no change".into();
        }
        if self.before == 0 {
            return "new".into();
        }
        let percent = ((self.now - self.before) as f64 / self.before as f64 * 100.0).round();
        if percent >= 0.0 {
            format!("↑ {percent} %")
        } else {
            format!("↓ {} %", -percent)
        }
    }

    /// `up`, `down` or `same`.
    pub fn direction(&self) -> &'static str {
        match self.now.cmp(&self.before) {
            std::cmp::Ordering::Greater => "up",
            std::cmp::Ordering::Less => "down",
            std::cmp::Ordering::Equal => "same",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_an_arrow_and_a_rounded_percentage() {
        let figure = |now, before| Figure { now, before };
        let change = |now, before| figure(now, before).change();
        assert_eq!(change(3, 2), "↑ 50 %");
        assert_eq!(change(9, 10), "↓ 10 %");
        assert_eq!(change(2, 3), "↓ 33 %");
        assert_eq!(change(4, 4), "no change");
        assert_eq!(change(4, 0), "new");
        assert_eq!(change(0, 4), "↓ 100 %");
        assert_eq!(
            [figure(4, 0), figure(0, 4), figure(0, 0)].map(|f| f.direction()),
            ["up", "down", "same"]
        );
    }
}
