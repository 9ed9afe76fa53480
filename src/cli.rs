//! Command-line types only; resolved and run in `run.rs`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "ferry",
    version,
    about = "Migrate Kafka clusters the way Terraform manages infrastructure"
)]
pub struct Cli {
    /// Directory holding the *.hcl files.
    #[arg(
        short = 'C',
        long = "dir",
        global = true,
        default_value = ".",
        value_name = "DIR"
    )]
    pub dir: PathBuf,

    /// Set a variable: wins over FERRY_VAR_NAME and the variable's default.
    #[arg(long = "var", global = true, value_name = "NAME=VALUE")]
    pub vars: Vec<String>,

    /// No colours (also when NO_COLOR is set or output is not a terminal).
    #[arg(long, global = true)]
    pub no_color: bool,

    /// More log output on stderr (-v debug, -vv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the configuration offline (contacts no cluster).
    Validate,
    /// Read both clusters and print the ordered migration.
    Plan(PlanArgs),
    /// Carry out the migration (or a plan saved with `plan --out`), recording every step.
    Apply(ApplyArgs),
    /// Progress of the migration from the state file, with live lag where reachable.
    Status(ConnectArgs),
    /// Remove a lock left by an apply that is gone.
    ForceUnlock {
        /// The lock id the lock error printed.
        id: String,
    },
    /// Inspect the state file.
    #[command(subcommand)]
    State(StateCommand),
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// One line per recorded step.
    List,
    /// The whole state file as JSON.
    Show,
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// How long to wait for each cluster request.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved with `ferry plan --out FILE`: applied exactly, without asking, if not stale.
    pub plan_file: Option<PathBuf>,

    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,

    /// How long to wait for another apply's lock to be released (0: fail at once).
    #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
    pub lock_timeout: std::time::Duration,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Exit 0 when there is nothing to do, 2 when changes are pending, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// Also save the plan to FILE, for `ferry apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}
