//! What a hit says beyond its page, as it is stored: where the visitor came
//! from (a source, the five UTM fields), the class of the window's width,
//! and for a custom event its name. Every value is cut at
//! `MAX_DETAIL_CHARS` (a long campaign value is still the campaign); one
//! with control or invisible characters, or a width class that is not one,
//! is refused, before anything is stored.

use std::fmt;

/// The longest source, UTM value or event name stored, in characters.
pub const MAX_DETAIL_CHARS: usize = 100;

/// A short text of a hit (a source, a UTM value, an event name), trimmed,
/// non-empty, cut at `MAX_DETAIL_CHARS` characters, without control or
/// invisible formatting characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DetailText(String);

/// Why a hit's detail was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DetailError {
    #[error("{0} holds a control character")]
    Control(&'static str),
    #[error("{0} is not one of mobile, tablet, laptop, desktop")]
    Screen(&'static str),
    #[error("r is not a referrer's address")]
    Referrer,
}

impl DetailText {
    /// `None` for an empty (or blank) value: it says nothing.
    pub fn parse(field: &'static str, raw: &str) -> Result<Option<Self>, DetailError> {
        let text = raw.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if text.chars().any(|c| c.is_control() || is_invisible(c)) {
            return Err(DetailError::Control(field));
        }
        let cut = text
            .char_indices()
            .nth(MAX_DETAIL_CHARS)
            .map_or(text, |(end, _)| text[..end].trim_end());
        Ok(Some(Self(cut.to_owned())))
    }

    /// A value made by the server itself (a known source's name, a host).
    pub fn trusted(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DetailText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Bidirectional overrides and zero-width characters, which would make a
/// stored value read differently from what it is.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// The campaign of a visit: `utm_source`, `utm_medium`, `utm_campaign`,
/// `utm_term` and `utm_content` of the page's address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Utm {
    pub source: Option<DetailText>,
    pub medium: Option<DetailText>,
    pub campaign: Option<DetailText>,
    pub term: Option<DetailText>,
    pub content: Option<DetailText>,
}

/// The page's width (the window's, in CSS pixels), coarsely: what the
/// script sends, nothing finer. Called the screen on the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScreenClass {
    /// Under 576 CSS pixels.
    Mobile,
    /// Under 992.
    Tablet,
    /// Under 1440.
    Laptop,
    Desktop,
}

impl ScreenClass {
    pub fn parse(raw: &str) -> Result<Option<Self>, DetailError> {
        match raw.trim() {
            "" => Ok(None),
            "mobile" => Ok(Some(Self::Mobile)),
            "tablet" => Ok(Some(Self::Tablet)),
            "laptop" => Ok(Some(Self::Laptop)),
            "desktop" => Ok(Some(Self::Desktop)),
            _ => Err(DetailError::Screen("w")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mobile => "mobile",
            Self::Tablet => "tablet",
            Self::Laptop => "laptop",
            Self::Desktop => "desktop",
        }
    }
}

/// A hit's details; all empty for the instance's own page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HitDetails {
    /// Where the visitor came from: a known referrer's name, the referring
    /// host, a `utm_source`/`ref`/`source` given by the page, or
    /// `DIRECT` when the page says it was opened without a referrer.
    pub source: Option<DetailText>,
    pub utm: Utm,
    pub screen: Option<ScreenClass>,
    /// A custom event's name: the hit is an event, not a page view.
    pub event: Option<DetailText>,
}

/// The source of a visit that came with no referrer (typed, bookmarked).
pub const DIRECT: &str = "Direct / none";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_trimmed_bounded_and_visible() {
        assert_eq!(DetailText::parse("e", "  "), Ok(None));
        assert_eq!(
            DetailText::parse("e", " Signup ")
                .unwrap()
                .unwrap()
                .as_str(),
            "Signup"
        );
        let long = "é".repeat(MAX_DETAIL_CHARS + 1);
        assert_eq!(
            DetailText::parse("e", &long).unwrap().unwrap().as_str(),
            "é".repeat(MAX_DETAIL_CHARS),
            "cut, on a character's boundary"
        );
        assert_eq!(
            DetailText::parse("e", "a\nb"),
            Err(DetailError::Control("e"))
        );
        assert_eq!(
            DetailText::parse("e", "a\u{202E}b"),
            Err(DetailError::Control("e"))
        );
    }

    #[test]
    fn only_the_four_screen_classes_are_taken() {
        assert_eq!(ScreenClass::parse("laptop"), Ok(Some(ScreenClass::Laptop)));
        assert_eq!(ScreenClass::parse(""), Ok(None));
        assert!(ScreenClass::parse("1920x1080").is_err());
    }
}
