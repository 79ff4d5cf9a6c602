//! `visitors simulate`: demo traffic for a fresh stack. It sends visits to the
//! one URL it is given, at a steady rate, for a bounded time, as a realistic
//! crowd: desktop and mobile browsers, a few crawlers, returning visitors and
//! some arrivals from other sites.

use std::{
    thread,
    time::{Duration, Instant},
};

use rand::{distributions::WeightedIndex, prelude::Distribution, rngs::StdRng, Rng, SeedableRng};

/// Real-world User-Agents, `{n}` being replaced by a per-visitor build number
/// so that simulated visitors behind one address are still told apart.
const AGENTS: &[(u32, &str)] = &[
    (30, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.{n}.86 Safari/537.36"),
    (12, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.{n}.86 Safari/537.36"),
    (8, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.{n} Safari/605.1.15"),
    (7, "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.{n}"),
    (5, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.{n}"),
    (6, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.{n}.86 Safari/537.36 Edg/131.0.2903.86"),
    (16, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E{n} Safari/604.1"),
    (12, "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.{n}.135 Mobile Safari/537.36"),
    (4, "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.{n}.0 Mobile Safari/537.36"),
    (3, "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E{n} Safari/604.1"),
    (2, "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.{n}.0 Safari/537.36"),
    (2, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
    (1, "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"),
    (1, "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)"),
];

/// Where visitors come from; most come from nowhere (typed or bookmarked).
const REFERRERS: &[(u32, Option<&str>)] = &[
    (60, None),
    (14, Some("https://www.google.com/")),
    (6, Some("https://duckduckgo.com/")),
    (6, Some("https://news.ycombinator.com/item?id=1")),
    (5, Some("https://www.reddit.com/r/selfhosted/")),
    (5, Some("https://github.com/")),
    (4, Some("https://t.co/abc")),
];

/// How many different visitors the crowd holds; some come back often.
const CROWD: u32 = 400;

#[derive(Debug, Clone)]
pub struct Plan {
    pub url: String,
    /// Visits per second, all workers together.
    pub rate: f64,
    pub duration: Duration,
    pub workers: u32,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub sent: u64,
    pub succeeded: u64,
    pub failed: u64,
}

impl Plan {
    /// Refuses URLs the tool cannot or should not target.
    pub fn validate(&self) -> Result<(), String> {
        if !self.url.starts_with("http://") {
            return Err("--url must be an http:// URL (this tool speaks plain HTTP only)".into());
        }
        if !(self.rate > 0.0 && self.rate <= 10_000.0) {
            return Err("--rate must be between 0 and 10000 visits per second".into());
        }
        if self.duration.is_zero() || self.duration > Duration::from_secs(24 * 3600) {
            return Err("--duration must be between 1 second and 24 hours".into());
        }
        if self.workers == 0 || self.workers > 64 {
            return Err("--workers must be between 1 and 64".into());
        }
        Ok(())
    }

    /// Sends visits until the duration is over, then reports.
    pub fn run(&self) -> Report {
        let deadline = Instant::now() + self.duration;
        let interval = Duration::from_secs_f64(f64::from(self.workers) / self.rate);
        let handles: Vec<_> = (0..self.workers)
            .map(|worker| {
                let url = self.url.clone();
                thread::spawn(move || run_worker(&url, interval, deadline, u64::from(worker)))
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|handle| handle.join().ok())
            .fold(Report::default(), |total, part| Report {
                sent: total.sent + part.sent,
                succeeded: total.succeeded + part.succeeded,
                failed: total.failed + part.failed,
            })
    }
}

fn run_worker(url: &str, interval: Duration, deadline: Instant, seed: u64) -> Report {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .http_status_as_error(false)
        .build()
        .into();
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let agents = WeightedIndex::new(AGENTS.iter().map(|(w, _)| *w)).expect("weights are positive");
    let referrers =
        WeightedIndex::new(REFERRERS.iter().map(|(w, _)| *w)).expect("weights are positive");
    let mut report = Report::default();
    let mut next = Instant::now();
    while next < deadline {
        // Squaring a uniform draw favours low numbers: a few regulars, a long tail.
        let visitor = (rng.gen::<f64>().powi(2) * f64::from(CROWD)) as u32;
        let mut visitor_rng = StdRng::seed_from_u64(u64::from(visitor));
        let user_agent = AGENTS[agents.sample(&mut visitor_rng)]
            .1
            .replace("{n}", &(1000 + visitor).to_string());
        let mut request = agent.get(url).header("User-Agent", &user_agent);
        if let Some(referrer) = REFERRERS[referrers.sample(&mut rng)].1 {
            request = request.header("Referer", referrer);
        }
        report.sent += 1;
        match request.call() {
            Ok(response) if response.status().is_success() => report.succeeded += 1,
            _ => report.failed += 1,
        }
        next += interval;
        thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    report
}
