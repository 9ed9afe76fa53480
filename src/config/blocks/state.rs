//! `state { path = ... }`: where apply records its progress.

use super::TopBlock;
use crate::config::body::{Cx, Fields};
use crate::config::{StateSettings, value};

pub(crate) const DEFAULT_PATH: &str = "ferry.state.json";

pub(crate) fn read(cx: &mut Cx, b: &TopBlock) -> Option<StateSettings> {
    let f = Fields::new(
        cx,
        b.file,
        b.name.clone(),
        b.location.clone(),
        &b.block.body,
        &["path"],
        &[],
    );
    let Some(ev) = f.get(cx, "path") else {
        return (!f.has("path")).then(|| StateSettings {
            path: cx.resolve(DEFAULT_PATH),
        });
    };
    let path = cx.convert(&ev, value::string)?;
    if path.trim().is_empty() {
        cx.errors.push(ev.error("must not be empty"));
        return None;
    }
    Some(StateSettings {
        path: cx.resolve(&path),
    })
}
