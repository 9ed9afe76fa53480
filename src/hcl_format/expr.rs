//! Multi-line arrays and objects: elements re-indented by depth, comments kept where they stand.
//! Every other expression (strings, heredocs, function calls, operators, `for`) and every
//! array or object written on one line is left exactly as written: its source text, taken by
//! its span, replaces it in the tree. Re-encoding it would not do: hcl-edit writes strings from
//! their decoded value (`"\u00e9"` becomes `"é"`, a tab becomes `\t`) and loses the comments
//! around binary operators (`1 + /* c */ 2`).

use hcl_edit::expr::{Array, Expression, Object, ObjectKey, ObjectValueTerminator};
use hcl_edit::{Decorate, Decorated, Ident, Span};

use super::align::{AlignItem, alignment};
use super::body::last_line_width;
use super::trivia::{Gap, after_token, before_token, inline_comments};
use super::{prefix, suffix};

/// Formats `expr`, whose first line is at `depth`; `src` is the text it was parsed from.
pub(super) fn format_expr(expr: &mut Expression, depth: usize, src: &str) {
    let laid_out = match expr {
        Expression::Array(array) => format_array(array, depth, src),
        Expression::Object(object) => format_object(object, depth, src),
        _ => false,
    };
    if !laid_out {
        verbatim(expr, src);
    }
}

/// Replaces `expr` by its source text (its decor kept), which the encoder then writes back
/// byte for byte. Without a span it stays as parsed.
pub(super) fn verbatim(expr: &mut Expression, src: &str) {
    if let Some(raw) = source_text(expr, src) {
        let ident = as_written(raw, expr.decor().clone());
        *expr = Expression::Variable(ident);
    }
}

/// The source text of a parsed item, its decor left out.
pub(super) fn source_text<'a>(item: &impl Span, src: &'a str) -> Option<&'a str> {
    item.span().and_then(|span| src.get(span))
}

/// Text the encoder writes as it is: an identifier is the one node written without escaping.
pub(super) fn as_written(raw: &str, decor: hcl_edit::Decor) -> Decorated<Ident> {
    let mut ident = Decorated::new(Ident::new_unchecked(raw));
    *ident.decor_mut() = decor;
    ident
}

/// Whether `expr` ends with a heredoc's closing marker, after which a line must end: a comma
/// or bracket may not follow on that line.
fn ends_with_heredoc(expr: &Expression) -> bool {
    match expr {
        Expression::HeredocTemplate(_) => true,
        Expression::BinaryOp(op) => ends_with_heredoc(&op.rhs_expr),
        Expression::Conditional(cond) => ends_with_heredoc(&cond.false_expr),
        Expression::UnaryOp(op) => ends_with_heredoc(&op.expr),
        _ => false,
    }
}

/// An array is laid out where a line break stands in its trivia (or a heredoc forces one);
/// line breaks are kept where they were written, elements starting a line go one level deeper,
/// a comma follows its element directly (comments move behind it).
fn format_array(array: &mut Array, depth: usize, src: &str) -> bool {
    let n = array.len();
    let heredoc: Vec<bool> = array.iter().map(ends_with_heredoc).collect();
    let prefixes: Vec<String> = array.iter().map(prefix).collect();
    let suffixes: Vec<String> = array.iter().map(suffix).collect();
    let trailing_comma = array.trailing_comma();
    // gaps[i]: the trivia before element i (after `[` or the comma); gaps[n]: before `]`.
    // The trivia after a heredoc stays apart when a comma follows: that comma starts a line.
    let mut gaps = Vec::with_capacity(n + 1);
    for i in 0..=n {
        let own = if i < n {
            prefixes[i].clone()
        } else {
            array.trailing().to_string()
        };
        let heredoc_closes = i == n && n > 0 && heredoc[n - 1] && !trailing_comma;
        let mut slots = Vec::new();
        if i > 0 && (!heredoc[i - 1] || heredoc_closes) {
            slots.push(suffixes[i - 1].as_str());
        }
        slots.push(own.as_str());
        let mut gap = Gap::new(slots, false);
        if heredoc_closes {
            gap.force_break();
        }
        gaps.push(gap);
    }
    let mut before_comma: Vec<Gap> = (0..n)
        .map(|i| {
            let mut gap = Gap::new([suffixes[i].as_str()], false);
            gap.force_break();
            gap
        })
        .collect();
    if !heredoc.iter().any(|&h| h) && !gaps.iter().any(|g| g.broken) {
        return false;
    }
    let mut line_depth = depth;
    for (i, e) in array.iter_mut().enumerate() {
        let gap = &mut gaps[i];
        if i == 0 {
            gap.trim_leading_blank();
        }
        let text = if gap.broken {
            line_depth = depth + 1;
            format!(
                "{}\n{}",
                gap.render_same_line(),
                gap.render_to_token(depth + 1)
            )
        } else if i == 0 {
            before_token(&gap.same_line)
        } else {
            format!(" {}", before_token(&gap.same_line))
        };
        e.decor_mut().set_prefix(text);
        let after = if heredoc[i] && (i + 1 < n || trailing_comma) {
            let gap = &mut before_comma[i];
            format!(
                "{}\n{}",
                gap.render_same_line(),
                gap.render_to_token(depth + 1)
            )
        } else {
            String::new()
        };
        e.decor_mut().set_suffix(after);
        format_expr(e, line_depth, src);
    }
    let close = &mut gaps[n];
    let text = if close.broken {
        if n == 0 {
            close.trim_leading_blank();
        }
        close.trim_trailing_blank();
        format!(
            "{}\n{}",
            close.render_same_line(),
            close.render_to_closing(depth + 1, depth)
        )
    } else {
        after_token(&close.same_line)
    };
    array.set_trailing(text);
    true
}

/// A multi-line object (a line break anywhere in its trivia) gets one entry per line one level
/// deeper, no commas, `=` aligned in groups, `}` on a line of its own.
fn format_object(object: &mut Object, depth: usize, src: &str) -> bool {
    let n = object.len();
    // slots[i]: the trivia before entry i (after `{`, the previous value and its terminator);
    // slots[n]: before `}`.
    let mut slots: Vec<Vec<String>> = vec![Vec::new(); n + 1];
    for (i, (key, value)) in object.iter().enumerate() {
        slots[i].push(prefix(key));
        slots[i + 1].push(suffix(value.expr()));
        match value.terminator() {
            ObjectValueTerminator::Newline => slots[i + 1].push("\n".into()),
            ObjectValueTerminator::Comma | ObjectValueTerminator::None => {}
        }
    }
    slots[n].push(object.trailing().to_string());
    let mut gaps: Vec<Gap> = slots
        .iter()
        .map(|s| Gap::new(s.iter().map(String::as_str), false))
        .collect();
    if !gaps.iter().any(|g| g.broken) {
        return false;
    }
    keys_as_written(object, src);
    gaps[0].trim_leading_blank();
    gaps[n].trim_trailing_blank();
    for gap in &mut gaps {
        gap.force_break();
    }
    let mut items = Vec::with_capacity(n);
    for (i, (mut key, value)) in object.iter_mut().enumerate() {
        let lead = if i == 0 {
            format!(
                "{}\n{}",
                gaps[0].render_same_line(),
                gaps[0].render_to_token(depth + 1)
            )
        } else {
            format!("\n{}", gaps[i].render_to_token(depth + 1))
        };
        key.decor_mut().set_prefix(lead);
        let head = format!(
            "{}{}",
            key_text(key.get()),
            after_token(&inline_comments(&suffix(&key)))
        );
        let expr = value.expr_mut();
        let before = inline_comments(&prefix(expr));
        expr.decor_mut()
            .set_prefix(format!(" {}", before_token(&before)));
        expr.decor_mut().set_suffix(gaps[i + 1].render_same_line());
        value.set_terminator(ObjectValueTerminator::None);
        format_expr(value.expr_mut(), depth + 1, src);
        items.push(Some(AlignItem {
            width: last_line_width(&head),
            one_line: !head.contains('\n') && !value.expr().to_string().contains('\n'),
            breaks_before: gaps[i].separates(),
        }));
    }
    let widths = alignment(&items);
    for (i, (mut key, _)) in object.iter_mut().enumerate() {
        let comments = after_token(&inline_comments(&suffix(&key)));
        let used = last_line_width(&format!("{}{comments}", key_text(key.get())));
        let pad = widths[i].map_or(0, |w| w.saturating_sub(used));
        key.decor_mut()
            .set_suffix(format!("{comments}{} ", " ".repeat(pad)));
    }
    // With no entry, comments after `{` on its line have no value to follow.
    let after_open = if n == 0 {
        gaps[n].render_same_line()
    } else {
        String::new()
    };
    object.set_trailing(format!(
        "{after_open}\n{}",
        gaps[n].render_to_closing(depth + 1, depth)
    ));
    true
}

/// Quoted and computed keys as written. A key cannot be changed in place (it indexes the map),
/// so the entries move to a new object, in order.
fn keys_as_written(object: &mut Object, src: &str) {
    if !object.iter().any(|(key, _)| key.is_expr()) {
        return;
    }
    let trailing = object.trailing().clone();
    let decor = object.decor().clone();
    let mut rebuilt = Object::with_capacity(object.len());
    for (key, value) in std::mem::take(object) {
        let key = match key {
            ObjectKey::Expression(mut expr) => {
                verbatim(&mut expr, src);
                ObjectKey::Expression(expr)
            }
            ident => ident,
        };
        rebuilt.insert(key, value);
    }
    rebuilt.set_trailing(trailing);
    *rebuilt.decor_mut() = decor;
    *object = rebuilt;
}

/// An object key as written, its trivia left out.
fn key_text(key: &ObjectKey) -> String {
    match key {
        ObjectKey::Ident(ident) => ident.as_str().to_string(),
        ObjectKey::Expression(expr) => {
            let mut e = expr.clone();
            e.decor_mut().clear();
            e.to_string()
        }
    }
}
