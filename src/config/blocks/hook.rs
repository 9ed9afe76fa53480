//! `hook "NAME" { command, args, env, timeout }`: a client switch the migration calls.

use std::time::Duration;

use super::TopBlock;
use super::cluster::string_map;
use crate::config::body::{Cx, Fields, Shown, optional};
use crate::config::{Hook, value};

use super::duration::duration;

pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

pub(crate) fn read(cx: &mut Cx, b: &TopBlock) -> Option<Hook> {
    let f = Fields::new(
        cx,
        b.file,
        b.name.clone(),
        b.location.clone(),
        &b.block.body,
        &["command", "args", "env", "timeout"],
        &[],
    );
    let command = f.required(cx, "command", Shown::Masked).and_then(|ev| {
        let command = match &ev.value {
            hcl::Value::String(s) => vec![s.clone()],
            hcl::Value::Array(_) => cx.convert(&ev, value::string_list)?,
            other => {
                let found = value::type_name(other);
                cx.errors.push(ev.error(format!(
                    "expected a string or a list of strings, found {found}"
                )));
                return None;
            }
        };
        if command.first().is_none_or(|p| p.trim().is_empty()) {
            cx.errors
                .push(ev.error("needs a program to run: command = [\"./switch.sh\", \"arg\"]"));
            return None;
        }
        Some(command)
    });
    let args = f
        .get_masked(cx, "args")
        .map(|ev| cx.convert(&ev, value::string_list));
    let env = f.get_masked(cx, "env").map(|ev| string_map(cx, &ev));
    let timeout = f.get(cx, "timeout").map(|ev| duration(cx, &ev));
    let mut command = command?;
    command.extend(optional(args)?.unwrap_or_default());
    Some(Hook {
        name: b.label().to_string(),
        command,
        env: optional(env)?.unwrap_or_default(),
        secrets: Vec::new(),
        timeout: optional(timeout)?.unwrap_or(DEFAULT_TIMEOUT),
        location: b.location.clone(),
    })
}
