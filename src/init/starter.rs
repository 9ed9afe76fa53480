//! The starter `main.hcl` of `ferry init`: every block a migration needs, valid as written.

use crate::config::Scheme;

/// A configuration that passes `ferry validate` as it is; bootstrap servers come from
/// `FERRY_SOURCE_BOOTSTRAP` / `FERRY_TARGET_BOOTSTRAP` until they are written in.
pub fn starter(scheme: Scheme) -> String {
    let hooks: String = scheme
        .hooks()
        .iter()
        .map(|(name, required)| {
            let note = if *required {
                "required by this scheme"
            } else {
                "optional: delete the block if nothing needs to happen here"
            };
            format!(
                "# {note}\nhook \"{name}\" {{\n  command = [\"./deploy/{name}.sh\"]\n  timeout = \"10m\"\n}}\n\n"
            )
        })
        .collect();
    format!(
        r#"# Starter configuration written by `ferry init`. Next steps:
#   1. set the bootstrap servers (or FERRY_SOURCE_BOOTSTRAP / FERRY_TARGET_BOOTSTRAP);
#   2. narrow the topics and consumer_groups selections;
#   3. run `ferry init --from-source` to write a topic block for every selected source topic;
#   4. `ferry validate`, then `ferry plan`.

migration "my-migration" {{
  scheme = "{scheme}" # dual_consume | single_consume | mirror
}}

cluster "source" {{
  bootstrap_servers = [env("FERRY_SOURCE_BOOTSTRAP", "localhost:9092")]
  # cluster_id = "..." # pin: refuse to run against any other cluster
}}

cluster "target" {{
  bootstrap_servers = [env("FERRY_TARGET_BOOTSTRAP", "localhost:9093")]
  # cluster_id = "..."
}}

topics {{
  include = [".*"]
  exclude = ["^_"]
}}

consumer_groups {{
  include = [".*"]
}}

{hooks}state {{
  path = "ferry.state.json"
}}
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_of_every_scheme_loads_and_is_formatted() {
        for scheme in Scheme::ALL {
            let dir = tempfile::tempdir().unwrap();
            let text = starter(scheme);
            std::fs::write(dir.path().join("main.hcl"), &text).unwrap();
            let desired = crate::config::load(dir.path(), &Default::default())
                .unwrap_or_else(|e| panic!("{scheme}: {e:?}"));
            assert_eq!(desired.migration.scheme, scheme);
            assert_eq!(
                crate::hcl_format::format_hcl(&text).unwrap(),
                text,
                "{scheme}: starter is in canonical layout"
            );
        }
    }
}
