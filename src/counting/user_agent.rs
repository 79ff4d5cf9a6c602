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

use std::sync::Arc;

use quick_cache::sync::Cache;
use serde_yaml::Value;
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
    parser: UserAgentParser,
    bots: BotRules,
    cache: Cache<String, Arc<ClientInfo>>,
}

impl UserAgentClassifier {
    /// Compiles the embedded rules; call it once, off the request path.
    pub fn new() -> Self {
        let parser = UserAgentParser::builder()
            // Unicode-aware regexes cost 5x the memory and 2x the time, and
            // User-Agents are ASCII in practice.
            .with_unicode_support(false)
            .build_from_bytes(&without_device_models(UAP_REGEXES))
            .expect("the embedded uap-core rules are valid");
        Self {
            parser,
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
        let client = self.parser.parse(user_agent);
        let device = match self.bots.classify(user_agent) {
            Some(_) => DeviceType::Bot,
            None => device_type(&client.os.family, user_agent),
        };
        ClientInfo {
            browser: family_name(client.user_agent.family),
            os: family_name(client.os.family),
            device,
        }
    }
}

impl Default for UserAgentClassifier {
    fn default() -> Self {
        Self::new()
    }
}

/// The rules without the device rules.
fn without_device_models(rules: &[u8]) -> Vec<u8> {
    let mut rules: Value = serde_yaml::from_slice(rules).expect("the embedded rules are YAML");
    if let Some(Value::Sequence(device_rules)) = rules.get_mut("device_parsers") {
        device_rules.clear();
    }
    serde_yaml::to_string(&rules)
        .expect("a YAML value serialises")
        .into_bytes()
}

/// uap-core says "Other" for a family it does not know; the dashboard calls
/// that "Unknown", keeping "Other" for the rows it folds together.
const UNKNOWN: &str = "Unknown";

fn family_name(family: std::borrow::Cow<'_, str>) -> String {
    if family == "Other" {
        UNKNOWN.into()
    } else {
        family.into_owned()
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
    fn the_device_rules_are_left_out_and_crawlers_are_still_bots() {
        let kept: Value = serde_yaml::from_slice(&without_device_models(UAP_REGEXES)).unwrap();
        let all: Value = serde_yaml::from_slice(UAP_REGEXES).unwrap();
        let count = |rules: &Value, list: &str| rules[list].as_sequence().unwrap().len();
        assert_eq!(count(&kept, "device_parsers"), 0);
        for list in ["user_agent_parsers", "os_parsers"] {
            assert_eq!(count(&kept, list), count(&all, list));
        }
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
