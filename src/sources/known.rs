//! Well-known referring hosts grouped under one name (`www.google.de` and
//! `google.com` are Google, `t.co` is X), from Ghost's maintained list
//! (`assets/referrers/`, MIT), embedded in the binary.

use std::collections::HashMap;

use serde::Deserialize;

const KNOWN_REFERRERS: &str = include_str!("../../assets/referrers/referrers.json");

/// Names the list gives that are known by another name today.
const RENAMED: &[(&str, &str)] = &[("Twitter", "X")];

#[derive(Deserialize)]
struct Entry {
    source: String,
}

/// Host → source name.
pub struct KnownSources(HashMap<String, String>);

impl KnownSources {
    pub fn load() -> Self {
        let entries: HashMap<String, Entry> =
            serde_json::from_str(KNOWN_REFERRERS).expect("the embedded referrer list is JSON");
        Self(
            entries
                .into_iter()
                .map(|(host, entry)| {
                    let source = RENAMED
                        .iter()
                        .find(|(old, _)| *old == entry.source)
                        .map_or(entry.source, |(_, new)| (*new).to_owned());
                    (host, source)
                })
                .collect(),
        )
    }

    /// The name of the source `host` belongs to: the host itself, or its
    /// parent domains (`news.google.com` → `google.com`), looked up in the
    /// list; `None` when it is not a known one.
    pub fn name_of(&self, host: &str) -> Option<&str> {
        let mut candidate = host;
        loop {
            if let Some(name) = self.0.get(candidate) {
                return Some(name);
            }
            let (_, parent) = candidate.split_once('.')?;
            // Never a bare top-level domain ("com").
            if !parent.contains('.') {
                return None;
            }
            candidate = parent;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::KnownSources;

    #[test]
    fn well_known_hosts_are_grouped_under_one_name() {
        let known = KnownSources::load();
        for (host, name) in [
            ("www.google.com", "Google"),
            ("google.de", "Google"),
            ("www.google.de", "Google"),
            ("t.co", "X"),
            ("x.com", "X"),
            ("news.ycombinator.com", "Hacker News"),
            ("com.google.android.gm", "Gmail"),
            ("old.reddit.com", "Reddit"),
        ] {
            assert_eq!(known.name_of(host), Some(name), "{host}");
        }
        assert_eq!(known.name_of("blog.example.org"), None);
        assert_eq!(known.name_of("com"), None);
    }
}
