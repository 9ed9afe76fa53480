//! Views of a drift report: for people, for machines, and for an issue or chat message.

use std::fmt::Write;

use crate::drift::{DriftFinding, DriftReport, Side};

use super::Theme;
use super::human::count;
use super::markdown::escape;

/// A hidden line an alerting job can look for to update its earlier message.
pub const DRIFT_MARKER: &str = "<!-- ferry-drift -->";

pub fn drift_human(report: &DriftReport, theme: &Theme) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "Drift check of migration {} ({}), {}.",
        theme.heading.apply_to(format!("\"{}\"", report.migration)),
        report.scheme,
        state(report)
    );
    for (side, title) in [(Side::Target, "Target"), (Side::Source, "Source")] {
        let found: Vec<&DriftFinding> = report
            .findings
            .iter()
            .filter(|f| f.cluster == side)
            .collect();
        if found.is_empty() {
            continue;
        }
        let _ = writeln!(w, "\n{title} cluster:");
        for f in found {
            let style = match f.kind.symbol() {
                "-" => &theme.blocked,
                "+" => &theme.create,
                _ => &theme.update,
            };
            let _ = writeln!(w, "  {} {}", style.apply_to(f.kind.symbol()), f.message);
        }
    }
    if !report.ignored.is_empty() {
        let names: Vec<&str> = report
            .ignored
            .iter()
            .filter_map(|f| f.topic.as_deref())
            .collect();
        let _ = writeln!(
            w,
            "\n{}",
            theme.note.apply_to(format!(
                "Not counted (--ignore-unmanaged): {} ferry does not manage: {}",
                count(names.len(), "target topic"),
                names.join(", ")
            ))
        );
    }
    let _ = writeln!(
        w,
        "\n{}",
        summary(report, |s| theme.heading.apply_to(s).to_string())
    );
    out
}

pub fn drift_json(report: &DriftReport) -> String {
    serde_json::to_string_pretty(report).expect("a drift report always serializes") + "\n"
}

pub fn drift_markdown(report: &DriftReport) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "### ferry drift: {}",
        summary(report, |s| s.to_string()).trim_end_matches('.')
    );
    let _ = writeln!(
        w,
        "\nMigration `{}` using scheme `{}`, {}.",
        report.migration,
        report.scheme,
        state(report)
    );
    if report.has_drift() {
        let _ = writeln!(w, "\n| cluster | kind | topic | detail |");
        let _ = writeln!(w, "|---|---|---|---|");
        for f in &report.findings {
            let _ = writeln!(
                w,
                "| {} | `{}` | {} | {} |",
                match f.cluster {
                    Side::Target => "target",
                    Side::Source => "source",
                },
                f.kind.as_str(),
                f.topic
                    .as_deref()
                    .map_or(String::new(), |t| format!("`{t}`")),
                escape(&f.message)
            );
        }
    }
    if !report.ignored.is_empty() {
        let names: Vec<String> = report
            .ignored
            .iter()
            .filter_map(|f| f.topic.as_deref())
            .map(|t| format!("`{t}`"))
            .collect();
        let _ = writeln!(
            w,
            "\nNot counted (`--ignore-unmanaged`): target topics ferry does not manage: {}.",
            names.join(", ")
        );
    }
    let meaning = if report.has_drift() {
        "**2**: drift found"
    } else {
        "**0**: no drift"
    };
    let _ = writeln!(
        w,
        "\n<sub>`ferry drift` exits {meaning} (1 means ferry failed).</sub>"
    );
    let _ = writeln!(w, "{DRIFT_MARKER}");
    out
}

fn state(report: &DriftReport) -> String {
    match report.state_serial {
        Some(serial) => format!("against state serial {serial}"),
        None => "no state file (no apply has run): compared with the configuration only".into(),
    }
}

fn summary(report: &DriftReport, heading: impl Fn(&str) -> String) -> String {
    let checked = format!(
        "{} and {} checked",
        count(report.topics_checked, "target topic"),
        count(report.offsets_checked, "committed offset")
    );
    if report.has_drift() {
        let on = |side| report.findings.iter().filter(|f| f.cluster == side).count();
        format!(
            "{} {} on the target, {} on the source ({checked}).",
            heading("Drift:"),
            count(on(Side::Target), "finding"),
            on(Side::Source)
        )
    } else {
        format!(
            "{} the clusters match the configuration and the state ({checked}).",
            heading("No drift:")
        )
    }
}
