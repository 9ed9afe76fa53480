//! HCL files -> [`Desired`]: parse, evaluate (variables, `env()`), validate with locations.
//!
//! Every `*.hcl` file of the directory is parsed with hcl-edit (which keeps spans), walked block by
//! block against a fixed schema, and each attribute is evaluated with hcl-rs. Problems are
//! collected, not stopped at, and come back sorted by file and line.

mod blocks;
mod body;
mod desired;
mod errors;
mod eval;
mod files;
mod span;
mod suggest;
mod timestamp;
mod validate;
mod value;

pub use desired::*;
pub use errors::{ConfigError, ConfigErrors};

use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;

use hcl_edit::structure::Body;

use self::blocks::{
    TopBlock, cluster, hook, migration, replication, state, topic, topics, variable,
};
use self::body::Cx;
use self::eval::{Environment, Evaluator};
use self::span::SourceFile;

/// Inputs to evaluation that do not come from the files.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--var NAME=VALUE` values; they win over `FERRY_VAR_NAME` environment variables.
    pub vars: BTreeMap<String, String>,
}

/// Reads every `*.hcl` file of `dir` and evaluates it into the desired model.
///
/// Variable values come from `options.vars`, then `FERRY_VAR_NAME` in the process environment,
/// then the variable's `default`; `env()` reads the process environment.
pub fn load(dir: &Path, options: &LoadOptions) -> Result<Desired, ConfigErrors> {
    let env: Environment = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    load_with_env(dir, options, env)
}

/// [`load`] against a given environment instead of the process's.
pub(crate) fn load_with_env(
    dir: &Path,
    options: &LoadOptions,
    env: Environment,
) -> Result<Desired, ConfigErrors> {
    let files = files::read_dir(dir).map_err(ConfigErrors::sorted)?;
    let files_fingerprint = files::fingerprint(&files);
    eval::take_env_reads();
    let mut errors = Vec::new();
    let parsed = parse(files, &mut errors);
    // With a file unreadable, a block "missing" from the rest may just be in that file.
    let complete = errors.is_empty();
    let blocks = blocks::collect(&parsed, &mut errors);
    let of = |kind: &str| blocks.get(kind).map(Vec::as_slice).unwrap_or_default();

    let env = Rc::new(env);
    let plain = Evaluator::without_vars(env.clone());
    let mut cx = Cx {
        eval: &plain,
        dir: dir.to_path_buf(),
        errors,
    };
    let declarations: Vec<_> = validate::unique_names(of("variable"), &mut cx.errors)
        .into_iter()
        .filter_map(|b| variable::read(&mut cx, b))
        .collect();
    let variables = variable::resolve(
        &declarations,
        &options.vars,
        env.as_ref(),
        dir,
        &mut cx.errors,
    );
    let secrets = variable::sensitive_values(&variables);
    let inputs: BTreeMap<String, Option<hcl::Value>> = variables
        .iter()
        .map(|(name, v)| (name.clone(), v.value.clone()))
        .collect();
    let evaluator = Evaluator::with_vars(env.clone(), variables);
    let mut cx = Cx {
        eval: &evaluator,
        dir: dir.to_path_buf(),
        errors: cx.errors,
    };

    let migration = read_one(
        &mut cx,
        of("migration"),
        complete,
        "migration",
        "migration \"NAME\" { scheme = \"mirror\" }",
        migration::read,
    );
    let (source, target) = read_clusters(&mut cx, of("cluster"), complete);
    let topic_defaults = validate::at_most_one(of("topics"), &mut cx.errors)
        .map(|b| topics::read_topics(&mut cx, b));
    let groups = validate::at_most_one(of("consumer_groups"), &mut cx.errors)
        .map(|b| topics::read_groups(&mut cx, b));
    let replication = validate::at_most_one(of("replication"), &mut cx.errors)
        .map(|b| replication::read(&mut cx, b));
    let state = validate::at_most_one(of("state"), &mut cx.errors).map(|b| state::read(&mut cx, b));

    let mut topic_blocks: Vec<TopicBlock> = validate::unique_names(of("topic"), &mut cx.errors)
        .into_iter()
        .filter_map(|b| topic::read(&mut cx, b))
        .collect();
    validate::target_names(&topic_blocks, &mut cx.errors);
    if let Some(target) = &target
        && target.ckafka.is_none()
    {
        validate::adjustments_need_ckafka(&topic_blocks, &mut cx.errors);
    }
    topic_blocks.sort_by(|a, b| a.name.cmp(&b.name));

    let hook_blocks = validate::unique_names(of("hook"), &mut cx.errors);
    let hooks: BTreeMap<String, Hook> = hook_blocks
        .iter()
        .filter_map(|b| hook::read(&mut cx, b))
        .map(|h| {
            (
                h.name.clone(),
                Hook {
                    secrets: secrets.clone(),
                    ..h
                },
            )
        })
        .collect();
    if let Some(Some(migration)) = &migration
        && complete
    {
        validate::hooks(migration, &hook_blocks, &mut cx.errors);
    }

    if !cx.errors.is_empty() {
        // The readers mask what they know to be sensitive; this catches any message or key
        // path (a map key read from a variable) that still quotes a sensitive value.
        let masker = crate::masking::Masker::new(secrets.iter().map(|s| s.expose().to_string()));
        for e in &mut cx.errors {
            e.message = masker.mask(&e.message).into_owned();
            e.key = masker.mask(&e.key).into_owned();
        }
        return Err(ConfigErrors::sorted(cx.errors));
    }
    let fingerprint = evaluated_fingerprint(&files_fingerprint, &inputs, &eval::take_env_reads());
    let missing = || {
        ConfigErrors(vec![ConfigError::in_dir(
            dir,
            "",
            "incomplete configuration",
        )])
    };
    Ok(Desired {
        migration: migration.flatten().ok_or_else(missing)?,
        source: source.ok_or_else(missing)?,
        target: target.ok_or_else(missing)?,
        topics: topic_defaults.flatten().unwrap_or_default(),
        topic_blocks,
        groups: groups.flatten().unwrap_or_default(),
        hooks,
        replication: replication.flatten().unwrap_or_default(),
        state: state.flatten().unwrap_or_else(|| StateSettings {
            path: dir.join(state::DEFAULT_PATH),
        }),
        fingerprint,
        secrets,
    })
}

/// The configuration's fingerprint: one SHA-256 over the HCL files' own fingerprint, every
/// variable's resolved value (from `--var`, `FERRY_VAR_*` or its default) and every `env()`
/// value read, so a saved plan goes stale when any input changes, not only the text. Sensitive
/// values enter only through this digest, never as text.
fn evaluated_fingerprint(
    files: &str,
    variables: &BTreeMap<String, Option<hcl::Value>>,
    env_reads: &BTreeMap<String, Option<String>>,
) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(files.as_bytes());
    let inputs = serde_json::json!({ "variables": variables, "env": env_reads });
    hasher.update(inputs.to_string().as_bytes());
    format!("{:x}", hasher.finalize())
}

/// Parses every file; a syntax error is reported with the parser's line and column.
fn parse(files: Vec<SourceFile>, errors: &mut Vec<ConfigError>) -> Vec<(SourceFile, Body)> {
    files
        .into_iter()
        .filter_map(|file| match hcl_edit::parser::parse_body(&file.text) {
            Ok(body) => Some((file, body)),
            Err(e) => {
                let at = file.location_line_col(e.location().line(), e.location().column());
                errors.push(ConfigError::new(
                    at,
                    "",
                    format!("syntax error: {}", e.message()),
                ));
                None
            }
        })
        .collect()
}

/// A block that must appear exactly once; `Some(None)` when it is there but wrong.
fn read_one<'a, T>(
    cx: &mut Cx,
    blocks: &[TopBlock<'a>],
    complete: bool,
    key: &str,
    example: &str,
    read: impl FnOnce(&mut Cx, &TopBlock<'a>) -> Option<T>,
) -> Option<Option<T>> {
    let block = if complete {
        validate::exactly_one(blocks, &cx.dir.clone(), key, example, &mut cx.errors)
    } else {
        validate::at_most_one(blocks, &mut cx.errors)
    };
    block.map(|b| read(cx, b))
}

/// `cluster "source"` and `cluster "target"`, each exactly once.
fn read_clusters(
    cx: &mut Cx,
    blocks: &[TopBlock],
    complete: bool,
) -> (Option<ClusterSettings>, Option<ClusterSettings>) {
    let mut by_role: BTreeMap<&str, Vec<TopBlock>> = BTreeMap::new();
    for b in blocks {
        if cluster::ROLES.contains(&b.label()) {
            by_role.entry(b.label()).or_default().push(b.clone());
        } else {
            // Reports the unknown label.
            cluster::read(cx, b);
        }
    }
    let mut read_role = |role: &str| {
        let blocks = by_role.get(role).map(Vec::as_slice).unwrap_or_default();
        let key = format!("cluster \"{role}\"");
        let example = format!("cluster \"{role}\" {{ bootstrap_servers = [\"host:9092\"] }}");
        read_one(cx, blocks, complete, &key, &example, cluster::read).flatten()
    };
    let source = read_role("source");
    let target = read_role("target");
    (source, target)
}

#[cfg(test)]
mod tests;
