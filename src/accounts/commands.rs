//! `visitors users …`: accounts for operators, from any replica's image.
//! Passwords are asked for at the terminal (not echoed) or read from
//! standard input (one line), never from the command line, where `ps` and
//! shell histories would show them.

use std::io::{BufRead, IsTerminal};

use clap::Subcommand;
use sqlx::PgPool;

use super::{
    model::{Email, NewPassword},
    password::PasswordHasher,
    store,
};
use crate::infra::command::CommandError;

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add an account; its password is asked for (or read from standard
    /// input). The instance's first account is its admin.
    Add {
        email: String,
        /// Let it manage the instance's accounts.
        #[arg(long)]
        admin: bool,
    },
    /// Set an account's password (asked for, or read from standard input)
    /// and sign out every session of it.
    Passwd { email: String },
    /// Delete an account and its sessions.
    Remove { email: String },
    /// Every account, one per line.
    List,
}

fn email(text: &str) -> Result<Email, CommandError> {
    Email::parse(text).map_err(|reason| CommandError::Invalid(format!("{text:?}: {reason}")))
}

fn read_password() -> Result<NewPassword, CommandError> {
    let failed =
        |error: std::io::Error| CommandError::Invalid(format!("reading the password: {error}"));
    let (password, repeated) = if std::io::stdin().is_terminal() {
        let password = rpassword::prompt_password("Password: ").map_err(failed)?;
        (
            password,
            rpassword::prompt_password("The same password again: ").map_err(failed)?,
        )
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(failed)?;
        let password = line.trim_end_matches(['\r', '\n']).to_owned();
        (password.clone(), password)
    };
    NewPassword::parse(password, &repeated)
        .map_err(|reason| CommandError::Invalid(format!("the password: {reason}")))
}

async fn existing(pool: &PgPool, text: &str) -> Result<super::model::UserId, CommandError> {
    store::find_user(pool, &email(text)?)
        .await?
        .ok_or_else(|| CommandError::NotFound(format!("account {text}")))
}

pub async fn run(command: UsersCommand, pool: &PgPool) -> Result<(), CommandError> {
    match command {
        UsersCommand::Add { email: text, admin } => {
            let email = email(&text)?;
            let password = read_password()?;
            let hash = PasswordHasher::new()
                .hash(password.password())
                .await
                .map_err(|error| CommandError::Invalid(error.to_string()))?;
            store::add_user(pool, &email, &hash, admin, false)
                .await?
                .map_err(|refusal| CommandError::Invalid(refusal.to_string()))?;
            println!("visitors: added the account {email}");
        }
        UsersCommand::Passwd { email: text } => {
            let user = existing(pool, &text).await?;
            let password = read_password()?;
            let hash = PasswordHasher::new()
                .hash(password.password())
                .await
                .map_err(|error| CommandError::Invalid(error.to_string()))?;
            store::set_password(pool, user, &hash, None).await?;
            println!("visitors: set the password of {text}; its sessions are signed out");
        }
        UsersCommand::Remove { email: text } => {
            let user = existing(pool, &text).await?;
            store::remove_user(pool, user).await?;
            println!("visitors: removed the account {text}");
        }
        UsersCommand::List => {
            for user in store::list_users(pool).await? {
                println!(
                    "{}\t{}\tsince {}\t{} sessions",
                    user.email,
                    if user.is_admin { "admin" } else { "user" },
                    user.created_at.format("%Y-%m-%d"),
                    user.sessions
                );
            }
        }
    }
    Ok(())
}
