//! Browser, OS and device type from the User-Agent, and whether it is a bot
//! (`bots` decides that).
//!
//! The uap-core rules are compiled once at start (they cost tens of
//! milliseconds) and every parsed User-Agent is cached, so the request path
//! pays for a parse only the first time it sees a User-Agent string.
//!
//! uap-core's device rules are left out. 600-odd name hardware models
//! ("Samsung SM-T820"), which the dashboard does not show; a desktop browser
//! fails every one of them, so they cost three quarters of the time to parse
//! an unseen User-Agent, and about 16 MiB of compiled regexes plus match
//! caches per thread. The other seven name crawlers ("Spider"), but their
//! generic rule matches `silk` and `bot` anywhere, so it takes Amazon's Silk
//! browser (Fire tablets and TVs) and CUBOT phones for crawlers; `bots`
//! knows every crawler it catches (the corpus test shows it) without those
//! false positives.
//!
//! The browser and OS rules are not tried one after the other, as
//! uaparser's own parser does (350 browser and 197 OS regexes, about 25 µs
//! for a desktop Chrome, 40 % of a replica's CPU for new visitors): each
//! rule is a uaparser parser of its own, tried only when the User-Agent
//! holds the literals its pattern needs (`FirstMatch`), about 2 µs, for
//! about 3 MiB more memory (each rule's parser also holds a catch-all
//! rule). The answers are uaparser's (a test compares them over a corpus).

use std::sync::Arc;

use aho_corasick::AhoCorasick;
use quick_cache::sync::Cache;
use regex_filtered::{mapper, model::Model};
use serde_yaml::{Mapping, Value};
use uaparser::{Parser, UserAgentParser};

use crate::{counting::bots::BotRules, infra::text::clip};

/// uap-core 0.18.0's rules, pinned and embedded (license in the same folder).
const UAP_REGEXES: &[u8] = include_bytes!("../../assets/uap-core/regexes.yaml");

/// Longer User-Agents are cut before parsing: real ones are a few hundred
/// bytes, and the regexes should not run over attacker-sized input.
const MAX_PARSED_LEN: usize = 512;
const CACHE_CAPACITY: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceType {
    Desktop,
    Mobile,
    Tablet,
    Bot,
    Other,
}

impl DeviceType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Desktop => "desktop",
            Self::Mobile => "mobile",
            Self::Tablet => "tablet",
            Self::Bot => "bot",
            Self::Other => "other",
        }
    }
}

/// What the dashboard breaks visits down by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    pub browser: String,
    pub os: String,
    pub device: DeviceType,
}

impl ClientInfo {
    pub fn is_bot(&self) -> bool {
        self.device == DeviceType::Bot
    }
}

pub struct UserAgentClassifier {
    browsers: FirstMatch,
    systems: FirstMatch,
    bots: BotRules,
    cache: Cache<String, Arc<ClientInfo>>,
}

impl UserAgentClassifier {
    /// Compiles the embedded rules; call it once, off the request path.
    pub fn new() -> Self {
        let rules: Value =
            serde_yaml::from_slice(UAP_REGEXES).expect("the embedded rules are YAML");
        Self {
            browsers: FirstMatch::new(&rules, RuleKind::Browser),
            systems: FirstMatch::new(&rules, RuleKind::System),
            bots: BotRules::new(),
            cache: Cache::new(CACHE_CAPACITY),
        }
    }

    pub fn classify(&self, user_agent: &str) -> Arc<ClientInfo> {
        let user_agent = clip(user_agent.trim(), MAX_PARSED_LEN);
        if let Some(info) = self.cache.get(user_agent) {
            return info;
        }
        let info = Arc::new(self.parse(user_agent));
        self.cache.insert(user_agent.to_owned(), Arc::clone(&info));
        info
    }

    fn parse(&self, user_agent: &str) -> ClientInfo {
        if user_agent.is_empty() {
            return ClientInfo {
                browser: UNKNOWN.into(),
                os: UNKNOWN.into(),
                device: DeviceType::Bot,
            };
        }
        let os = self.systems.family(user_agent);
        let device = match self.bots.classify(user_agent) {
            Some(_) => DeviceType::Bot,
            None => device_type(&os, user_agent),
        };
        ClientInfo {
            browser: family_name(self.browsers.family(user_agent)),
            os: family_name(os),
            device,
        }
    }
}

impl Default for UserAgentClassifier {
    fn default() -> Self {
        Self::new()
    }
}

/// Which of uap-core's rule lists, and how uaparser reads a family from it.
#[derive(Clone, Copy)]
enum RuleKind {
    Browser,
    System,
}

impl RuleKind {
    const LISTS: [&str; 3] = ["user_agent_parsers", "os_parsers", "device_parsers"];

    fn list(self) -> &'static str {
        match self {
            Self::Browser => "user_agent_parsers",
            Self::System => "os_parsers",
        }
    }

    fn family_field(self) -> &'static str {
        match self {
            Self::Browser => "family_replacement",
            Self::System => "os_replacement",
        }
    }

    fn family(self, parser: &UserAgentParser, user_agent: &str) -> String {
        match self {
            Self::Browser => parser.parse_user_agent(user_agent).family.into_owned(),
            Self::System => parser.parse_os(user_agent).family.into_owned(),
        }
    }
}

/// uaparser's family when no rule matches.
const NO_MATCH: &str = "Other";
/// What a single rule's parser answers when its rule gives no family: a
/// rule may itself say "Other" (by its replacement, or by what it captures,
/// and then uaparser stops there), so uaparser's own no-match answer
/// cannot tell.
const RULE_FAILED: &str = "\u{0}the rule gave no family";

/// The first rule of one list that gives a family, as uaparser's parser
/// finds it, without running the regexes that cannot match: regex-filtered
/// (uap-rust's port of RE2's FilteredRE2) knows the literals ("atoms") each
/// pattern needs, one Aho-Corasick pass finds those in the User-Agent, and
/// only the rules whose atoms are all there are tried, in their order.
struct FirstMatch {
    kind: RuleKind,
    atoms: AhoCorasick,
    candidates: mapper::Mapper,
    /// One parser per rule, so each answers exactly as uaparser would.
    rules: Vec<UserAgentParser>,
}

impl FirstMatch {
    fn new(all: &Value, kind: RuleKind) -> Self {
        let list = all[kind.list()]
            .as_sequence()
            .expect("the embedded rules have the list");
        let mut models = mapper::Builder::new(3);
        let mut rules = Vec::with_capacity(list.len());
        for rule in list {
            let pattern = rule["regex"].as_str().expect("a rule has a regex");
            let syntax = regex_syntax::parse(pattern).expect("the embedded regexes parse");
            models.push(Model::new(&syntax).expect("the embedded regexes have a model"));
            rules.push(single_rule_parser(kind, rule));
        }
        let (candidates, atoms) = models.build();
        let atoms = AhoCorasick::builder()
            // As regex-filtered builds its own prefilter: its atoms are
            // lower case.
            .ascii_case_insensitive(true)
            .build(atoms)
            .expect("the atoms build a matcher");
        Self {
            kind,
            atoms,
            candidates,
            rules,
        }
    }

    fn family(&self, user_agent: &str) -> String {
        let found = self
            .atoms
            .find_overlapping_iter(user_agent)
            .map(|atom| atom.pattern().as_usize());
        // Ascending, as the rules are listed.
        for rule in self.candidates.atom_to_re(found) {
            let family = self.kind.family(&self.rules[rule], user_agent);
            if family != RULE_FAILED {
                return family;
            }
        }
        NO_MATCH.into()
    }
}

/// A uaparser parser of one rule, then a rule that matches anything and
/// answers `RULE_FAILED`.
fn single_rule_parser(kind: RuleKind, rule: &Value) -> UserAgentParser {
    let mut failed = Mapping::new();
    failed.insert("regex".into(), "^".into());
    failed.insert(kind.family_field().into(), RULE_FAILED.into());
    let lists: Mapping = RuleKind::LISTS
        .into_iter()
        .map(|list| {
            let rules = if list == kind.list() {
                vec![rule.clone(), Value::Mapping(failed.clone())]
            } else {
                vec![]
            };
            (list.into(), Value::Sequence(rules))
        })
        .collect();
    let yaml = serde_yaml::to_string(&lists).expect("a YAML value serialises");
    UserAgentParser::builder()
        // Unicode-aware regexes cost 5x the memory and 2x the time, and
        // User-Agents are ASCII in practice.
        .with_unicode_support(false)
        .build_from_bytes(yaml.as_bytes())
        .expect("the embedded uap-core rules are valid")
}

/// uap-core says "Other" for a family it does not know; the dashboard calls
/// that "Unknown", keeping "Other" for the rows it folds together.
const UNKNOWN: &str = "Unknown";

fn family_name(family: String) -> String {
    if family == NO_MATCH {
        UNKNOWN.into()
    } else {
        family
    }
}

/// uap-core has no device class, so the class of a person's browser comes
/// from the OS and the usual User-Agent tokens.
fn device_type(os: &str, user_agent: &str) -> DeviceType {
    let has = |token: &str| user_agent.contains(token);
    if has("iPad") || has("Tablet") || (os == "Android" && !has("Mobile")) {
        DeviceType::Tablet
    } else if has("Mobi") || matches!(os, "iOS" | "Android") {
        DeviceType::Mobile
    } else if matches!(
        os,
        "Windows" | "Mac OS X" | "Linux" | "Ubuntu" | "Fedora" | "Chrome OS" | "FreeBSD"
    ) {
        DeviceType::Desktop
    } else {
        DeviceType::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::LazyLock;

    static CLASSIFIER: LazyLock<UserAgentClassifier> = LazyLock::new(UserAgentClassifier::new);

    fn classify(ua: &str) -> ClientInfo {
        (*CLASSIFIER.classify(ua)).clone()
    }

    #[test]
    fn desktop_mobile_and_tablet_browsers() {
        let firefox =
            classify("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0");
        assert_eq!(
            (
                firefox.browser.as_str(),
                firefox.os.as_str(),
                firefox.device
            ),
            ("Firefox", "Linux", DeviceType::Desktop)
        );

        let iphone = classify("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1");
        assert_eq!(
            (iphone.os.as_str(), iphone.device),
            ("iOS", DeviceType::Mobile)
        );

        let ipad = classify("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1");
        assert_eq!(ipad.device, DeviceType::Tablet);

        let android_phone = classify("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36");
        assert_eq!(
            (android_phone.browser.as_str(), android_phone.device),
            ("Chrome Mobile", DeviceType::Mobile)
        );

        let windows = classify("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0");
        assert_eq!(
            (
                windows.browser.as_str(),
                windows.os.as_str(),
                windows.device
            ),
            ("Edge", "Windows", DeviceType::Desktop)
        );
    }

    #[test]
    fn crawlers_and_empty_agents_are_bots() {
        for ua in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "",
            "   ",
        ] {
            assert!(classify(ua).is_bot(), "{ua:?} should be a bot");
        }
        assert!(!classify(
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
        )
        .is_bot());
    }

    #[test]
    fn browsers_and_systems_are_named_as_uaparser_names_them() {
        let reference = UserAgentParser::builder()
            .with_unicode_support(false)
            .with_device(false)
            .build_from_bytes(UAP_REGEXES)
            .unwrap();
        let corpus = include_str!("../../tests/fixtures/user_agents.tsv")
            .lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .filter_map(|line| line.split('\t').next_back());
        // uap-core's comments quote the User-Agents some rules are for.
        let quoted = std::str::from_utf8(UAP_REGEXES)
            .unwrap()
            .lines()
            .filter_map(|line| line.find("Mozilla/").map(|at| &line[at..]));
        let odd = [
            "",
            "Other",
            "AspiegelBot",
            // A rule that captures the family "Other": uaparser stops there.
            "Other/1 CFNetwork/1.0 Darwin/20.0.0",
            "MOZILLA/5.0 (WINDOWS NT 10.0) FIREFOX/128.0",
            "mozilla/5.0 (x11; linux x86_64) chrome/126.0 safari/537.36",
            "Mozilla/5.0 (Linux; Android 7.0;) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; PetalBot;+https://webmaster.petalsearch.com/site/petalbot)",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 visitor/bench-0-1",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36 Ünïcødé/1.0",
        ];
        let mut compared = 0;
        for user_agent in corpus.chain(quoted).chain(odd) {
            let expected = reference.parse(user_agent);
            let (browser, os) = (
                CLASSIFIER.browsers.family(user_agent),
                CLASSIFIER.systems.family(user_agent),
            );
            assert_eq!(
                browser, expected.user_agent.family,
                "browser of {user_agent:?}"
            );
            assert_eq!(os, expected.os.family, "OS of {user_agent:?}");
            compared += 1;
        }
        assert!(compared > 200, "{compared} User-Agents compared");
    }

    #[test]
    fn crawlers_are_bots_by_our_rules_not_uap_cores_device_rules() {
        // A phone that says it is a crawler is counted as a crawler; Amazon's
        // Silk browser, which uap-core's crawler rule took for one, is not.
        assert!(classify("Mozilla/5.0 (Linux; Android 10; SM-G975F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/83.0 Mobile Safari/537.36 (compatible; PetalBot)").is_bot());
        assert!(!classify("Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/131.3.1 like Chrome/131.0.6778.135 Safari/537.36").is_bot());
    }

    #[test]
    fn hostile_and_huge_agents_are_classified_without_trouble() {
        // A bare product token, as every unknown library sends: a bot.
        let huge = "A".repeat(16 * 1024);
        assert_eq!(classify(&huge).device, DeviceType::Bot);
        let multibyte = "é".repeat(400);
        assert!(!classify(&multibyte).browser.is_empty());
        assert_eq!(classify("<script>alert(1)</script>").browser, "Unknown");
    }

    #[test]
    fn results_are_cached_per_agent() {
        let classifier = UserAgentClassifier::new();
        let a = classifier.classify("curl/8.5.0");
        let b = classifier.classify("curl/8.5.0");
        assert!(Arc::ptr_eq(&a, &b));
    }
}
