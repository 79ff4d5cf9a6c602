//! The dashboard's filters: `?f=page:/about&f=!country:DE` narrows every
//! number to the visits that have (or, after `!`, have not) a value. An
//! event's filter keeps the visitors who completed it: their page views and
//! events in the range.

use std::fmt;

use serde::Serialize;
use url::form_urlencoded::byte_serialize;

use crate::counting::visit::MAX_PATH_LEN;

/// What a filter can look at: the dimensions of the breakdowns, with the
/// names `visit_value` and `visit_dimensions` give them in SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Page,
    Source,
    Referrer,
    UtmSource,
    UtmMedium,
    UtmCampaign,
    UtmTerm,
    UtmContent,
    Country,
    Browser,
    Os,
    Device,
    Screen,
    Event,
}

impl Dimension {
    pub const ALL: [Self; 14] = [
        Self::Page,
        Self::Source,
        Self::Referrer,
        Self::UtmSource,
        Self::UtmMedium,
        Self::UtmCampaign,
        Self::UtmTerm,
        Self::UtmContent,
        Self::Country,
        Self::Browser,
        Self::Os,
        Self::Device,
        Self::Screen,
        Self::Event,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Page => "page",
            Self::Source => "source",
            Self::Referrer => "referrer",
            Self::UtmSource => "utm_source",
            Self::UtmMedium => "utm_medium",
            Self::UtmCampaign => "utm_campaign",
            Self::UtmTerm => "utm_term",
            Self::UtmContent => "utm_content",
            Self::Country => "country",
            Self::Browser => "browser",
            Self::Os => "os",
            Self::Device => "device",
            Self::Screen => "screen",
            Self::Event => "event",
        }
    }

    /// How a filter chip names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Page => "Page",
            Self::Source => "Source",
            Self::Referrer => "Referrer",
            Self::UtmSource => "Campaign source",
            Self::UtmMedium => "Campaign medium",
            Self::UtmCampaign => "Campaign",
            Self::UtmTerm => "Campaign term",
            Self::UtmContent => "Campaign content",
            Self::Country => "Country",
            Self::Browser => "Browser",
            Self::Os => "Operating system",
            Self::Device => "Device",
            Self::Screen => "Screen",
            Self::Event => "Event",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == name)
    }
}

/// One condition: the dimension has the value, or has not.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Filter {
    pub dimension: Dimension,
    pub value: String,
    pub negated: bool,
}

impl Filter {
    pub fn is(dimension: Dimension, value: &str) -> Self {
        Self {
            dimension,
            value: value.to_owned(),
            negated: false,
        }
    }

    /// "is" or "is not", for the chip.
    pub fn relation(&self) -> &'static str {
        if self.negated {
            "is not"
        } else {
            "is"
        }
    }
}

/// How the address writes it: `page:/about`, `!country:DE`.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let not = if self.negated { "!" } else { "" };
        write!(f, "{not}{}:{}", self.dimension.as_str(), self.value)
    }
}

/// A page holds at most this many filters; more is a mistake, not a question.
pub const MAX_FILTERS: usize = 10;
/// No value of any dimension is longer: paths are the longest.
const MAX_VALUE_BYTES: usize = MAX_PATH_LEN;

/// A `?f=` that is not a filter: the message says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidFilter(pub String);

/// The filters of a request, in one order whatever the address's, each once:
/// the same question is one cache entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Filters(Vec<Filter>);

impl Filters {
    pub fn parse<S: AsRef<str>>(values: &[S]) -> Result<Self, InvalidFilter> {
        let mut filters = Vec::new();
        for value in values {
            filters.push(parse_one(value.as_ref())?);
        }
        filters.sort();
        filters.dedup();
        if filters.len() > MAX_FILTERS {
            return Err(InvalidFilter(format!(
                "at most {MAX_FILTERS} filters (f=…) at once"
            )));
        }
        Ok(Self(filters))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Filter> {
        self.0.iter()
    }

    /// These filters and `filter`.
    pub fn with(&self, filter: Filter) -> Self {
        let mut filters = self.0.clone();
        filters.retain(|kept| (kept.dimension, &kept.value) != (filter.dimension, &filter.value));
        filters.push(filter);
        filters.sort();
        Self(filters)
    }

    /// These filters but `filter`.
    pub fn without(&self, filter: &Filter) -> Self {
        Self(
            self.0
                .iter()
                .filter(|kept| *kept != filter)
                .cloned()
                .collect(),
        )
    }

    /// `&f=…` for each, percent-encoded, to follow a link's other parameters.
    pub fn query(&self) -> String {
        self.0
            .iter()
            .map(|filter| {
                format!(
                    "&f={}",
                    byte_serialize(filter.to_string().as_bytes()).collect::<String>()
                )
            })
            .collect()
    }
}

fn parse_one(text: &str) -> Result<Filter, InvalidFilter> {
    let (negated, rest) = match text.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let invalid = |why: &str| InvalidFilter(format!("filter {text:?}: {why}"));
    let (name, value) = rest
        .split_once(':')
        .ok_or_else(|| invalid("write it dimension:value, as in page:/about or !country:DE"))?;
    let dimension = Dimension::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Dimension::ALL.iter().map(|d| d.as_str()).collect();
        invalid(&format!("the dimensions are {}", names.join(", ")))
    })?;
    if value.is_empty() {
        return Err(invalid("the value is empty"));
    }
    if value.len() > MAX_VALUE_BYTES {
        return Err(invalid(&format!(
            "the value is longer than {MAX_VALUE_BYTES} bytes"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid("the value holds a control character"));
    }
    Ok(Filter {
        dimension,
        value: value.to_owned(),
        negated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_in_one_order_each_once() {
        let filters = Filters::parse(&["country:DE", "!page:/admin", "country:DE"]).unwrap();
        let shown: Vec<String> = filters.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["!page:/admin", "country:DE"]);
        assert_eq!(
            filters,
            Filters::parse(&["!page:/admin", "country:DE"]).unwrap()
        );
        assert_eq!(filters.query(), "&f=%21page%3A%2Fadmin&f=country%3ADE");
    }

    #[test]
    fn a_value_may_hold_colons_and_bangs() {
        let filters = Filters::parse(&["utm_campaign:a:b!c"]).unwrap();
        let filter = filters.iter().next().unwrap();
        assert_eq!(
            (filter.dimension, filter.value.as_str()),
            (Dimension::UtmCampaign, "a:b!c")
        );
    }

    #[test]
    fn bad_filters_say_why() {
        for (bad, why) in [
            ("page", "dimension:value"),
            ("colour:red", "the dimensions are page, source"),
            ("page:", "empty"),
            ("!:x", "the dimensions are"),
            ("page:/a\nb", "control character"),
        ] {
            let error = Filters::parse(&[bad]).unwrap_err();
            assert!(error.0.contains(why), "{bad}: {error}");
        }
        let many: Vec<String> = (0..=MAX_FILTERS).map(|i| format!("page:/{i}")).collect();
        assert!(Filters::parse(&many).unwrap_err().0.contains("at most"));
    }

    #[test]
    fn a_filter_is_added_once_and_removed() {
        let filters = Filters::parse(&["page:/a"]).unwrap();
        let negated = Filter {
            negated: true,
            ..Filter::is(Dimension::Page, "/a")
        };
        let inverted = filters.with(negated.clone());
        assert_eq!(inverted.iter().collect::<Vec<_>>(), [&negated]);
        assert!(inverted.without(&negated).is_empty());
    }
}
