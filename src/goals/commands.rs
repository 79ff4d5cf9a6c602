//! `visitors goals …`: a site's goals from any replica's image.

use clap::{Args, Subcommand};
use sqlx::PgPool;

use crate::{
    counting::{
        goal::{Goal, GoalKind},
        site_id::SiteId,
    },
    goals::store,
    infra::command::CommandError,
    sites::commands::existing,
};

#[derive(Debug, Subcommand)]
pub enum GoalsCommand {
    /// Count a goal: every visitor who sends the event, or views the page.
    Add(GoalArgs),
    /// The site's goals, one per line.
    List { domain: String },
    /// Stop counting a goal (its events and page views stay counted).
    Remove(GoalArgs),
}

#[derive(Debug, Args)]
pub struct GoalArgs {
    /// The site, e.g. example.com.
    domain: String,
    /// A custom event's name, as the script's visitors.track("NAME") or the
    /// pixel's e=NAME sends it.
    #[arg(long, conflicts_with = "page", required_unless_present = "page")]
    event: Option<String>,
    /// A page's path; ending in * it is every page that starts so
    /// (/blog/*).
    #[arg(long)]
    page: Option<String>,
}

impl GoalArgs {
    fn goal(&self) -> Result<Goal, CommandError> {
        let (kind, pattern) = match (&self.event, &self.page) {
            (Some(event), _) => (GoalKind::Event, event),
            (None, Some(page)) => (GoalKind::Page, page),
            (None, None) => return Err(CommandError::Invalid("--event or --page".into())),
        };
        Goal::parse(kind, pattern).map_err(|error| CommandError::Invalid(error.to_string()))
    }
}

fn describe(goal: &Goal) -> String {
    format!("{} {}", goal.kind.as_str(), goal.pattern)
}

async fn site_id(pool: &PgPool, text: &str) -> Result<SiteId, CommandError> {
    Ok(existing(pool, text).await?.id)
}

/// Runs the command; what it prints is for the operator.
pub async fn run(command: GoalsCommand, pool: &PgPool) -> Result<(), CommandError> {
    match command {
        GoalsCommand::Add(args) => {
            let goal = args.goal()?;
            let site = site_id(pool, &args.domain).await?;
            if store::add(pool, site, &goal).await? {
                println!("{} counts the goal {}", args.domain, describe(&goal));
            } else {
                println!(
                    "{} counts the goal {} already",
                    args.domain,
                    describe(&goal)
                );
            }
        }
        GoalsCommand::List { domain } => {
            for goal in store::list(pool, site_id(pool, &domain).await?).await? {
                println!("{}", describe(&goal));
            }
        }
        GoalsCommand::Remove(args) => {
            let goal = args.goal()?;
            if !store::remove(pool, site_id(pool, &args.domain).await?, &goal).await? {
                return Err(CommandError::Invalid(format!(
                    "{} has no goal {}",
                    args.domain,
                    describe(&goal)
                )));
            }
            println!(
                "{} no longer counts the goal {}",
                args.domain,
                describe(&goal)
            );
        }
    }
    Ok(())
}
