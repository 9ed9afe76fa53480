//! The plan for people: Terraform-like symbols, colours by role, one summary line.

use std::fmt::Write;
use std::time::Duration;

use crate::config::StartFrom;
use crate::diff::{Action, GroupMove, TopicChange};
use crate::domain::{RetentionCut, duration_ms, rfc3339_ms};
use crate::plan::{ClusterSummary, GroupsOn, Plan, Step};

use super::{Theme, thousands};

pub fn human(plan: &Plan, theme: &Theme) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "ferry will migrate {} using scheme {}.",
        theme.heading.apply_to(format!("\"{}\"", plan.migration)),
        theme.heading.apply_to(plan.scheme)
    );
    let _ = writeln!(
        w,
        "Source: {}; target: {}.",
        cluster(&plan.source),
        cluster(&plan.target)
    );

    if !plan.topics.is_empty() {
        let _ = writeln!(w);
        let width = plan
            .topics
            .iter()
            .map(|t| title(t).len())
            .max()
            .unwrap_or(0);
        for t in plan.topics.iter().filter(|t| t.action != Action::NoOp) {
            topic(w, t, width, theme);
        }
        let unchanged: Vec<&str> = plan
            .topics_with(Action::NoOp)
            .map(|t| t.target_name.as_str())
            .collect();
        if !unchanged.is_empty() {
            let _ = writeln!(
                w,
                "  {}",
                theme.note.apply_to(format!(
                    "= {} already as declared on target: {}",
                    count(unchanged.len(), "topic"),
                    names(&unchanged, 8)
                ))
            );
        }
    }
    if !plan.unmanaged_target_topics.is_empty() {
        let names: Vec<&str> = plan
            .unmanaged_target_topics
            .iter()
            .map(String::as_str)
            .collect();
        let _ = writeln!(
            w,
            "\n{}",
            theme.note.apply_to(format!(
                "Target topics ferry does not manage (never touched): {}",
                self::names(&names, 10)
            ))
        );
    }
    if !plan.groups.is_empty() {
        let _ = writeln!(w, "\nConsumer groups carried over:");
        let width = plan.groups.iter().map(|g| g.name.len()).max().unwrap_or(0);
        for g in &plan.groups {
            group(w, g, width);
        }
    }
    if !plan.steps.is_empty() {
        let _ = writeln!(w, "\nSteps:");
        for (i, s) in plan.steps.iter().enumerate() {
            if i < plan.completed_steps {
                let _ = writeln!(
                    w,
                    "  {:>2}. {}",
                    i + 1,
                    theme.note.apply_to(format!("{} (done)", describe_step(s)))
                );
            } else {
                let _ = writeln!(w, "  {:>2}. {}", i + 1, describe_step(s));
            }
        }
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(w);
        for warning in &plan.warnings {
            let _ = writeln!(w, "{} {warning}", theme.warning.apply_to("Warning:"));
        }
    }
    let s = plan.summary;
    let remaining = if plan.completed_steps > 0 {
        format!(
            " ({} done, {} to go)",
            plan.completed_steps,
            s.steps - plan.completed_steps
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        w,
        "\n{} {} to create, {} to change, {} blocked, {}{remaining}.",
        theme.heading.apply_to("Plan:"),
        s.create,
        s.change,
        s.blocked,
        count(s.steps, "step")
    );
    if s.blocked > 0 {
        let _ = writeln!(w, "{}", theme.blocked.apply_to("Blocked topics must be fixed in the configuration or on the target before apply can run."));
    }
    out
}

fn cluster(c: &ClusterSummary) -> String {
    format!(
        "cluster {} ({}, {})",
        c.cluster_id
            .as_deref()
            .map_or("(no id)".to_string(), |id| format!("\"{id}\"")),
        count(c.brokers, "broker"),
        count(c.topics, "topic")
    )
}

pub(super) fn title(t: &TopicChange) -> String {
    if t.name == t.target_name {
        format!("topic \"{}\"", t.name)
    } else {
        format!("topic \"{}\" -> \"{}\"", t.name, t.target_name)
    }
}

fn topic(w: &mut String, t: &TopicChange, width: usize, theme: &Theme) {
    let style = match t.action {
        Action::Create => &theme.create,
        Action::Update => &theme.update,
        Action::Blocked => &theme.blocked,
        Action::NoOp => &theme.note,
    };
    let what = match t.action {
        Action::Create => "(create on target)".to_string(),
        Action::Update => "(update on target)".to_string(),
        Action::NoOp => "(unchanged)".to_string(),
        Action::Blocked => format!("blocked: {}", t.blocked.join("; ")),
    };
    let _ = writeln!(
        w,
        "  {} {:<width$}  {}",
        style.apply_to(t.action.symbol()),
        title(t),
        style.apply_to(what)
    );
    if t.action == Action::Blocked {
        adjustments(w, t, theme);
        return;
    }

    let rows = topic_rows(t);
    let key_width = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    for (symbol, key, value) in rows {
        let s = if symbol == "+" {
            &theme.create
        } else {
            &theme.update
        };
        let _ = writeln!(
            w,
            "      {} {key:<key_width$} = {value}",
            s.apply_to(symbol)
        );
    }
    adjustments(w, t, theme);
    for n in &t.not_carried {
        let value = n
            .value
            .as_deref()
            .map_or("(sensitive)".to_string(), |v| format!("\"{v}\""));
        let _ = writeln!(
            w,
            "      {}",
            theme
                .note
                .apply_to(format!("# not carried: {} = {value} ({})", n.key, n.reason))
        );
    }
    for n in &t.notes {
        let _ = writeln!(w, "      {}", theme.note.apply_to(format!("# {n}")));
    }
    if let Some(cut) = &t.retention_cut {
        let _ = writeln!(w, "      {}", theme.note.apply_to(retention_note(cut)));
    }
}

/// One line under a topic whose target keeps records for less time than the source.
fn retention_note(cut: &RetentionCut) -> String {
    let keeps = format!(
        "# the target keeps {}, the source {}",
        duration_ms(cut.target_retention_ms),
        cut.source_retention_ms
            .map_or("forever".to_string(), duration_ms)
    );
    let left = cut.left_behind();
    let older = format!("older than {}", rfc3339_ms(cut.older_than_ms));
    if left == 0 {
        format!("{keeps}: no record on the source is {older} today")
    } else if cut.applies {
        format!(
            "{keeps}: the copy starts at the first record kept, {}; {} {older} stay behind",
            cut.first_kept(),
            cut.left_behind_text()
        )
    } else {
        format!(
            "{keeps}: start_from is declared, so the copy includes {} {older}, which the target deletes soon after",
            cut.left_behind_text()
        )
    }
}

/// The attribute lines under a topic: symbol (`+` set, `~` changed), key, value.
pub(super) fn topic_rows(t: &TopicChange) -> Vec<(&'static str, String, String)> {
    let mut rows: Vec<(&'static str, String, String)> = Vec::new();
    if let Some(p) = t.partitions {
        match t.target_partitions {
            Some(now) => rows.push(("~", "partitions".into(), format!("{now} -> {}", p.value))),
            None => {
                let hint = match t.source_partitions {
                    Some(s) if s != p.value => format!("   (source: {s})"),
                    _ => String::new(),
                };
                rows.push(("+", "partitions".into(), format!("{}{hint}", p.value)));
            }
        }
    }
    if let Some(r) = t.replication_factor {
        rows.push(("+", "replication_factor".into(), r.value.to_string()));
    }
    for c in &t.config {
        let key = format!("config.{}", c.key);
        match (&c.before, t.exists_on_target) {
            (Some(before), true) => {
                rows.push(("~", key, format!("\"{before}\" -> \"{}\"", c.after)))
            }
            _ => rows.push(("+", key, format!("\"{}\"", c.after))),
        }
    }
    rows
}

/// Values the target's rules change, each with its reason and whether the HCL approved it.
fn adjustments(w: &mut String, t: &TopicChange, theme: &Theme) {
    for a in &t.adjustments {
        let show = |v: &Option<String>| match v {
            Some(v) if a.key.starts_with("config.") => format!("\"{v}\""),
            Some(v) => v.clone(),
            None => "(not set)".to_string(),
        };
        let (style, verdict) = if a.accepted {
            (&theme.update, "accepted")
        } else {
            (&theme.blocked, "not accepted")
        };
        let _ = writeln!(
            w,
            "      {} adjusted {}: {} -> {}  {}",
            style.apply_to("~"),
            a.key,
            show(&a.from),
            show(&a.to),
            theme.note.apply_to(format!("({}; {verdict})", a.reason))
        );
    }
}

fn group(w: &mut String, g: &GroupMove, width: usize) {
    let members = if g.source_members == 0 {
        g.source_state.clone()
    } else {
        format!("{}, {}", g.source_state, count(g.source_members, "member"))
    };
    let on_target = match &g.target_state {
        Some(state) => format!(
            ", on target: {state} with {}",
            count(g.target_members, "member")
        ),
        None => String::new(),
    };
    let _ = writeln!(
        w,
        "  {:<width$}  {members}; {}, lag {}{on_target}",
        g.name,
        count(g.partitions.len(), "partition"),
        thousands(g.lag() as u64)
    );
}

/// One line per step, as the plan and apply's progress say it.
pub fn describe_step(s: &Step) -> String {
    match s {
        Step::ApplyTopics { create, update } => {
            let mut parts = Vec::new();
            if !create.is_empty() {
                parts.push(format!("create {}", count(create.len(), "topic")));
            }
            if !update.is_empty() {
                parts.push(format!("update {}", count(update.len(), "topic")));
            }
            format!("{} on target", parts.join(", "))
        }
        Step::CopyData {
            topics,
            start_from,
            volume,
            fenced,
        } => {
            let bytes = volume
                .bytes
                .map(|b| format!(", {}", bytes(b)))
                .unwrap_or_default();
            let fencing = if *fenced {
                ", in transactions that fence an interrupted run"
            } else {
                ""
            };
            format!(
                "copy {} {} ({}, {}{bytes}){fencing}",
                count(topics.len(), "topic"),
                from(*start_from),
                count(volume.partitions, "partition"),
                count_u64(volume.records, "record")
            )
        }
        Step::WaitReplicationCaughtUp {
            max_lag,
            max_lag_time_ms,
            ..
        } => format!(
            "wait until replication lag is within {} and {} per partition for the settle period (the copy keeps running until the drain)",
            count_u64((*max_lag).max(0) as u64, "record"),
            humantime::format_duration(Duration::from_millis(*max_lag_time_ms))
        ),
        Step::RunHook { hook, declared } => {
            let note = match hook.as_str() {
                "stop_source_producers" => " (the write pause starts)",
                "start_target_producers" => {
                    " (the write pause ends; the point of no return: after this `ferry rollback` no longer returns consumers to the source)"
                }
                _ => "",
            };
            if *declared {
                format!("run hook {hook}{note}")
            } else {
                format!("run hook {hook} (not declared: apply will stop here)")
            }
        }
        Step::WaitGroupsStopped { groups } => format!(
            "wait until {} no members on the source and committed offsets that hold still",
            group_names(groups) + if groups.len() == 1 { " has" } else { " have" }
        ),
        Step::WaitSourceQuiet { .. } => {
            "wait until the source's end offsets hold still (every producer stopped)".to_string()
        }
        Step::TranslateOffsets { groups, partitions } => {
            format!(
                "translate and commit offsets for {} ({}) on the target, read back",
                count(groups.len(), "group"),
                count(*partitions, "partition")
            )
        }
        Step::CommitStartOffsets { groups, partitions } => format!(
            "commit offsets at the start of every target partition for {} ({}), so the backlog is not skipped",
            count(groups.len(), "group"),
            count(*partitions, "partition")
        ),
        Step::WaitGroupsActive { groups, on } => format!(
            "wait until {} {} active members on the {}",
            group_names(groups),
            if groups.len() == 1 { "has" } else { "have" },
            match on {
                GroupsOn::Source => "source",
                GroupsOn::Target => "target",
            }
        ),
        Step::WaitGroupsDrained { groups } => {
            format!(
                "wait until {} drained the source (lag 0, stable)",
                group_names(groups) + if groups.len() == 1 { " has" } else { " have" }
            )
        }
        Step::DrainReplication { .. } => {
            "copy the last records, then stop the background copy".to_string()
        }
        Step::Verify { partitions, .. } => format!(
            "verify record counts and checksums per partition ({})",
            count(*partitions, "partition")
        ),
    }
}

fn from(start: StartFrom) -> String {
    match start {
        StartFrom::Earliest => "from earliest".into(),
        StartFrom::Latest => "from latest".into(),
        StartFrom::Committed => "from the groups' committed offsets".into(),
        StartFrom::Timestamp(ms) => format!("from {}", rfc3339_ms(ms)),
    }
}

fn group_names(groups: &[String]) -> String {
    let names: Vec<&str> = groups.iter().map(String::as_str).collect();
    format!(
        "{} {}",
        if groups.len() == 1 { "group" } else { "groups" },
        self::names(&names, 3)
    )
}

/// "a, b, c and 4 more".
pub(super) fn names(all: &[&str], shown: usize) -> String {
    if all.len() <= shown {
        all.join(", ")
    } else {
        format!("{} and {} more", all[..shown].join(", "), all.len() - shown)
    }
}

pub(super) fn count(n: usize, noun: &str) -> String {
    count_u64(n as u64, noun)
}

fn count_u64(n: u64, noun: &str) -> String {
    format!("{} {noun}{}", thousands(n), if n == 1 { "" } else { "s" })
}

fn bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}
