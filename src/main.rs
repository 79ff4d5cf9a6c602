//! The `visitors` binary; everything is in the library (`visitors::cli`).

fn main() -> std::process::ExitCode {
    visitors::cli::run()
}
