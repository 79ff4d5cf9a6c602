//! The version baked in by `build.rs`: what `/version`, the page footer and
//! the `visitors_build_info` metric report.

use serde::Serialize;

/// What `/version` reports and the dashboard shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildInfo {
    /// `version.txt`, plus `+<build>` as SemVer build metadata when built by CI.
    pub version: String,
    pub build: Option<u64>,
    pub commit: Option<String>,
}

impl BuildInfo {
    /// The version of this binary.
    pub fn current() -> Self {
        Self::new(
            env!("VISITORS_VERSION_BASE"),
            env!("VISITORS_BUILD_NUMBER"),
            env!("VISITORS_COMMIT"),
        )
    }

    /// `build` and `commit` are empty when the build did not set them;
    /// `build.rs` has already checked that a non-empty build is an integer.
    fn new(base: &str, build: &str, commit: &str) -> Self {
        let build = build.parse::<u64>().ok();
        let version = match build {
            Some(build) => format!("{base}+{build}"),
            None => base.to_owned(),
        };
        let commit = (!commit.is_empty()).then(|| commit.to_owned());
        Self {
            version,
            build,
            commit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::BuildInfo;

    #[test]
    fn a_build_number_becomes_semver_build_metadata() {
        let info = BuildInfo::new("1.4.0", "57", "abc123");
        assert_eq!(info.version, "1.4.0+57");
        assert_eq!(info.build, Some(57));
        assert_eq!(info.commit.as_deref(), Some("abc123"));
    }

    #[test]
    fn without_a_build_number_the_version_is_version_txt() {
        let info = BuildInfo::new("1.4.0", "", "");
        assert_eq!(info.version, "1.4.0");
        assert_eq!(info.build, None);
        assert_eq!(info.commit, None);
    }

    #[test]
    fn the_current_version_starts_with_version_txt() {
        let base = include_str!("../../version.txt").trim();
        let info = BuildInfo::current();
        let expected = match option_env!("BUILD_NUMBER").filter(|b| !b.trim().is_empty()) {
            Some(build) => format!("{base}+{}", build.trim()),
            None => base.to_owned(),
        };
        assert_eq!(info.version, expected);
    }
}
