//! Expression evaluation: `var.NAME` and `env(NAME[, DEFAULT])` over hcl-rs, with errors that
//! point at the reference and never print a value.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::rc::Rc;

use hcl::eval::{Context, ErrorKind, Evaluate, FuncArgs, FuncDef, ParamType};
use hcl_edit::Span;
use hcl_edit::expr::{Expression, Traversal, TraversalOperator};
use hcl_edit::visit::{Visit, visit_expr, visit_traversal};

use super::span::SourceFile;
use super::suggest::did_you_mean;
use super::value::type_name;
use super::{ConfigError, Location};

/// Prefix of environment variables that set a variable's value (`FERRY_VAR_NAME`).
pub(crate) const ENV_VAR_PREFIX: &str = "FERRY_VAR_";

/// A process environment snapshot: taken once per load so that `env()` and `FERRY_VAR_*` agree,
/// and so tests can evaluate against their own map instead of mutating the process.
pub(crate) type Environment = BTreeMap<String, String>;

/// A declared variable and the value it resolved to (if any).
#[derive(Debug, Clone)]
pub(crate) struct Variable {
    pub value: Option<hcl::Value>,
    pub sensitive: bool,
}

/// An attribute's value after evaluation, with what is needed to report problems with it.
#[derive(Debug, Clone)]
pub(crate) struct Evaluated<'a> {
    pub value: hcl::Value,
    /// The key holds a secret, or the expression reads a variable marked sensitive: messages
    /// must not print the value.
    pub sensitive: bool,
    pub key: String,
    pub location: Location,
    pub expr: &'a Expression,
    pub file: &'a SourceFile,
}

impl Evaluated<'_> {
    pub fn error(&self, message: impl Into<String>) -> ConfigError {
        ConfigError::new(self.location.clone(), self.key.clone(), message)
    }

    /// A value for a message: quoted, or hidden when sensitive.
    pub fn show(&self, text: &str) -> String {
        if self.sensitive {
            "(sensitive value)".to_string()
        } else {
            format!("\"{text}\"")
        }
    }

    /// Where element `index` of a list literal is written (else the attribute).
    pub fn element_location(&self, index: usize) -> Location {
        let span = match self.expr {
            Expression::Array(array) => array.get(index).and_then(|e| e.span()),
            _ => None,
        };
        span.map_or_else(|| self.location.clone(), |s| self.file.location_at(s.start))
    }

    /// Where key `name` of an object literal is written (else the attribute).
    pub fn entry_location(&self, name: &str) -> Location {
        let span = match self.expr {
            Expression::Object(object) => object
                .iter()
                .find(|(k, _)| object_key_str(k).as_deref() == Some(name))
                .and_then(|(k, _)| k.span()),
            _ => None,
        };
        span.map_or_else(|| self.location.clone(), |s| self.file.location_at(s.start))
    }
}

fn object_key_str(key: &hcl_edit::expr::ObjectKey) -> Option<String> {
    match key {
        hcl_edit::expr::ObjectKey::Ident(ident) => Some(ident.as_str().to_string()),
        hcl_edit::expr::ObjectKey::Expression(Expression::String(s)) => {
            Some(s.as_str().to_string())
        }
        hcl_edit::expr::ObjectKey::Expression(_) => None,
    }
}

thread_local! {
    /// The environment `env()` reads while an expression is evaluated: hcl-rs functions are plain
    /// `fn` pointers and cannot capture it.
    static ENVIRONMENT: RefCell<Option<Rc<Environment>>> = const { RefCell::new(None) };
    /// Every `env()` lookup since [`take_env_reads`] last ran: name -> value (None: unset), for
    /// the configuration's fingerprint.
    static ENV_READS: RefCell<BTreeMap<String, Option<String>>> = const { RefCell::new(BTreeMap::new()) };
}

/// The `env()` lookups made on this thread since the last call, and forgets them.
pub(crate) fn take_env_reads() -> BTreeMap<String, Option<String>> {
    ENV_READS.with(|reads| std::mem::take(&mut *reads.borrow_mut()))
}

/// `env("NAME")` or `env("NAME", "default")`. Messages name the variable, never its value.
fn env_func(args: FuncArgs) -> Result<hcl::Value, String> {
    let values = args.into_values();
    let (name, default) = match values.as_slice() {
        [hcl::Value::String(name)] => (name.clone(), None),
        [hcl::Value::String(name), default] => (name.clone(), Some(default.clone())),
        [] => {
            return Err(
                "expects a variable name: env(\"NAME\") or env(\"NAME\", \"default\")".into(),
            );
        }
        [first, ..] if !matches!(first, hcl::Value::String(_)) => {
            return Err(format!(
                "the variable name must be a string, found {}",
                type_name(first)
            ));
        }
        _ => return Err("takes at most two arguments: env(\"NAME\", \"default\")".into()),
    };
    let value = ENVIRONMENT.with(|env| {
        env.borrow()
            .as_ref()
            .and_then(|env| env.get(&name).cloned())
    });
    ENV_READS.with(|reads| {
        reads.borrow_mut().insert(name.clone(), value.clone());
    });
    match (value, default) {
        (Some(value), _) => Ok(hcl::Value::String(value)),
        (None, Some(default)) => Ok(default),
        (None, None) => Err(format!(
            "environment variable {name} is not set; set it, or give a default: env(\"{name}\", \"...\")"
        )),
    }
}

/// Evaluates attribute expressions against the declared variables and the environment.
pub(crate) struct Evaluator {
    ctx: Context<'static>,
    variables: BTreeMap<String, Variable>,
    env: Rc<Environment>,
    /// Variable defaults are evaluated before any variable has a value: `var` is refused there.
    allow_vars: bool,
}

impl Evaluator {
    /// An evaluator without variables, for `variable` blocks themselves.
    pub fn without_vars(env: Rc<Environment>) -> Self {
        let mut ctx = Context::new();
        ctx.declare_func(
            "env",
            FuncDef::builder()
                .variadic_param(ParamType::Any)
                .build(env_func),
        );
        Evaluator {
            ctx,
            variables: BTreeMap::new(),
            env,
            allow_vars: false,
        }
    }

    pub fn with_vars(env: Rc<Environment>, variables: BTreeMap<String, Variable>) -> Self {
        let mut evaluator = Evaluator::without_vars(env);
        let values: hcl::Map<String, hcl::Value> = variables
            .iter()
            .filter_map(|(name, v)| v.value.clone().map(|value| (name.clone(), value)))
            .collect();
        evaluator.ctx.declare_var("var", hcl::Value::Object(values));
        evaluator.variables = variables;
        evaluator.allow_vars = true;
        evaluator
    }

    /// Evaluates one attribute value. `secret` marks keys whose value must never be printed.
    pub fn eval<'a>(
        &self,
        file: &'a SourceFile,
        expr: &'a Expression,
        key: &str,
        location: Location,
        secret: bool,
    ) -> Result<Evaluated<'a>, Vec<ConfigError>> {
        let mut refs = VarRefs::default();
        refs.visit_expr(expr);
        let mut errors = Vec::new();
        let mut sensitive = secret;
        for (name, span) in &refs.refs {
            let at = span
                .clone()
                .map_or_else(|| location.clone(), |s| file.location_at(s.start));
            if !self.allow_vars {
                errors.push(ConfigError::new(
                    at,
                    key,
                    "a variable's default cannot refer to variables",
                ));
                continue;
            }
            match self.variables.get(name) {
                None => errors.push(ConfigError::new(
                    at,
                    key,
                    format!(
                        "undeclared variable \"{name}\"{}",
                        match did_you_mean(name, self.variables.keys().map(String::as_str)) {
                            s if s.is_empty() => format!("; declare it with variable \"{name}\" {{}}"),
                            s => s,
                        }
                    ),
                )),
                Some(v) if v.value.is_none() => errors.push(ConfigError::new(
                    at,
                    key,
                    format!(
                        "variable \"{name}\" has no value: pass --var {name}=VALUE, set {ENV_VAR_PREFIX}{name}, or give it a default"
                    ),
                )),
                Some(v) => sensitive |= v.sensitive,
            }
        }
        for (name, span) in &refs.bad {
            let at = span
                .clone()
                .map_or_else(|| location.clone(), |s| file.location_at(s.start));
            errors.push(ConfigError::new(
                at,
                key,
                format!("variables are read as var.NAME, not {name}"),
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let hcl_expr = hcl::Expression::from(expr.clone());
        ENVIRONMENT.with(|env| *env.borrow_mut() = Some(self.env.clone()));
        let result = hcl_expr.evaluate(&self.ctx);
        ENVIRONMENT.with(|env| *env.borrow_mut() = None);
        match result {
            Ok(value) => Ok(Evaluated {
                value,
                sensitive,
                key: key.to_string(),
                location,
                expr,
                file,
            }),
            Err(e) => Err(vec![ConfigError::new(
                location,
                key,
                describe(e.kind(), sensitive),
            )]),
        }
    }
}

/// An evaluation error in words, without the values involved (they may be secrets).
fn describe(kind: &ErrorKind, sensitive: bool) -> String {
    match kind {
        ErrorKind::Message(m) if !sensitive => m.clone(),
        ErrorKind::UndefinedVar(name) => {
            format!("unknown name `{name}`; variables are written var.NAME, strings in quotes")
        }
        ErrorKind::UndefinedFunc(name) => {
            format!(
                "unknown function `{name}`; ferry provides env(\"NAME\") and env(\"NAME\", \"default\")"
            )
        }
        ErrorKind::Unexpected(value, expected) => {
            format!("expected {expected}, found {}", type_name(value))
        }
        ErrorKind::Index(index) => format!("index {index} is out of range"),
        ErrorKind::UnaryOp(op, value) => format!(
            "operator `{op}` cannot be applied to a {}",
            type_name(value)
        ),
        ErrorKind::BinaryOp(lhs, op, rhs) => format!(
            "operator `{op}` cannot be applied to a {} and a {}",
            type_name(lhs),
            type_name(rhs)
        ),
        ErrorKind::NoSuchKey(key) if !sensitive => format!("no such key `{key}`"),
        ErrorKind::KeyExists(key) if !sensitive => format!("key `{key}` is set twice"),
        ErrorKind::FuncCall(name, message) => format!("{name}(): {message}"),
        _ => "cannot evaluate the expression".to_string(),
    }
}

/// Collects `var.NAME` / `var["NAME"]` references (with their spans) in an expression.
#[derive(Default)]
struct VarRefs {
    refs: Vec<(String, Option<Range<usize>>)>,
    /// `var` used whole or indexed by a computed key: refused, since it cannot be checked.
    bad: Vec<(String, Option<Range<usize>>)>,
    seen: BTreeSet<String>,
}

impl Visit for VarRefs {
    fn visit_traversal(&mut self, node: &Traversal) {
        if let Expression::Variable(root) = &node.expr
            && root.as_str() == "var"
        {
            let name = node.operators.first().and_then(|op| match &**op {
                TraversalOperator::GetAttr(ident) => Some(ident.as_str().to_string()),
                TraversalOperator::Index(Expression::String(s)) => Some(s.as_str().to_string()),
                _ => None,
            });
            match name {
                Some(name) => {
                    if self.seen.insert(name.clone()) {
                        self.refs.push((name, node.span()));
                    }
                }
                None => self.bad.push(("a computed var[...]".into(), node.span())),
            }
            for op in node.operators.iter().skip(1) {
                self.visit_traversal_operator(op);
            }
            return;
        }
        visit_traversal(self, node);
    }

    fn visit_expr(&mut self, node: &Expression) {
        if let Expression::Variable(v) = node
            && v.as_str() == "var"
        {
            self.bad.push(("var on its own".into(), node.span()));
            return;
        }
        visit_expr(self, node);
    }
}
