//! Bodies: structures one per line at their depth, blocks, attributes with aligned `=`.

use hcl_edit::Decorate;
use hcl_edit::structure::{Attribute, Block, BlockLabel, Body, Structure};

use super::align::{AlignItem, alignment};
use super::expr::{as_written, format_expr, source_text};
use super::trivia::{Gap, after_token, before_token, between, inline_comments};
use super::{prefix, suffix};

/// Formats a whole file: its structures at depth 0, the comments after the last one, one
/// newline at the end.
pub(super) fn format_file(body: &mut Body, src: &str) {
    format_structures(body, 0, true, src);
    let mut end = Gap::new([suffix(body).as_str()], true);
    if body.is_empty() {
        end.trim_leading_blank();
    }
    end.trim_trailing_blank();
    body.decor_mut().set_prefix("");
    body.decor_mut().set_suffix(end.render_to_closing(0, 0));
    body.set_prefer_omit_trailing_newline(false);
}

/// Formats the structures of a body whose lines start at `depth`. At the start of a file blank
/// lines before the first structure go.
fn format_structures(body: &mut Body, depth: usize, file_start: bool, src: &str) {
    let mut items = Vec::with_capacity(body.len());
    for i in 0..body.len() {
        let Some(structure) = body.get_mut(i) else {
            items.push(None);
            continue;
        };
        let mut gap = Gap::new([prefix(structure).as_str()], true);
        if i == 0 && file_start {
            gap.trim_leading_blank();
        }
        let after = inline_comments(&suffix(structure));
        structure.decor_mut().set_prefix(gap.render_to_token(depth));
        structure.decor_mut().set_suffix(after_token(&after));
        items.push(match structure {
            Structure::Attribute(attr) => Some(format_attribute(attr, depth, gap.separates(), src)),
            Structure::Block(block) => {
                format_block(block, depth, src);
                None
            }
        });
    }
    for (i, width) in alignment(&items).into_iter().enumerate() {
        if let Some(Structure::Attribute(attr)) = body.get_mut(i) {
            pad_key(attr, width);
        }
    }
}

/// Formats an attribute's value and the comments around `=`; the key's padding comes later,
/// from [`pad_key`], once the widths of its group are known.
fn format_attribute(
    attr: &mut Attribute,
    depth: usize,
    breaks_before: bool,
    src: &str,
) -> AlignItem {
    attr.key.decor_mut().set_prefix("");
    let head = format!(
        "{}{}",
        attr.key.as_str(),
        after_token(&inline_comments(&suffix(&attr.key)))
    );
    let before = inline_comments(&prefix(&attr.value));
    let after = inline_comments(&suffix(&attr.value));
    attr.value
        .decor_mut()
        .set_prefix(format!(" {}", before_token(&before)));
    attr.value.decor_mut().set_suffix(after_token(&after));
    format_expr(&mut attr.value, depth, src);
    AlignItem {
        width: last_line_width(&head),
        one_line: !head.contains('\n') && !attr.value.to_string().contains('\n'),
        breaks_before,
    }
}

/// The key, the comments between it and `=` and the padding to `width`.
fn pad_key(attr: &mut Attribute, width: Option<usize>) {
    let comments = after_token(&inline_comments(&suffix(&attr.key)));
    let used = last_line_width(&format!("{}{comments}", attr.key.as_str()));
    let pad = width.map_or(0, |w| w.saturating_sub(used));
    attr.key
        .decor_mut()
        .set_suffix(format!("{comments}{} ", " ".repeat(pad)));
}

pub(super) fn last_line_width(text: &str) -> usize {
    text.rsplit('\n').next().unwrap_or("").chars().count()
}

fn format_block(block: &mut Block, depth: usize, src: &str) {
    block.ident.decor_mut().set_prefix("");
    let after = inline_comments(&suffix(&block.ident));
    block.ident.decor_mut().set_suffix(between(&after, " "));
    for label in &mut block.labels {
        let before = inline_comments(&prefix(label));
        let after = inline_comments(&suffix(label));
        label.decor_mut().set_prefix(before_token(&before));
        label.decor_mut().set_suffix(between(&after, " "));
        // A quoted label as written: the encoder would write it from its decoded value.
        if let BlockLabel::String(string) = label
            && let Some(raw) = source_text(string, src)
        {
            *label = BlockLabel::Ident(as_written(raw, string.decor().clone()));
        }
    }
    let body = &mut block.body;
    let one_line = body.prefer_oneline()
        && (body.is_empty()
            || (body.len() == 1 && body.get(0).is_some_and(Structure::is_attribute)));
    if one_line {
        format_one_line_body(body, depth, src);
        return;
    }
    let open = inline_comments(&prefix(body));
    let mut close = Gap::new([suffix(body).as_str()], true);
    if body.is_empty() {
        close.trim_leading_blank();
    }
    close.trim_trailing_blank();
    body.decor_mut().set_prefix(after_token(&open));
    body.decor_mut()
        .set_suffix(close.render_to_closing(depth + 1, depth));
    format_structures(body, depth + 1, false, src);
}

/// `name { key = value }` or `name {}`, comments kept on the line.
fn format_one_line_body(body: &mut Body, depth: usize, src: &str) {
    let tail = inline_comments(&suffix(body));
    body.decor_mut().set_prefix("");
    body.decor_mut().set_suffix("");
    let Some(Structure::Attribute(attr)) = body.get_mut(0) else {
        body.decor_mut().set_suffix(between(&tail, ""));
        return;
    };
    let before = inline_comments(&prefix(attr));
    let mut after = inline_comments(&suffix(attr));
    after.extend(tail);
    attr.decor_mut()
        .set_prefix(format!(" {}", before_token(&before)));
    attr.decor_mut()
        .set_suffix(format!("{} ", after_token(&after)));
    format_attribute(attr, depth, false, src);
    pad_key(attr, None);
}
