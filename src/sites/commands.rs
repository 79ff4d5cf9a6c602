//! `visitors sites …`: managing the sites from any replica's image. Each
//! command prints what an operator needs next (the private link, the
//! snippet) and says plainly what went wrong.

use clap::Subcommand;
use sqlx::PgPool;

use crate::{
    counting::{visit::canonical_page, visitor_key::VisitorIdentities},
    infra::{command::CommandError, config::Config},
    sites::{
        domain::Domain,
        links::SiteLinks,
        manage::{SiteRequest, SiteSummary},
        model::{Site, Visibility},
        signature::PathSigner,
        store,
    },
};

#[derive(Debug, Subcommand)]
pub enum SitesCommand {
    /// Start counting a website (or count a removed one again).
    Add {
        /// Its domain, e.g. example.com.
        domain: String,
        /// A further host name whose pages count, e.g. www.example.com.
        #[arg(long = "host")]
        hosts: Vec<String>,
        /// Anyone may see its dashboard (default: only with its private link).
        #[arg(long)]
        public: bool,
        /// Only pixel URLs signed by this server count (see `snippet`).
        #[arg(long)]
        signed: bool,
        /// Show its badge even while the site is private.
        #[arg(long)]
        badge: bool,
        /// Count only hits whose Referer or Origin names one of its hosts
        /// (a client that sends neither counts nothing).
        #[arg(long)]
        origin_required: bool,
    },
    /// Every site, one per line.
    List,
    /// Print the site's private link; `--rotate` revokes the old one first.
    Share {
        domain: String,
        #[arg(long)]
        rotate: bool,
    },
    /// Stop counting a site; `--purge` deletes it and all its counts.
    Remove {
        domain: String,
        #[arg(long)]
        purge: bool,
    },
    /// Print the pixel's HTML for one page (signed when the site is).
    Snippet {
        domain: String,
        #[arg(long, default_value = "/")]
        path: String,
    },
}

impl From<store::AddError> for CommandError {
    fn from(error: store::AddError) -> Self {
        match error {
            store::AddError::Exists(_) => Self::Invalid(error.to_string()),
            store::AddError::Database(error) => error.into(),
        }
    }
}

fn domain(text: &str) -> Result<Domain, CommandError> {
    Domain::parse(text).map_err(|reason| CommandError::Invalid(format!("{text:?}: {reason}")))
}

/// The site an operator named, or why there is none: for every command
/// that takes a domain.
pub async fn existing(pool: &PgPool, text: &str) -> Result<Site, CommandError> {
    store::find(pool, &domain(text)?)
        .await?
        .ok_or_else(|| CommandError::NotFound(format!("site {text}")))
}

fn describe(site: &Site, links: &SiteLinks) -> String {
    let summary = SiteSummary::new(site, links);
    let mut flags = vec![match summary.visibility {
        Visibility::Public => "public",
        Visibility::Private => "private",
    }];
    if summary.signed {
        flags.push("signed");
    }
    if summary.badge {
        flags.push("badge");
    }
    if summary.origin_required {
        flags.push("origin required");
    }
    if !summary.active {
        flags.push("removed");
    }
    let hosts = if summary.hosts.is_empty() {
        String::new()
    } else {
        format!(" (also {})", summary.hosts.join(", "))
    };
    format!(
        "{}{hosts} [{}] {}",
        summary.domain,
        flags.join(", "),
        summary.dashboard
    )
}

/// Runs the command; what it prints is for the operator.
pub async fn run(
    command: SitesCommand,
    config: &Config,
    pool: &PgPool,
) -> Result<(), CommandError> {
    let links = SiteLinks {
        public_url: config.public_url.clone(),
    };
    match command {
        SitesCommand::Add {
            domain,
            hosts,
            public,
            signed,
            badge,
            origin_required,
        } => {
            let request = SiteRequest {
                domain,
                hosts,
                visibility: if public {
                    Visibility::Public
                } else {
                    Visibility::Private
                },
                signed,
                badge,
                origin_required,
            };
            let new = request
                .validate()
                .map_err(|error| CommandError::Invalid(error.to_string()))?;
            let site = store::add(pool, &new).await?;
            println!("added {}", describe(&site, &links));
            println!("pixel: {}", links.pixel_snippet(&site, "/", None));
            if let Some(script) = links.script_snippet(&site) {
                println!("script (optional: sources, campaigns, events): {script}");
            }
            if site.signed {
                println!(
                    "(signed: use `visitors sites snippet {}` for each page)",
                    new.domain
                );
            }
        }
        SitesCommand::List => {
            for site in store::list(pool).await? {
                println!("{}", describe(&site, &links));
            }
        }
        SitesCommand::Share {
            domain: text,
            rotate,
        } => {
            let site = if rotate {
                store::rotate_token(pool, &domain(&text)?)
                    .await?
                    .ok_or_else(|| CommandError::NotFound(format!("site {text}")))?
            } else {
                existing(pool, &text).await?
            };
            println!("{}", links.private_link(&site));
        }
        SitesCommand::Remove {
            domain: text,
            purge,
        } => {
            if !store::remove(pool, &domain(&text)?, purge).await? {
                return Err(CommandError::NotFound(format!("site {text}")));
            }
            if purge {
                println!("removed {text} and deleted all its counts");
            } else {
                println!("{text} no longer counts; its counts stay (`add` counts it again)");
            }
        }
        SitesCommand::Snippet { domain, path } => {
            let site = existing(pool, &domain).await?;
            // Signed as the pixel will check it: in its stored spelling.
            let path = canonical_page(&path).ok_or_else(|| {
                CommandError::Invalid(format!("{path:?}: not a path of the site, like /about"))
            })?;
            let identities = VisitorIdentities::new(config.visitor_secret.clone());
            let signer = PathSigner::new(identities.load(pool).await?);
            println!("{}", links.pixel_snippet(&site, &path, Some(&signer)));
        }
    }
    Ok(())
}
