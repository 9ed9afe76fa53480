//! `ferry drift`.

use std::process::ExitCode;

use super::colors;
use super::session::{check_state, connect, own_state};
use crate::cli::{Cli, DriftArgs, Format};
use crate::config::Desired;
use crate::drift::{self, DriftReport};
use crate::error::Error;
use crate::render::{self, Theme};
use crate::state::StateStore;

/// `ferry drift`: the live clusters against the configuration and the state; exit 2 on drift.
/// Reads only: no lock, no state write.
pub(super) fn drift(
    cli: &Cli,
    desired: &Desired,
    store: &StateStore,
    args: &DriftArgs,
) -> Result<ExitCode, Error> {
    let state = own_state(desired, store)?;
    let session = connect(desired, &args.connect)?;
    if let Some(state) = &state {
        check_state(store, state, &session.snapshot)?;
    }
    let findings = drift::detect(
        desired,
        &session.snapshot,
        state.as_ref(),
        desired.target_platform(),
    );
    let report = DriftReport::build(
        desired,
        &session.snapshot,
        state.as_ref(),
        findings,
        args.ignore_unmanaged,
    );
    let text = match args.format {
        Format::Human => render::drift_human(&report, &Theme::new(colors(cli))),
        Format::Json => render::drift_json(&report),
        Format::Markdown => render::drift_markdown(&report),
    };
    print!("{text}");
    Ok(if report.has_drift() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
