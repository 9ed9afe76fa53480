//! The `main.hcl` of a mirror migration between the test bed's two clusters, as most mirror
//! tests need it: no client moves (no-op hooks, except that the groups get an idle member on the
//! target, see [`idle_members_hook`]), a short settle period, a copy from earliest.

use std::path::Path;

use ferry_testbed::{Testbed, seed};

/// The topic the idle members subscribe to: it exists on the target and nobody writes to it.
pub const IDLE_TOPIC: &str = "ferry-test-idle";

/// A `start_target_consumers` command (HCL list) that starts one idle member of each group on
/// the target, as a deployment would start consumers: each subscribes to [`IDLE_TOPIC`], so the
/// wait for members on the target holds while the groups' offsets on the migrated topics stay
/// where ferry committed them, for tests that check those. The members exit with the test
/// process (`--watch-pid`).
pub fn idle_members_hook(bed: &Testbed, dir: &Path, groups: &[&str]) -> String {
    let _ = seed::create_topic(&bed.target.bootstrap, IDLE_TOPIC, 1, &[]);
    let binary = ferry_testbed::app::binary().expect("the test bed binary builds");
    let mut script = String::new();
    for group in groups {
        script.push_str(&format!(
            "nohup '{}' app consume --bootstrap \"$FERRY_TARGET_BOOTSTRAP\" --group '{group}' --topic {IDLE_TOPIC} --out '{}' --watch-pid {} </dev/null >/dev/null 2>&1 & ",
            binary.display(),
            dir.join(format!("idle-{group}.out")).display(),
            std::process::id()
        ));
    }
    let script = script.replace('\\', "\\\\").replace('"', "\\\"");
    format!(r#"["sh", "-c", "{script}"]"#)
}

/// Writes `dir/main.hcl`: migration `name` of the `topics` (exact names) carrying the `groups`.
pub fn write_mirror_config(
    dir: &Path,
    bed: &Testbed,
    name: &str,
    topics: &[&str],
    groups: &[&str],
) {
    let exact = |names: &[&str]| {
        names
            .iter()
            .map(|n| format!("\"^{}$\"", n.replace('.', "\\\\.")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let start_consumers = if groups.is_empty() {
        r#"["true"]"#.to_string()
    } else {
        idle_members_hook(bed, dir, groups)
    };
    let groups = if groups.is_empty() {
        String::new()
    } else {
        format!(
            "consumer_groups {{\n  include = [{}]\n}}\n\n",
            exact(groups)
        )
    };
    let text = format!(
        r#"migration "{name}" {{
  scheme        = "mirror"
  settle_period = "1s"
  wait_timeout  = "2m"
}}

cluster "source" {{
  bootstrap_servers = ["{source}"]
}}

cluster "target" {{
  bootstrap_servers = ["{target}"]
}}

topics {{
  include = [{topics}]
}}

{groups}replication {{
  start_from = "earliest"
}}

hook "stop_source_consumers" {{
  command = ["true"]
  timeout = "1m"
}}
hook "start_target_consumers" {{
  command = {start_consumers}
  timeout = "1m"
}}

hook "stop_source_producers" {{
  command = ["true"]
  timeout = "1m"
}}
hook "start_target_producers" {{
  command = ["true"]
  timeout = "1m"
}}

state {{
  path = "ferry.state.json"
}}
"#,
        source = bed.source.bootstrap,
        target = bed.target.bootstrap,
        topics = exact(topics),
    );
    std::fs::write(dir.join("main.hcl"), text).unwrap();
}
