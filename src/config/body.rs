//! Reading one block body against its schema: unknown or repeated keys and blocks are reported
//! with a suggestion, and known attributes are evaluated on request.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hcl_edit::Span;
use hcl_edit::structure::{Attribute, Block, Body, Structure};

use super::eval::{Evaluated, Evaluator};
use super::span::SourceFile;
use super::suggest::closest;
use super::{ConfigError, Location};

/// What every block reader shares: the evaluator, the config directory and the error list.
pub(crate) struct Cx<'e> {
    pub eval: &'e Evaluator,
    pub dir: PathBuf,
    pub errors: Vec<ConfigError>,
}

impl Cx<'_> {
    pub fn error(
        &mut self,
        location: Location,
        key: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.errors.push(ConfigError::new(location, key, message));
    }

    /// Applies a conversion, reporting its failure at the attribute.
    pub fn convert<T>(
        &mut self,
        ev: &Evaluated,
        f: impl FnOnce(&hcl::Value) -> Result<T, String>,
    ) -> Option<T> {
        match f(&ev.value) {
            Ok(v) => Some(v),
            Err(message) if ev.sensitive => {
                let masker = crate::masking::Masker::new(super::value::scalar_texts(&ev.value));
                self.errors.push(ev.error(masker.mask(&message)));
                None
            }
            Err(message) => {
                self.errors.push(ev.error(message));
                None
            }
        }
    }

    /// A path from the configuration, relative to the config directory unless absolute.
    pub fn resolve(&self, path: &str) -> PathBuf {
        resolve(&self.dir, path)
    }
}

pub(crate) fn resolve(dir: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        dir.join(p)
    }
}

/// An optional value that may have failed: `None` (absent) is fine, `Some(None)` (present but
/// reported as wrong) is a failure. Lets a reader evaluate every key before giving up.
pub(crate) fn optional<T>(value: Option<Option<T>>) -> Option<Option<T>> {
    match value {
        None => Some(None),
        Some(None) => None,
        Some(Some(v)) => Some(Some(v)),
    }
}

/// The location of a block: its first token (the type name).
pub(crate) fn block_location(file: &SourceFile, block: &Block) -> Location {
    file.location(block.ident.span().or_else(|| block.span()))
}

/// `cluster "target"`: how a block is named in keys and messages.
pub(crate) fn block_name(block: &Block) -> String {
    let mut name = block.ident.as_str().to_string();
    for label in &block.labels {
        name.push_str(&format!(" \"{}\"", label.as_str()));
    }
    name
}

/// A block body checked against the attributes and nested blocks it may contain.
pub(crate) struct Fields<'a> {
    pub file: &'a SourceFile,
    /// Key prefix, e.g. `cluster "target".sasl`.
    pub path: String,
    pub location: Location,
    attrs: BTreeMap<&'a str, &'a Attribute>,
    blocks: BTreeMap<&'a str, &'a Block>,
    /// Names offered as "did you mean": a missing required one is not reported again.
    suggested: Vec<String>,
}

impl<'a> Fields<'a> {
    /// Checks `body` and reports unknown names (with the closest valid one), repeated names, and
    /// an attribute written where a block belongs or the other way round.
    pub fn new(
        cx: &mut Cx,
        file: &'a SourceFile,
        path: String,
        location: Location,
        body: &'a Body,
        attr_names: &[&str],
        block_names: &[&str],
    ) -> Self {
        let mut attrs: BTreeMap<&'a str, &'a Attribute> = BTreeMap::new();
        let mut blocks: BTreeMap<&'a str, &'a Block> = BTreeMap::new();
        let mut suggested = Vec::new();
        let mut unknown = |cx: &mut Cx, at, key, what, name: &str| {
            let near = closest(name, attr_names.iter().chain(block_names).copied());
            suggested.extend(near.map(str::to_string));
            cx.error(
                at,
                key,
                unknown_message(what, near, &path, attr_names, block_names),
            );
        };
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attr) => {
                    let name = attr.key.as_str();
                    let at = file.location(attr.key.span());
                    let key = format!("{path}.{name}");
                    if block_names.contains(&name) {
                        cx.error(
                            at,
                            key,
                            format!("{name} is a block: write {name} {{ ... }} without `=`"),
                        );
                    } else if !attr_names.contains(&name) {
                        unknown(cx, at, key, "key", name);
                    } else if let Some(first) = attrs.get(name) {
                        let first = file.location(first.key.span());
                        cx.error(
                            at,
                            key,
                            format!("set twice; the first is at line {}", first.line),
                        );
                    } else {
                        attrs.insert(name, attr);
                    }
                }
                Structure::Block(block) => {
                    let name = block.ident.as_str();
                    let at = block_location(file, block);
                    let key = format!("{path}.{name}");
                    if attr_names.contains(&name) {
                        cx.error(
                            at,
                            key,
                            format!("{name} is an attribute: write {name} = ..."),
                        );
                    } else if !block_names.contains(&name) {
                        unknown(cx, at, key, "block", name);
                    } else if !block.labels.is_empty() {
                        cx.error(at, key, format!("{name} takes no label"));
                    } else if let Some(first) = blocks.get(name) {
                        let first = block_location(file, first);
                        cx.error(
                            at,
                            key,
                            format!("declared twice; the first is at line {}", first.line),
                        );
                    } else {
                        blocks.insert(name, block);
                    }
                }
            }
        }
        Fields {
            file,
            path,
            location,
            attrs,
            blocks,
            suggested,
        }
    }

    pub fn key(&self, name: &str) -> String {
        format!("{}.{name}", self.path)
    }

    pub fn has(&self, name: &str) -> bool {
        self.attrs.contains_key(name)
    }

    pub fn block(&self, name: &str) -> Option<&'a Block> {
        self.blocks.get(name).copied()
    }

    /// Evaluates an attribute if present; evaluation errors are reported and give `None`. The
    /// key is one ferry shows in plans, the state file or logs, so a value read from a sensitive
    /// variable is refused (see [`Shown`]).
    pub fn get(&self, cx: &mut Cx, name: &str) -> Option<Evaluated<'a>> {
        self.eval(cx, name, Shown::Public)
    }

    /// Like [`Fields::get`] for connection settings and hook commands, which may read a
    /// sensitive variable: messages mask its value.
    pub fn get_masked(&self, cx: &mut Cx, name: &str) -> Option<Evaluated<'a>> {
        self.eval(cx, name, Shown::Masked)
    }

    /// Like [`Fields::get`] for keys holding secrets: no message may show the value.
    pub fn get_secret(&self, cx: &mut Cx, name: &str) -> Option<Evaluated<'a>> {
        self.eval(cx, name, Shown::Secret)
    }

    /// Like [`Fields::get`] (or its masked and secret forms), reporting a missing attribute at
    /// the block.
    pub fn required(&self, cx: &mut Cx, name: &str, shown: Shown) -> Option<Evaluated<'a>> {
        if !self.has(name) {
            if self.suggested.iter().any(|s| s == name) {
                return None;
            }
            cx.error(
                self.location.clone(),
                self.key(name),
                "missing; this key is required",
            );
            return None;
        }
        self.eval(cx, name, shown)
    }

    fn eval(&self, cx: &mut Cx, name: &str, shown: Shown) -> Option<Evaluated<'a>> {
        let attr = self.attrs.get(name)?;
        let location = self.file.location(attr.key.span());
        let secret = shown == Shown::Secret;
        match cx
            .eval
            .eval(self.file, &attr.value, &self.key(name), location, secret)
        {
            Ok(ev) if ev.sensitive && shown == Shown::Public => {
                cx.errors.push(ev.error(
                    "takes no sensitive value: ferry shows this key in plans, the state file and logs. Use a variable that is not marked sensitive here, or write the value",
                ));
                None
            }
            Ok(ev) => Some(ev),
            Err(errors) => {
                cx.errors.extend(errors);
                None
            }
        }
    }
}

/// Where a key's value may end up, which decides whether it may read a sensitive variable.
/// Terraform masks such values in its plans; ferry's plans, state and drift reports print topic
/// settings as data for review, so a key that shows up there refuses a sensitive value instead,
/// and only keys that reach no plan may take one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shown {
    /// Shown in plans, state or logs: a sensitive value is an error.
    Public,
    /// Connection settings, hook commands: may be sensitive, masked in every message.
    Masked,
    /// Always a secret (a password), whether or not it reads a variable.
    Secret,
}

/// "unknown key; did you mean ...?" or, with nothing close, the list of what is accepted.
fn unknown_message(
    what: &str,
    near: Option<&str>,
    path: &str,
    attr_names: &[&str],
    block_names: &[&str],
) -> String {
    if let Some(near) = near {
        return format!("unknown {what}; did you mean \"{near}\"?");
    }
    let mut accepted = Vec::new();
    if !attr_names.is_empty() {
        accepted.push(format!("keys {}", attr_names.join(", ")));
    }
    if !block_names.is_empty() {
        accepted.push(format!("blocks {}", block_names.join(", ")));
    }
    if accepted.is_empty() {
        format!("unknown {what}; {path} takes no keys")
    } else {
        format!("unknown {what}; {path} accepts {}", accepted.join(" and "))
    }
}
