//! The `main.hcl` of a mirror migration between the test bed's two clusters, as most mirror
//! tests need it: no-op hooks (no client runs, so the plan waits for no consumer on the target),
//! a short settle period, a copy from earliest.

use std::path::Path;

use ferry_testbed::Testbed;

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
  command = ["true"]
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
