//! `ferry init --from-source`.

use std::process::ExitCode;

use super::session::check_pin;
use super::{load_options, plural};
use crate::cli::{Cli, InitArgs};
use crate::cluster::RdKafkaCluster;
use crate::config::Desired;
use crate::error::Error;
use crate::init;
use crate::snapshot::ClusterSnapshot;

/// `ferry init --from-source`: topic blocks (and groups) from the live source, checked to load
/// with the rest of the configuration before anything is written.
pub(super) fn init_from_source(
    cli: &Cli,
    desired: &Desired,
    args: &InitArgs,
) -> Result<ExitCode, Error> {
    let out = args.out.clone().unwrap_or_else(|| cli.dir.clone());
    let source = RdKafkaCluster::connect("source", &desired.source, args.connect.timeout)?;
    let view = init::read_source(desired, &source)?;
    check_pin(
        "source",
        &desired.source,
        &ClusterSnapshot {
            cluster_id: view.cluster_id.clone(),
            ..Default::default()
        },
    )?;
    let generated = init::generate(desired, &view, &out.join(init::TOPICS_FILE));
    let same_dir = out.canonicalize().ok() == cli.dir.canonicalize().ok();
    if same_dir {
        init::check_loads(&cli.dir, &generated.files, &load_options(cli)?)?;
    }
    let written = init::write_files(&out, &generated.files, args.force)?;
    println!(
        "Wrote {}: {} from the source{}.",
        written[0].display(),
        plural_count(generated.topics, "topic block"),
        if generated.not_carried > 0 {
            format!(
                " ({} that will not carry over, kept as comments)",
                plural_count(generated.not_carried, "topic config")
            )
        } else {
            String::new()
        }
    );
    if let Some(groups) = written.get(1) {
        println!(
            "Wrote {}: consumer_groups naming {}.",
            groups.display(),
            plural_count(generated.groups.len(), "group")
        );
    } else if !generated.groups.is_empty() {
        println!(
            "Consumer groups with offsets on these topics, matched by your consumer_groups block: {}.",
            generated.groups.join(", ")
        );
    }
    if !generated.already_declared.is_empty() {
        println!(
            "Left out (a topic block elsewhere declares them): {}.",
            generated.already_declared.join(", ")
        );
    }
    println!("Next: `ferry validate` and `ferry plan`.");
    Ok(ExitCode::SUCCESS)
}

pub(super) fn plural_count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", plural(n))
}
