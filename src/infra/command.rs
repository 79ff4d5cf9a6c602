//! What a command of the command line can fail with; `cli` turns it into
//! the exit code, each feature's commands into its message.

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// What the operator gave cannot be used; the text says why.
    #[error("{0}")]
    Invalid(String),
    /// What was named and is not there: "site example.com".
    #[error("there is no {0}")]
    NotFound(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// Something the command needs failed; the text says what.
    #[error("{0}")]
    Failed(String),
}
