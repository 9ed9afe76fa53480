//! Resolves the command line and runs a command: the only place that joins config, clusters,
//! plan, state and output.

mod apply_command;
mod drift_command;
mod fmt_command;
mod init_command;
mod plan_command;
mod replicate_command;
mod session;
mod status_command;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;

use crate::cli::{Cli, Command, SchemeArg, StateCommand};
use crate::config::{self, Desired, LoadOptions, Scheme};
use crate::error::Error;
use crate::init;
use crate::state::StateStore;

use apply_command::{apply, rollback};
use drift_command::drift;
use fmt_command::fmt;
use init_command::init_from_source;
use plan_command::plan;
use replicate_command::replicate;
use status_command::status;

pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    // Commands that need no (valid) configuration.
    match &cli.command {
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "ferry", &mut std::io::stdout());
            return Ok(ExitCode::SUCCESS);
        }
        Command::Fmt(args) => return fmt(&cli, args),
        Command::Init(args) if !args.from_source => {
            let scheme = match args.scheme {
                SchemeArg::DualConsume => Scheme::DualConsume,
                SchemeArg::SingleConsume => Scheme::SingleConsume,
                SchemeArg::Mirror => Scheme::Mirror,
            };
            let out = args.out.clone().unwrap_or_else(|| cli.dir.clone());
            let files = [("main.hcl".to_string(), init::starter(scheme))];
            for path in init::write_files(&out, &files, args.force)? {
                println!(
                    "Wrote {} (scheme {scheme}). Edit it, then run `ferry init --from-source` and `ferry plan`.",
                    path.display()
                );
            }
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let desired = load(&cli)?;
    let store = StateStore::new(desired.state.path.clone());
    match &cli.command {
        Command::Validate => {
            println!(
                "The configuration is valid: migration \"{}\" (scheme {}), {} topic block{}, {} hook{}.",
                desired.migration.name,
                desired.migration.scheme,
                desired.topic_blocks.len(),
                plural(desired.topic_blocks.len()),
                desired.hooks.len(),
                plural(desired.hooks.len()),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Plan(args) => plan(&cli, &desired, &store, args),
        Command::Apply(args) => apply(&cli, &desired, &store, args),
        Command::Status(args) => status(&desired, &store, args),
        Command::Rollback(args) => rollback(&desired, &store, args),
        Command::Replicate(args) => replicate(&desired, &store, args),
        Command::Drift(args) => drift(&cli, &desired, &store, args),
        Command::Init(args) => init_from_source(&cli, &desired, args),
        Command::Fmt(_) | Command::Completions { .. } => {
            unreachable!("handled before the configuration is loaded")
        }
        Command::ForceUnlock { id } => {
            store.force_unlock(id)?;
            println!("Lock {id} on {} removed.", store.path().display());
            Ok(ExitCode::SUCCESS)
        }
        Command::State(cmd) => {
            // `state show` dumps whatever file is there (its migration name included), so that
            // another migration's state can still be read; `state list` reads it as this one's.
            let state = match cmd {
                StateCommand::Show => store.load()?,
                StateCommand::List => session::own_state(&desired, &store)?,
            }
            .ok_or_else(|| no_state(&store))?;
            match cmd {
                StateCommand::Show => println!(
                    "{}",
                    serde_json::to_string_pretty(&state).expect("state serializes")
                ),
                StateCommand::List => {
                    for r in &state.steps {
                        println!(
                            "{:>2}. {:<8} {:<26} {}",
                            r.index + 1,
                            r.status.as_str(),
                            r.kind,
                            r.description
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn no_state(store: &StateStore) -> Error {
    Error::Usage(format!(
        "there is no state file at {}: no apply has run for this migration yet",
        store.path().display()
    ))
}

/// The configuration, and its secrets installed in the process's masker before any cluster is
/// contacted, so that no later message or log line shows one.
fn load(cli: &Cli) -> Result<Desired, Error> {
    let desired = config::load(&cli.dir, &load_options(cli)?)?;
    crate::masking::install(desired.masker());
    Ok(desired)
}

fn load_options(cli: &Cli) -> Result<LoadOptions, Error> {
    let mut vars = BTreeMap::new();
    for v in &cli.vars {
        let (name, value) = v.split_once('=').ok_or_else(|| {
            Error::Usage(format!(
                "--var expects NAME=VALUE, got \"{}\"",
                v.split('=').next().unwrap_or("")
            ))
        })?;
        vars.insert(name.to_string(), value.to_string());
    }
    Ok(LoadOptions { vars })
}

fn colors(cli: &Cli) -> bool {
    !cli.no_color
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal()
}
