//! Bakes the version into the binary so that `/version` does not depend on the
//! working directory or on the runtime environment: `version.txt` holds the
//! SemVer base, and the CI pipeline passes `BUILD_NUMBER` (and `VCS_REF`) at
//! build time.

use std::{env, fs};

fn main() {
    println!("cargo:rerun-if-changed=version.txt");
    // sqlx::migrate! embeds migrations/ but does not tell cargo to watch it.
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=assets");
    println!("cargo:rerun-if-env-changed=BUILD_NUMBER");
    println!("cargo:rerun-if-env-changed=VCS_REF");

    let base = fs::read_to_string("version.txt").expect("version.txt must exist at the crate root");
    let base = base.trim();
    assert!(
        is_semver_core(base),
        "version.txt must hold a SemVer version such as 1.2.3, found {base:?}"
    );
    println!("cargo:rustc-env=VISITORS_VERSION_BASE={base}");

    let build = non_empty_env("BUILD_NUMBER");
    if let Some(build) = &build {
        assert!(
            build.parse::<u64>().is_ok(),
            "BUILD_NUMBER must be a non-negative integer, found {build:?}"
        );
    }
    println!(
        "cargo:rustc-env=VISITORS_BUILD_NUMBER={}",
        build.unwrap_or_default()
    );

    let commit = non_empty_env("VCS_REF").unwrap_or_default();
    assert!(
        commit.chars().all(|c| c.is_ascii_alphanumeric()),
        "VCS_REF must be a commit id, found {commit:?}"
    );
    println!("cargo:rustc-env=VISITORS_COMMIT={commit}");
}

fn non_empty_env(name: &str) -> Option<String> {
    env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// `MAJOR.MINOR.PATCH` with an optional `-prerelease`; build metadata is ours to add.
fn is_semver_core(version: &str) -> bool {
    let core = version.split_once('-').map_or(version, |(core, _)| core);
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && !version.contains('+')
}
