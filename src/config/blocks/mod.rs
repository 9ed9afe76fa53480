//! Top-level blocks: which kinds exist, their labels, and one reader per kind.

pub(crate) mod cluster;
mod duration;
pub(crate) mod hook;
pub(crate) mod migration;
pub(crate) mod replication;
pub(crate) mod state;
pub(crate) mod topic;
pub(crate) mod topics;
pub(crate) mod variable;

use std::collections::BTreeMap;

use hcl_edit::Span;
use hcl_edit::structure::{Block, Body, Structure};

use super::body::{block_location, block_name};
use super::span::SourceFile;
use super::suggest::did_you_mean;
use super::{ConfigError, Location};

/// Every top-level block type, with the labels it takes (what they mean, for messages).
const KINDS: &[(&str, &[&str])] = &[
    ("migration", &["the migration name"]),
    ("variable", &["the variable name"]),
    ("cluster", &["\"source\" or \"target\""]),
    ("topics", &[]),
    ("topic", &["the source topic name"]),
    ("consumer_groups", &[]),
    ("hook", &["the hook name"]),
    ("replication", &[]),
    ("state", &[]),
];

/// A top-level block with its labels checked.
#[derive(Clone)]
pub(crate) struct TopBlock<'a> {
    pub file: &'a SourceFile,
    pub block: &'a Block,
    pub labels: Vec<String>,
    /// `topic "orders"`: the key prefix of everything inside.
    pub name: String,
    pub location: Location,
}

impl TopBlock<'_> {
    /// The single label of a labelled block.
    pub fn label(&self) -> &str {
        self.labels.first().map(String::as_str).unwrap_or_default()
    }

    pub fn error(&self, message: impl Into<String>) -> ConfigError {
        ConfigError::new(self.location.clone(), self.name.clone(), message)
    }

    /// `main.hcl:3`: where this block is, for "the first is at ..." messages.
    pub fn at(&self) -> String {
        let file = self
            .location
            .file
            .file_name()
            .map(|f| f.to_string_lossy())
            .unwrap_or_default();
        format!("{file}:{}", self.location.line)
    }
}

/// Sorts the top-level blocks of all files by kind, in file-name and then file order; reports
/// top-level attributes, unknown block types and wrong labels.
pub(crate) fn collect<'a>(
    files: &'a [(SourceFile, Body)],
    errors: &mut Vec<ConfigError>,
) -> BTreeMap<&'static str, Vec<TopBlock<'a>>> {
    let mut out: BTreeMap<&'static str, Vec<TopBlock<'a>>> = BTreeMap::new();
    let kinds = || KINDS.iter().map(|(k, _)| *k);
    for (file, body) in files {
        for structure in body.iter() {
            let block = match structure {
                Structure::Block(block) => block,
                Structure::Attribute(attr) => {
                    let name = attr.key.as_str();
                    let hint = match KINDS.iter().find(|(k, _)| *k == name) {
                        Some(_) => format!("; {name} is a block: write {name} {{ ... }}"),
                        None => "; only blocks are allowed at the top level".to_string(),
                    };
                    errors.push(ConfigError::new(
                        file.location(attr.key.span()),
                        name,
                        format!("unexpected attribute{hint}"),
                    ));
                    continue;
                }
            };
            let ident = block.ident.as_str();
            let location = block_location(file, block);
            let Some(&(kind, labels)) = KINDS.iter().find(|(k, _)| *k == ident) else {
                let suggestion = did_you_mean(ident, kinds());
                let message = if suggestion.is_empty() {
                    format!(
                        "unknown block; blocks are {}",
                        kinds().collect::<Vec<_>>().join(", ")
                    )
                } else {
                    format!("unknown block{suggestion}")
                };
                errors.push(ConfigError::new(location, block_name(block), message));
                continue;
            };
            if block.labels.len() != labels.len() {
                let message = match labels {
                    [] => format!("{kind} takes no label: write {kind} {{ ... }}"),
                    [what] => {
                        format!("{kind} takes one label, {what}: write {kind} \"NAME\" {{ ... }}")
                    }
                    _ => format!("{kind} takes {} labels", labels.len()),
                };
                errors.push(ConfigError::new(location, block_name(block), message));
                continue;
            }
            out.entry(kind).or_default().push(TopBlock {
                file,
                block,
                labels: block
                    .labels
                    .iter()
                    .map(|l| l.as_str().to_string())
                    .collect(),
                name: block_name(block),
                location,
            });
        }
    }
    out
}
