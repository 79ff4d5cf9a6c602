//! One source of truth per setting: the README's table and `.env.example`
//! are generated from `SETTINGS` (`src/infra/config.rs`), and the compose
//! file passes only what differs from the defaults. Run with
//! `UPDATE_DOCS=1` to rewrite the generated parts after changing the table.

use std::{collections::BTreeSet, path::Path};

use visitors::infra::config::{env_example, markdown_table, SETTINGS};

const README_START: &str = "<!-- settings:start (generated from src/infra/config.rs) -->\n";
const README_END: &str = "<!-- settings:end -->";
const ENV_START: &str =
    "# --- app settings (generated from src/infra/config.rs; empty = the default)\n";
const ENV_END: &str = "# --- end of app settings";

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// Checks that the text between `start` and `end` in `path` is `expected`,
/// or rewrites it when UPDATE_DOCS is set.
fn assert_generated(path: &str, start: &str, end: &str, expected: &str) {
    let text = read(path);
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{path} has no {start:?}"))
        + start.len();
    let to = from
        + text[from..]
            .find(end)
            .unwrap_or_else(|| panic!("{path} has no {end:?}"));
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let updated = format!("{}{expected}{}", &text[..from], &text[to..]);
        std::fs::write(Path::new(env!("CARGO_MANIFEST_DIR")).join(path), updated).unwrap();
        return;
    }
    assert_eq!(
        &text[from..to],
        expected,
        "{path} is out of date: run UPDATE_DOCS=1 cargo test --test api settings"
    );
}

/// The app settings the compose file hands through: `NAME: ${NAME:-…}`.
fn compose_passes() -> Vec<(String, String)> {
    let compose = read("docker-compose.yml");
    let pattern = regex::Regex::new(r"\$\{([A-Z_]+):-([^}]*)\}").unwrap();
    pattern
        .captures_iter(&compose)
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
        .filter(|(name, _)| SETTINGS.iter().any(|s| s.variable == name))
        .collect()
}

#[test]
fn the_readme_table_is_the_settings_table() {
    assert_generated("README.md", README_START, README_END, &markdown_table());
}

#[test]
fn env_example_lists_what_compose_passes_with_the_table_defaults() {
    let passed: BTreeSet<String> = compose_passes().into_iter().map(|(name, _)| name).collect();
    let names: Vec<&str> = SETTINGS
        .iter()
        .map(|s| s.variable)
        .filter(|name| passed.contains(*name))
        .collect();
    assert!(
        names.len() >= 5,
        "the compose file passes the app settings: {names:?}"
    );
    assert_generated(".env.example", ENV_START, ENV_END, &env_example(&names));
}

#[test]
fn compose_repeats_no_default() {
    for (name, default) in compose_passes() {
        assert_eq!(
            default, "",
            "docker-compose.yml gives {name} the default {default:?}: pass ${{{name}:-}} and let \
             the app's table decide"
        );
    }
}
