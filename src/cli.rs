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
    /// Write a starter configuration; with --from-source, topic blocks read from the live source.
    Init(InitArgs),
    /// Check the configuration offline (contacts no cluster).
    Validate,
    /// Rewrite the *.hcl files in canonical layout, comments kept.
    Fmt(FmtArgs),
    /// Read both clusters and print the ordered migration.
    Plan(PlanArgs),
    /// Carry out the migration (or a plan saved with `plan --out`), recording every step.
    Apply(ApplyArgs),
    /// Compare the live target (and source) with the declared model and the applied state.
    Drift(DriftArgs),
    /// Progress of the migration from the state file, with live lag where reachable.
    Status(ConnectArgs),
    /// Mirror: return the consumer groups to the source at the offsets they reached on the
    /// target, until producers start on the target (the point of no return).
    Rollback(ConnectArgs),
    /// Copy the mirror topics continuously as a service; several processes share the partitions
    /// through a consumer group on the source. Stops on SIGINT/SIGTERM.
    Replicate(ReplicateArgs),
    /// Remove a lock left by an apply that is gone.
    ForceUnlock {
        /// The lock id the lock error printed.
        id: String,
    },
    /// Inspect the state file.
    #[command(subcommand)]
    State(StateCommand),
    /// Print a shell completion script (e.g. `ferry completions bash > /etc/bash_completion.d/ferry`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Read the live source cluster (named in the existing configuration) and write a topic
    /// block for every selected topic, with only its non-default configs.
    #[arg(long)]
    pub from_source: bool,

    /// Directory to write into (default: the config directory).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Overwrite files ferry init wrote before.
    #[arg(long)]
    pub force: bool,

    /// Scheme of the starter configuration (without --from-source).
    #[arg(long, value_enum, default_value_t = SchemeArg::Mirror)]
    pub scheme: SchemeArg,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum SchemeArg {
    DualConsume,
    SingleConsume,
    Mirror,
}

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Change no file: print a diff of what would change and exit 3 if any file is not formatted.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// List target topics ferry does not manage without counting them as drift (shared clusters).
    #[arg(long)]
    pub ignore_unmanaged: bool,

    #[command(flatten)]
    pub connect: ConnectArgs,
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
    /// How long to wait for each cluster request (at most 7d).
    #[arg(long, default_value = "10s", value_parser = crate::limits::parse_duration_flag)]
    pub timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct ReplicateArgs {
    /// Consumer group on the source that the replicate processes share the partitions through
    /// (default: ferry-replicate-<migration name>).
    #[arg(long, value_name = "NAME")]
    pub group: Option<String>,

    /// Exit 0 once every partition this process holds reached the source end read at start.
    #[arg(long)]
    pub until_caught_up: bool,

    /// How long a process may be silent (killed, hung) before the group hands its partitions to
    /// another process (at most 1h, librdkafka's limit).
    #[arg(long, default_value = "10s", value_parser = crate::limits::parse_session_timeout)]
    pub session_timeout: std::time::Duration,

    /// How often a progress line is written to stderr (at most 7d).
    #[arg(long, default_value = "10s", value_parser = crate::limits::parse_duration_flag)]
    pub progress_every: std::time::Duration,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved with `ferry plan --out FILE`: applied exactly, without asking, if not stale.
    pub plan_file: Option<PathBuf>,

    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,

    /// Limit the apply to `topic.NAME` (repeatable; `-target` works too).
    #[arg(long = "target", value_name = "topic.NAME")]
    pub targets: Vec<String>,

    /// How long to wait for another apply's lock to be released (0: fail at once; at most 7d).
    #[arg(long, default_value = "0s", value_parser = crate::limits::parse_duration_flag)]
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

    /// Limit the plan to `topic.NAME` (repeatable; `-target` works too).
    #[arg(long = "target", value_name = "topic.NAME")]
    pub targets: Vec<String>,

    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    /// GitHub-flavoured Markdown, for a pull-request comment.
    Markdown,
}

/// Terraform users type `-target=topic.x`; clap knows `--target`. Everything else is unchanged.
pub fn terraform_style_args(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Vec<std::ffi::OsString> {
    args.into_iter()
        .map(|a| match a.to_str() {
            Some("-target") => "--target".into(),
            Some(s) if s.starts_with("-target=") => format!("-{s}").into(),
            _ => a,
        })
        .collect()
}
