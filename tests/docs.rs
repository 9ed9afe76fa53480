//! The documentation is checked against the code: a key the loader accepts, a command the CLI
//! has or an exit code it returns cannot be added without being documented.

use std::path::Path;

use clap::CommandFactory;
use regex::Regex;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every block type and every attribute or nested block name the schema lists in
/// src/config/blocks (the lists handed to `Fields::new` and the top-level `KINDS`).
fn schema_names() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/config/blocks");
    let list = Regex::new(r#"&\[\s*((?:"[a-z_]+"\s*,?\s*)+)\]"#).unwrap();
    let kind = Regex::new(r#"\("([a-z_]+)", &\["#).unwrap();
    let name = Regex::new(r#""([a-z_]+)""#).unwrap();
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for caps in list.captures_iter(&text) {
            names.extend(name.captures_iter(&caps[1]).map(|c| c[1].to_string()));
        }
        names.extend(kind.captures_iter(&text).map(|c| c[1].to_string()));
    }
    names.sort();
    names.dedup();
    names
}

#[test]
fn every_block_and_key_the_loader_accepts_is_in_the_configuration_reference() {
    let doc = read("docs/config.md");
    let names = schema_names();
    assert!(
        names.len() > 30,
        "the schema scan found too little: {names:?}"
    );
    for must in [
        "bootstrap_servers",
        "ckafka",
        "insecure_skip_verify",
        "start_from",
        "migration",
    ] {
        assert!(names.contains(&must.to_string()), "scan missed {must}");
    }
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| !Regex::new(&format!(r"\b{n}\b")).unwrap().is_match(&doc))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/config.md does not mention: {missing:?}"
    );
}

#[test]
fn every_command_is_in_the_readme_and_the_user_guide() {
    let readme = read("README.md");
    let guide = read("docs/user-guide.md");
    for sub in ferry::cli::Cli::command().get_subcommands() {
        let name = format!("ferry {}", sub.get_name());
        assert!(readme.contains(&name), "README.md lacks `{name}`");
        assert!(guide.contains(&name), "docs/user-guide.md lacks `{name}`");
    }
}

#[test]
fn exit_codes_are_documented_where_users_look() {
    let codes = read("docs/exit-codes.md");
    for needle in [
        "| 0 |",
        "| 1 |",
        "| 2 |",
        "| 3 |",
        "ferry drift",
        "ferry fmt --check",
        "--detailed-exitcode",
    ] {
        assert!(codes.contains(needle), "docs/exit-codes.md lacks {needle}");
    }
}

#[test]
fn the_ci_example_posts_the_markdown_plan_and_checks_drift_on_a_schedule() {
    let ci = read("examples/ci/github-actions.yml");
    for needle in [
        "pull_request",
        "schedule",
        "plan --format markdown --detailed-exitcode",
        "drift --format markdown",
        "<!-- ferry-plan -->",
        "fmt --check",
    ] {
        assert!(
            ci.contains(needle),
            "examples/ci/github-actions.yml lacks {needle}"
        );
    }
}

/// The safety promise "ferry deletes nothing" rests on the cluster-access interface having no
/// delete operation; this guards the promise where it is made.
#[test]
fn the_cluster_access_interface_has_no_delete_operation() {
    let text = read("src/cluster/cluster_access.rs").to_lowercase();
    let fns: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("fn "))
        .collect();
    assert!(fns.len() >= 8, "{fns:?}");
    assert!(
        fns.iter()
            .all(|l| !l.contains("delete") && !l.contains("remove")),
        "{fns:?}"
    );
}
