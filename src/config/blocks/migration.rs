//! `migration "NAME" { scheme = ... }`: what is migrated, and how.

use super::TopBlock;
use crate::config::body::{Cx, Fields};
use crate::config::suggest::did_you_mean;
use crate::config::{Migration, Scheme, value};

pub(crate) fn read(cx: &mut Cx, b: &TopBlock) -> Option<Migration> {
    let f = Fields::new(
        cx,
        b.file,
        b.name.clone(),
        b.location.clone(),
        &b.block.body,
        &["scheme"],
        &[],
    );
    let ev = f.required(cx, "scheme", false)?;
    let text = cx.convert(&ev, value::string)?;
    let Some(scheme) = Scheme::ALL.into_iter().find(|s| s.as_str() == text) else {
        let names: Vec<&str> = Scheme::ALL.iter().map(|s| s.as_str()).collect();
        let hint = did_you_mean(&text, names.iter().copied());
        let message = if hint.is_empty() {
            format!(
                "unknown scheme {}; expected one of {}",
                ev.show(&text),
                names.join(", ")
            )
        } else {
            format!("unknown scheme {}{hint}", ev.show(&text))
        };
        cx.errors.push(ev.error(message));
        return None;
    };
    Some(Migration {
        name: b.label().to_string(),
        scheme,
        location: b.location.clone(),
    })
}
