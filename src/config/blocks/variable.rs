//! `variable "NAME" { default, description, sensitive }` and where a variable's value comes
//! from: `--var NAME=VALUE`, then `FERRY_VAR_NAME`, then `default`.

use std::collections::BTreeMap;

use super::TopBlock;
use crate::config::ConfigError;
use crate::config::body::{Cx, Fields};
use crate::config::eval::{ENV_VAR_PREFIX, Environment, Evaluated, Variable};
use crate::config::value;

/// A variable as declared, before its value is chosen.
pub(crate) struct Declaration<'a> {
    pub name: String,
    pub default: Option<hcl::Value>,
    pub sensitive: bool,
    pub block: TopBlock<'a>,
}

/// Reads one `variable` block. `cx` must evaluate without variables: a default cannot use them.
pub(crate) fn read<'a>(cx: &mut Cx, b: &TopBlock<'a>) -> Option<Declaration<'a>> {
    let f = Fields::new(
        cx,
        b.file,
        b.name.clone(),
        b.location.clone(),
        &b.block.body,
        &["default", "description", "sensitive"],
        &[],
    );
    let name = b.label().to_string();
    if hcl::Identifier::new(name.as_str()).is_err() {
        cx.errors
            .push(b.error("a variable name must be an identifier (letters, digits, _ and -)"));
        return None;
    }
    let sensitive = f
        .get(cx, "sensitive")
        .and_then(|ev| cx.convert(&ev, value::boolean))
        .unwrap_or(false);
    if let Some(ev) = f.get(cx, "description") {
        cx.convert(&ev, value::string);
    }
    let default = if sensitive {
        f.get_secret(cx, "default")
    } else {
        f.get(cx, "default")
    };
    let default = default
        .map(|Evaluated { value, .. }| value)
        .filter(|v| !v.is_null());
    Some(Declaration {
        name,
        default,
        sensitive,
        block: b.clone(),
    })
}

/// Chooses each variable's value. `--var` names no variable declares are errors (typos).
pub(crate) fn resolve(
    declarations: &[Declaration],
    cli: &BTreeMap<String, String>,
    env: &Environment,
    dir: &std::path::Path,
    errors: &mut Vec<ConfigError>,
) -> BTreeMap<String, Variable> {
    let mut out = BTreeMap::new();
    for d in declarations {
        let given = cli.get(&d.name).map(|v| (v, "--var")).or_else(|| {
            env.get(&format!("{ENV_VAR_PREFIX}{}", d.name))
                .map(|v| (v, "the environment"))
        });
        let value = match given {
            Some((text, origin)) => Some(from_text(text, d, origin, errors)),
            None => d.default.clone(),
        };
        out.insert(
            d.name.clone(),
            Variable {
                value,
                sensitive: d.sensitive,
            },
        );
    }
    for name in cli.keys() {
        if !declarations.iter().any(|d| &d.name == name) {
            let names = declarations.iter().map(|d| d.name.as_str());
            let hint = crate::config::suggest::did_you_mean(name, names);
            errors.push(ConfigError::in_dir(
                dir,
                format!("var.{name}"),
                format!("--var sets a variable that no variable block declares{hint}"),
            ));
        }
    }
    out
}

/// A value given as text takes the type of the default: a number or bool default makes the text
/// a number or bool, a list or object default makes it an HCL literal of that shape; otherwise
/// (and without a default) it stays a string, and numbers convert where they are used.
fn from_text(
    text: &str,
    d: &Declaration,
    origin: &str,
    errors: &mut Vec<ConfigError>,
) -> hcl::Value {
    let (parsed, expected) = match &d.default {
        Some(hcl::Value::Number(_)) => {
            let n = text
                .trim()
                .parse::<i64>()
                .ok()
                .map(hcl::Value::from)
                .or_else(|| {
                    text.trim()
                        .parse::<f64>()
                        .ok()
                        .and_then(hcl::Number::from_f64)
                        .map(hcl::Value::Number)
                });
            (n, "a number, like the default")
        }
        Some(hcl::Value::Bool(_)) => {
            let b = match text.trim() {
                "true" => Some(hcl::Value::Bool(true)),
                "false" => Some(hcl::Value::Bool(false)),
                _ => None,
            };
            (b, "true or false, like the default")
        }
        Some(hcl::Value::Array(_) | hcl::Value::Object(_)) => {
            let v = hcl_edit::parser::parse_expr(text).ok().and_then(|expr| {
                hcl::eval::Evaluate::evaluate(
                    &hcl::Expression::from(expr),
                    &hcl::eval::Context::new(),
                )
                .ok()
            });
            let v = v.filter(|v| matches!(v, hcl::Value::Array(_) | hcl::Value::Object(_)));
            (
                v,
                "an HCL list or object like the default, e.g. [\"a\", \"b\"]",
            )
        }
        _ => return hcl::Value::String(text.to_string()),
    };
    parsed.unwrap_or_else(|| {
        errors.push(
            d.block
                .error(format!("the value from {origin} must be {expected}")),
        );
        hcl::Value::Null
    })
}

/// Every sensitive variable's value as text (each string, number or bool inside it), for
/// masking wherever it may be printed.
pub(crate) fn sensitive_values(
    variables: &BTreeMap<String, Variable>,
) -> Vec<crate::config::Secret> {
    variables
        .values()
        .filter(|v| v.sensitive)
        .filter_map(|v| v.value.as_ref())
        .flat_map(crate::config::value::scalar_texts)
        .map(crate::config::Secret::new)
        .collect()
}
