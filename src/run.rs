//! Resolves the command line and runs a command: the only place that joins config, clusters,
//! plan and output.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;

use crate::cli::{Cli, Command, Format, PlanArgs};
use crate::cluster::RdKafkaCluster;
use crate::config::{self, ClusterSettings, Desired, LoadOptions};
use crate::error::Error;
use crate::plan;
use crate::platform::Platform;
use crate::render::{self, Theme};
use crate::snapshot::{ClusterSnapshot, Snapshot};

pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    let desired = load(&cli)?;
    match &cli.command {
        Command::Validate => {
            println!(
                "The configuration is valid: migration \"{}\" (scheme {}), {} topic block{}, {} hook{}.",
                desired.migration.name,
                desired.migration.scheme,
                desired.topic_blocks.len(),
                if desired.topic_blocks.len() == 1 {
                    ""
                } else {
                    "s"
                },
                desired.hooks.len(),
                if desired.hooks.len() == 1 { "" } else { "s" },
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Plan(args) => plan(&cli, &desired, args),
    }
}

fn load(cli: &Cli) -> Result<Desired, Error> {
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
    Ok(config::load(&cli.dir, &LoadOptions { vars })?)
}

fn plan(cli: &Cli, desired: &Desired, args: &PlanArgs) -> Result<ExitCode, Error> {
    let source = RdKafkaCluster::connect("source", &desired.source, args.timeout)?;
    let target = RdKafkaCluster::connect("target", &desired.target, args.timeout)?;
    let snapshot = Snapshot::take(desired, &source, &target)?;
    // Counting waits for fresh librdkafka statistics, so only when someone reads it.
    if tracing::enabled!(tracing::Level::DEBUG) {
        tracing::debug!(requests = ?source.request_counts(), "source cluster requests");
        tracing::debug!(requests = ?target.request_counts(), "target cluster requests");
    }
    check_pin("source", &desired.source, &snapshot.source)?;
    check_pin("target", &desired.target, &snapshot.target)?;

    let plan = plan::build(desired, &snapshot, Platform::Kafka);
    let text = match args.format {
        Format::Human => render::human(&plan, &Theme::new(colors(cli))),
        Format::Json => render::json(&plan),
    };
    print!("{text}");
    Ok(if args.detailed_exitcode && plan.has_changes() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// A pinned cluster id must match: running against the wrong cluster is the costliest mistake.
fn check_pin(role: &str, settings: &ClusterSettings, snap: &ClusterSnapshot) -> Result<(), Error> {
    match (&settings.cluster_id, &snap.cluster_id) {
        (Some(pinned), Some(actual)) if pinned != actual => Err(Error::ClusterIdMismatch {
            role: role.into(),
            pinned: pinned.clone(),
            actual: actual.clone(),
        }),
        _ => Ok(()),
    }
}

fn colors(cli: &Cli) -> bool {
    !cli.no_color
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal()
}
