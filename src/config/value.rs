//! Evaluated HCL values -> the plain types of the desired model. Messages name types, never values.

use std::collections::BTreeMap;

use hcl::Value;

/// How a value's type is named in messages: "expected a string, found number".
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

/// Every string, number and bool inside `value`, as text: what a message could quote of it.
pub(crate) fn scalar_texts(value: &Value) -> Vec<String> {
    fn collect(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(s) => out.push(s.clone()),
            Value::Number(n) => out.push(n.to_string()),
            Value::Bool(b) => out.push(b.to_string()),
            Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
            Value::Object(map) => map.iter().for_each(|(k, v)| {
                out.push(k.clone());
                collect(v, out)
            }),
            Value::Null => {}
        }
    }
    let mut out = Vec::new();
    collect(value, &mut out);
    out
}

pub(crate) fn string(value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        other => Err(format!("expected a string, found {}", type_name(other))),
    }
}

pub(crate) fn string_list(value: &Value) -> Result<Vec<String>, String> {
    let Value::Array(items) = value else {
        return Err(format!(
            "expected a list of strings, found {}",
            type_name(value)
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(s) => Ok(s.clone()),
            other => Err(format!(
                "expected a list of strings, found {} at index {i}",
                type_name(other)
            )),
        })
        .collect()
}

/// A whole number. Strings holding one are accepted because `--var` and `FERRY_VAR_*` values
/// always arrive as strings.
pub(crate) fn integer(value: &Value) -> Result<i64, String> {
    match value {
        Value::Number(n) => n.as_i64().ok_or_else(|| {
            if n.is_f64() {
                "expected a whole number, found a fraction".to_string()
            } else {
                "the number is too large".to_string()
            }
        }),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| "expected a whole number, found a string that is not one".to_string()),
        other => Err(format!(
            "expected a whole number, found {}",
            type_name(other)
        )),
    }
}

/// A whole number within `range`, as `i32` (partition counts, replication factors).
pub(crate) fn integer_in(value: &Value, min: i64, max: i64) -> Result<i32, String> {
    let n = integer(value)?;
    if n < min || n > max {
        return Err(format!("must be between {min} and {max}, found {n}"));
    }
    i32::try_from(n).map_err(|_| format!("must be between {min} and {max}"))
}

/// Any number (whole or not); strings holding one count, as for [`integer`].
pub(crate) fn number(value: &Value) -> Result<f64, String> {
    match value {
        Value::Number(n) => n.as_f64().ok_or_else(|| "not a number".to_string()),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| "expected a number, found a string that is not one".to_string()),
        other => Err(format!("expected a number, found {}", type_name(other))),
    }
}

/// A bool; the strings `true`/`false` count (they come from `--var`).
pub(crate) fn boolean(value: &Value) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" => Ok(true),
        Value::String(s) if s == "false" => Ok(false),
        other => Err(format!(
            "expected true or false, found {}",
            type_name(other)
        )),
    }
}

/// A scalar as the exact string Kafka expects: `604800000`, `true`, `0.5` (never `${...}`,
/// never an exponent).
pub(crate) fn scalar_string(value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(number_string(n)),
        other => Err(format!(
            "expected a string, number or bool, found {}",
            type_name(other)
        )),
    }
}

fn number_string(n: &hcl::Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        // Rust prints floats in the shortest form that reads back, without an exponent.
        format!("{}", n.as_f64().unwrap_or_default())
    }
}

/// An object whose values are scalars, converted with [`scalar_string`]. The outer error is for a
/// value that is not an object; per-entry errors come back with their key.
#[allow(clippy::type_complexity)]
pub(crate) fn string_map(value: &Value) -> Result<Vec<(String, Result<String, String>)>, String> {
    let Value::Object(map) = value else {
        return Err(format!(
            "expected a map (an object such as {{ \"key\" = \"value\" }}), found {}",
            type_name(value)
        ));
    };
    Ok(map
        .iter()
        .map(|(k, v)| (k.clone(), scalar_string(v)))
        .collect())
}

/// Collects the successful entries of a [`string_map`].
pub(crate) fn ok_entries(entries: &[(String, Result<String, String>)]) -> BTreeMap<String, String> {
    entries
        .iter()
        .filter_map(|(k, v)| v.as_ref().ok().map(|v| (k.clone(), v.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(text: &str) -> Value {
        let expr = hcl_edit::parser::parse_expr(text).unwrap();
        hcl::eval::Evaluate::evaluate(&hcl::Expression::from(expr), &hcl::eval::Context::new())
            .unwrap()
    }

    #[test]
    fn numbers_become_the_strings_kafka_wants() {
        assert_eq!(scalar_string(&num("604800000")).unwrap(), "604800000");
        assert_eq!(scalar_string(&num("0.5")).unwrap(), "0.5");
        assert_eq!(
            scalar_string(&num("7 * 24 * 3600 * 1000")).unwrap(),
            "604800000"
        );
        assert_eq!(scalar_string(&num("1e3")).unwrap(), "1000");
        assert_eq!(scalar_string(&num("-1")).unwrap(), "-1");
        assert_eq!(
            scalar_string(&num("9223372036854775807")).unwrap(),
            "9223372036854775807"
        );
        assert_eq!(scalar_string(&num("true")).unwrap(), "true");
    }

    #[test]
    fn fractions_are_not_whole_numbers() {
        assert_eq!(
            integer(&num("1.5")).unwrap_err(),
            "expected a whole number, found a fraction"
        );
        assert_eq!(integer(&num("12.0")).unwrap(), 12);
        assert_eq!(integer(&Value::String("12".into())).unwrap(), 12);
        assert!(
            integer_in(&num("0"), 1, 100000)
                .unwrap_err()
                .contains("between 1 and 100000")
        );
    }
}
