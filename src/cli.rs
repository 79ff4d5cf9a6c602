//! The `visitors` command line: serve, migrate, prune, healthcheck, sites,
//! goals, export, import, simulate.

use std::{path::Path, process::ExitCode, time::Duration};

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use figment::Figment;

use crate::{
    accounts::commands::{self as user_commands, UsersCommand},
    counting::maintenance,
    goals::commands::{self as goal_commands, GoalsCommand},
    health::{probe, HealthSwitch},
    infra::{
        build_info::BuildInfo,
        command::CommandError,
        config::{self, Config},
        database, logging,
    },
    simulate::Plan,
    sites::commands::{self as site_commands, SitesCommand},
    transfer::commands as transfer,
};

#[derive(Parser)]
#[command(name = "visitors", about = "Self-hosted unique-visitor counter")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (the default): waits for the database, migrates, serves.
    Serve,
    /// Apply pending database migrations and exit (for a deploy step).
    Migrate,
    /// Delete raw visits older than RAW_VISITS_RETENTION_DAYS now, as the
    /// server's maintenance does every minute, and say how many and how fast.
    Prune,
    /// Exit 0 when the local server's /healthz answers 200, else 1 (for Docker).
    Healthcheck,
    /// Manage the websites this instance counts.
    Sites {
        #[command(subcommand)]
        command: SitesCli,
    },
    /// Manage the accounts that sign in.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Manage a site's goals (custom events, pages).
    Goals {
        #[command(subcommand)]
        command: GoalsCommand,
    },
    /// Write a site's counts as CSV to standard output.
    Export {
        domain: String,
        /// 1h, 24h, 7d, 30d or all.
        #[arg(long, default_value = "all")]
        range: String,
        /// day or hour (hours are kept for the last two days).
        #[arg(long, default_value = "day")]
        granularity: String,
    },
    /// Load a site's daily history from a CSV file in the export's format.
    Import {
        domain: String,
        file: String,
        /// Where the history comes from (default: the file's name).
        #[arg(long)]
        source: Option<String>,
    },
    /// Send demo visits to URL at a steady rate, then stop.
    Simulate {
        /// The page to visit, e.g. http://localhost:8080/
        #[arg(long)]
        url: String,
        /// Visits per second.
        #[arg(long, default_value_t = 5.0)]
        rate: f64,
        /// How long to run, in seconds.
        #[arg(long, default_value_t = 60)]
        duration: u64,
        /// Parallel connections.
        #[arg(long, default_value_t = 4)]
        workers: u32,
    },
}

#[derive(Subcommand)]
enum SitesCli {
    #[command(flatten)]
    Manage(SitesCommand),
    /// The site's imports: when, how many rows, from where.
    History { domain: String },
}

/// Exit codes an operator or orchestrator can tell apart.
const EXIT_FAILURE: u8 = 1;
const EXIT_CONFIG: u8 = 2;
const EXIT_DATABASE: u8 = 3;
const EXIT_UNHEALTHY: u8 = 4;

/// Parses the command line and runs the command.
pub fn run() -> ExitCode {
    // The version is only known at run time as a String (see version.rs).
    let matches = Cli::command()
        .version(BuildInfo::current().version)
        .get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => rocket::execute(serve()),
        Command::Migrate => rocket::execute(migrate()),
        Command::Prune => rocket::execute(prune()),
        Command::Healthcheck => probe::run(),
        Command::Sites { command } => rocket::execute(with_database(|config, pool| async move {
            match command {
                SitesCli::Manage(command) => site_commands::run(command, &config, &pool).await,
                SitesCli::History { domain } => transfer::history(&pool, &domain).await,
            }
        })),
        Command::Users { command } => rocket::execute(with_database(|_, pool| async move {
            user_commands::run(command, &pool).await
        })),
        Command::Goals { command } => rocket::execute(with_database(|_, pool| async move {
            goal_commands::run(command, &pool).await
        })),
        Command::Export {
            domain,
            range,
            granularity,
        } => rocket::execute(with_database(|_, pool| async move {
            transfer::export(&pool, &domain, Some(&range), Some(&granularity)).await
        })),
        Command::Import {
            domain,
            file,
            source,
        } => rocket::execute(with_database(|_, pool| async move {
            transfer::import(&pool, &domain, &file, source.as_deref()).await
        })),
        Command::Simulate {
            url,
            rate,
            duration,
            workers,
        } => simulate(Plan {
            url,
            rate,
            duration: Duration::from_secs(duration),
            workers,
        }),
    }
}

fn simulate(plan: Plan) -> ExitCode {
    if let Err(problem) = plan.validate() {
        eprintln!("visitors: {problem}");
        return ExitCode::from(EXIT_CONFIG);
    }
    let report = plan.run();
    println!(
        "visitors: sent {} visits to {}: {} succeeded, {} failed",
        report.sent, plan.url, report.succeeded, report.failed
    );
    if report.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILURE)
    }
}

async fn serve() -> ExitCode {
    let config = match prepare(config::figment()).await {
        Ok(config) => config,
        Err(code) => return code,
    };
    let metrics_port = config.metrics_port;
    let server = match crate::rocket(config).ignite().await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("visitors: could not start: {error}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    match crate::infra::metrics::listener(&server, metrics_port) {
        Some(listener) => {
            rocket::tokio::spawn(async move {
                if let Err(error) = listener.launch().await {
                    rocket::error!("the metrics listener stopped: {error}");
                }
            });
        }
        None => rocket::warn!("no metrics listener: the server has no registry or pool"),
    }
    match server.launch().await {
        // The health watchdog shut the server down: say so to the supervisor.
        Ok(rocket)
            if rocket
                .state::<HealthSwitch>()
                .is_some_and(HealthSwitch::is_failing) =>
        {
            ExitCode::from(EXIT_UNHEALTHY)
        }
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("visitors: could not start: {error}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

async fn migrate() -> ExitCode {
    let config = match prepare(config::figment()).await {
        Ok(config) => config,
        Err(code) => return code,
    };
    let result = async {
        let pool = sqlx::PgPool::connect(&config.database_url).await?;
        database::migrate(&pool).await?;
        pool.close().await;
        Ok::<_, MigrateError>(())
    };
    match result.await {
        Ok(()) => {
            println!("visitors: migrations applied");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("visitors: migrations failed: {error}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

async fn prune() -> ExitCode {
    let config = match prepare(config::figment()).await {
        Ok(config) => config,
        Err(code) => return code,
    };
    let Some(retention) = config.raw_visits_retention else {
        println!("visitors: RAW_VISITS_RETENTION_DAYS is 0: raw visits are kept forever");
        return ExitCode::SUCCESS;
    };
    let result = async {
        let pool = sqlx::PgPool::connect(&config.database_url).await?;
        let pruned = maintenance::prune_raw_visits(&pool, retention).await?;
        pool.close().await;
        Ok::<_, sqlx::Error>(pruned)
    };
    match result.await {
        Ok(pruned) => {
            println!(
                "visitors: deleted {} raw visits older than {} days in {} batches, {:.2} s \
                 (slowest batch {} ms)",
                pruned.visits,
                retention.days(),
                pruned.batches,
                pruned.took.as_secs_f64(),
                pruned.slowest_batch.as_millis()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("visitors: pruning raw visits failed: {error}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// Runs a command that works on the database, with the exit code of its
/// outcome.
async fn with_database<F, Fut>(command: F) -> ExitCode
where
    F: FnOnce(Config, sqlx::PgPool) -> Fut,
    Fut: std::future::Future<Output = Result<(), CommandError>>,
{
    let local_run = Path::new(config::LOCAL_RUN_FILE);
    if local_run.exists() && std::env::var_os(config::DATABASE_URL.variable).is_none() {
        eprintln!(
            "visitors: the database and address of `make run`, from {}",
            local_run.display()
        );
    }
    let config = match prepare(config::figment_beside_local_run()).await {
        Ok(config) => config,
        Err(code) => return code,
    };
    let pool = match sqlx::PgPool::connect(&config.database_url).await {
        Ok(pool) => pool,
        Err(error) => {
            eprintln!("visitors: database unreachable: {error}");
            return ExitCode::from(EXIT_DATABASE);
        }
    };
    let result = command(config, pool.clone()).await;
    pool.close().await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("visitors: {error}");
            ExitCode::from(match error {
                CommandError::Invalid(_) => EXIT_CONFIG,
                CommandError::NotFound(_) => EXIT_FAILURE,
                CommandError::Database(_) => EXIT_DATABASE,
                CommandError::Failed(_) => EXIT_FAILURE,
            })
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum MigrateError {
    #[error(transparent)]
    Connect(#[from] sqlx::Error),
    #[error(transparent)]
    Schema(#[from] database::SchemaError),
}

/// Reads the configuration and waits for the database: the two ways a start
/// can fail before Rocket takes over, each with its own exit code and one line.
async fn prepare(figment: Figment) -> Result<Config, ExitCode> {
    let config = Config::from_figment(figment).map_err(|error| {
        // Still one line, with what to do when it is the database that is missing.
        let hint = if error.variable == config::DATABASE_URL.variable {
            "; export DATABASE_URL=postgres://user:password@host:port/database, or run the \
             command in the checkout where `make run` runs: it finds that database"
        } else {
            ""
        };
        eprintln!("visitors: {error}{hint}");
        ExitCode::from(EXIT_CONFIG)
    })?;
    logging::init(config.log_format);
    let timeout = config.db_startup_timeout;
    database::wait_for_database(&config.database_url, timeout)
        .await
        .map_err(|error| {
            eprintln!(
                "visitors: database unreachable after {} s (DB_STARTUP_TIMEOUT): {error}",
                timeout.as_secs()
            );
            ExitCode::from(EXIT_DATABASE)
        })?;
    Ok(config)
}
