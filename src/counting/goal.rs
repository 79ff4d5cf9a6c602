//! A site's goal: a custom event's name, or a page's path, exact or ending
//! in `*` for every path that starts with what precedes it. Its converters
//! are the unique visitors who completed it, its completions the events or
//! page views that did.

use serde::{Deserialize, Serialize};

use crate::counting::{
    details::{DetailError, DetailText},
    visit::canonical_page,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "goal_kind", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum GoalKind {
    Event,
    Page,
}

impl GoalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Event => "event",
            Self::Page => "page",
        }
    }
}

/// A goal as stored: its kind and its pattern, in the spelling hits are
/// stored in (a page's path percent-encoded, as `canonical_page` makes it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, sqlx::FromRow)]
pub struct Goal {
    pub kind: GoalKind,
    pub pattern: String,
}

/// Why a goal was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GoalError {
    #[error("the event name: {0}")]
    Event(#[from] DetailError),
    #[error("an event needs a name")]
    EmptyEvent,
    #[error(
        "the page must be a path like /pricing, or one ending in * like /blog/* (a * only at the end)"
    )]
    Page,
}

impl Goal {
    /// A goal from what an operator typed.
    pub fn parse(kind: GoalKind, pattern: &str) -> Result<Self, GoalError> {
        let pattern = match kind {
            GoalKind::Event => DetailText::parse("the event name", pattern)?
                .ok_or(GoalError::EmptyEvent)?
                .to_string(),
            GoalKind::Page => {
                let trimmed = pattern.trim();
                let (path, wildcard) = match trimmed.strip_suffix('*') {
                    Some(prefix) => (prefix, true),
                    None => (trimmed, false),
                };
                if path.contains('*') {
                    return Err(GoalError::Page);
                }
                let mut path = canonical_page(path).ok_or(GoalError::Page)?;
                if wildcard {
                    path.push('*');
                }
                path
            }
        };
        Ok(Self { kind, pattern })
    }

    /// For a page goal ending in `*`, the path every matching page starts
    /// with.
    pub fn page_prefix(&self) -> Option<&str> {
        match self.kind {
            GoalKind::Page => self.pattern.strip_suffix('*'),
            GoalKind::Event => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goals_are_stored_as_hits_are() {
        let page = |text| Goal::parse(GoalKind::Page, text);
        assert_eq!(page("/pricing").unwrap().pattern, "/pricing");
        assert_eq!(page(" /blog/* ").unwrap().pattern, "/blog/*");
        assert_eq!(page("/blog/*").unwrap().page_prefix(), Some("/blog/"));
        assert_eq!(page("/pricing").unwrap().page_prefix(), None);
        assert_eq!(page("/café").unwrap().pattern, "/caf%C3%A9");
        for refused in ["pricing", "/a*/b", "*", "//evil.example/x", ""] {
            assert_eq!(page(refused), Err(GoalError::Page), "{refused:?}");
        }
        let event = |text| Goal::parse(GoalKind::Event, text);
        assert_eq!(event(" Signup ").unwrap().pattern, "Signup");
        assert_eq!(event(" "), Err(GoalError::EmptyEvent));
        assert!(event("a\nb").is_err());
    }
}
