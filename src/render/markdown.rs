//! The plan as a pull-request comment (GitHub-flavoured Markdown): the summary first, what needs
//! a reviewer's eye (blocked topics, warnings) as callouts, per-topic changes folded away, the
//! steps, and what the exit code means.

use std::fmt::Write;

use crate::diff::{Action, Adjustment, TopicChange};
use crate::plan::{ClusterSummary, Plan};

use super::human::{count, describe_step, names, title, topic_rows};
use super::thousands;

/// A hidden line CI can look for to update its earlier comment instead of adding another.
pub const PLAN_MARKER: &str = "<!-- ferry-plan -->";

pub fn markdown(plan: &Plan) -> String {
    let mut out = String::new();
    let w = &mut out;
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
        "### ferry plan: {} to create, {} to change, {} blocked, {}{remaining}",
        s.create,
        s.change,
        s.blocked,
        count(s.steps, "step")
    );
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "Migration `{}` using scheme `{}`. Source: {}; target: {}.",
        plan.migration,
        plan.scheme,
        cluster(&plan.source),
        cluster(&plan.target)
    );
    if !plan.targets.is_empty() {
        let targets: Vec<String> = plan.targets.iter().map(|t| format!("`{t}`")).collect();
        let _ = writeln!(w, "\nLimited with `-target` to {}.", targets.join(", "));
    }

    let blocked: Vec<&TopicChange> = plan.topics_with(Action::Blocked).collect();
    if !blocked.is_empty() {
        let _ = writeln!(w, "\n> [!CAUTION]");
        let _ = writeln!(
            w,
            "> **{} blocked**: apply refuses to run until {} fixed in the configuration or on the target.",
            count(blocked.len(), "topic"),
            if blocked.len() == 1 {
                "it is"
            } else {
                "each is"
            }
        );
        for t in &blocked {
            let _ = writeln!(
                w,
                "> - `{}`: {}",
                t.target_name,
                escape(&t.blocked.join("; "))
            );
        }
    }
    let adjusted: Vec<(&TopicChange, &Adjustment)> = plan
        .topics
        .iter()
        .flat_map(|t| t.adjustments.iter().map(move |a| (t, a)))
        .collect();
    if !adjusted.is_empty() {
        let _ = writeln!(w, "\n> [!IMPORTANT]");
        let _ = writeln!(
            w,
            "> **{}** the target's rules force; each needs `accept_adjustments = true` in the HCL.",
            count(adjusted.len(), "value change")
        );
        for (t, a) in adjusted {
            let _ = writeln!(
                w,
                "> - `{}` {}: {} -> {} ({}; **{}**)",
                t.target_name,
                a.key,
                adjusted_value(&a.from),
                adjusted_value(&a.to),
                escape(&a.reason),
                if a.accepted {
                    "accepted"
                } else {
                    "not accepted"
                }
            );
        }
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(w, "\n> [!WARNING]");
        for warning in &plan.warnings {
            let _ = writeln!(w, "> - {}", escape(warning));
        }
    }
    let not_carried: usize = plan.topics.iter().map(|t| t.not_carried.len()).sum();
    if not_carried > 0 {
        let _ = writeln!(w, "\n> [!NOTE]");
        let _ = writeln!(
            w,
            "> {} on the source will not be carried to the target (listed under {} as `# not carried`).",
            count(not_carried, "topic config"),
            if plan
                .topics
                .iter()
                .filter(|t| !t.not_carried.is_empty())
                .count()
                == 1
            {
                "its topic"
            } else {
                "their topics"
            }
        );
    }

    let changed: Vec<&TopicChange> = plan
        .topics
        .iter()
        .filter(|t| matches!(t.action, Action::Create | Action::Update))
        .collect();
    if !changed.is_empty() {
        let _ = writeln!(
            w,
            "\n<details><summary>Topic changes: {} to create, {} to change</summary>\n",
            s.create, s.change
        );
        let _ = writeln!(w, "```diff");
        for t in changed {
            topic(w, t);
        }
        let _ = writeln!(w, "```\n\n</details>");
    }
    let unchanged: Vec<&str> = plan
        .topics_with(Action::NoOp)
        .map(|t| t.target_name.as_str())
        .collect();
    if !unchanged.is_empty() {
        let _ = writeln!(
            w,
            "\n{} already as declared on the target: {}.",
            count(unchanged.len(), "topic"),
            code_names(&unchanged, 20)
        );
    }
    if !plan.unmanaged_target_topics.is_empty() {
        let unmanaged: Vec<&str> = plan
            .unmanaged_target_topics
            .iter()
            .map(String::as_str)
            .collect();
        let _ = writeln!(
            w,
            "\nTarget topics ferry does not manage (never touched): {}.",
            code_names(&unmanaged, 20)
        );
    }

    if !plan.groups.is_empty() {
        let _ = writeln!(
            w,
            "\n<details><summary>Consumer groups carried over: {}</summary>\n",
            plan.groups.len()
        );
        let _ = writeln!(w, "| group | on source | partitions | lag |");
        let _ = writeln!(w, "|---|---|---:|---:|");
        for g in &plan.groups {
            let state = if g.source_members == 0 {
                g.source_state.clone()
            } else {
                format!("{}, {}", g.source_state, count(g.source_members, "member"))
            };
            let _ = writeln!(
                w,
                "| `{}` | {state} | {} | {} |",
                g.name,
                g.partitions.len(),
                thousands(g.lag() as u64)
            );
        }
        let _ = writeln!(w, "\n</details>");
    }

    if !plan.steps.is_empty() {
        let _ = writeln!(w, "\n**Steps**\n");
        for (i, step) in plan.steps.iter().enumerate() {
            let done = if i < plan.completed_steps {
                " *(done)*"
            } else {
                ""
            };
            let _ = writeln!(w, "{}. {}{done}", i + 1, escape(&describe_step(step)));
        }
    }

    let meaning = if plan.has_changes() {
        "**2**: changes are pending"
    } else {
        "**0**: nothing to do"
    };
    let _ = writeln!(
        w,
        "\n<sub>`ferry plan --detailed-exitcode` exits {meaning} (1 means ferry failed).</sub>"
    );
    let _ = writeln!(w, "{PLAN_MARKER}");
    out
}

fn topic(w: &mut String, t: &TopicChange) {
    let what = match t.action {
        Action::Create => "(create on target)",
        _ => "(update on target)",
    };
    let _ = writeln!(w, "{} {}  {what}", t.action.symbol(), title(t));
    let rows = topic_rows(t);
    let width = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    for (symbol, key, value) in rows {
        let _ = writeln!(w, "{symbol}     {key:<width$} = {value}");
    }
    for a in &t.adjustments {
        let _ = writeln!(
            w,
            "~     adjusted {}: {} -> {} ({})",
            a.key,
            a.from.as_deref().unwrap_or("(not set)"),
            a.to.as_deref().unwrap_or("(not set)"),
            if a.accepted {
                "accepted"
            } else {
                "not accepted"
            }
        );
    }
    for n in &t.not_carried {
        let value = n
            .value
            .as_deref()
            .map_or("(sensitive)".to_string(), |v| format!("\"{v}\""));
        let _ = writeln!(w, "#     not carried: {} = {value} ({})", n.key, n.reason);
    }
    for n in &t.notes {
        let _ = writeln!(w, "#     {n}");
    }
}

fn adjusted_value(value: &Option<String>) -> String {
    value
        .as_deref()
        .map_or("(not set)".to_string(), |v| format!("`{v}`"))
}

fn cluster(c: &ClusterSummary) -> String {
    format!(
        "cluster {} ({}, {})",
        c.cluster_id
            .as_deref()
            .map_or("(no id)".to_string(), |id| format!("`{id}`")),
        count(c.brokers, "broker"),
        count(c.topics, "topic")
    )
}

/// `` `a`, `b` and 3 more ``.
pub(super) fn code_names(all: &[&str], shown: usize) -> String {
    let quoted: Vec<String> = all.iter().map(|n| format!("`{n}`")).collect();
    let refs: Vec<&str> = quoted.iter().map(String::as_str).collect();
    names(&refs, shown)
}

/// Free text (warnings, reasons) must not open HTML tags or tables in the comment.
pub(super) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
}
