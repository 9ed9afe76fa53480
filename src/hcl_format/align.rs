//! Alignment of the `=` of consecutive one-line attributes and object entries, as terraform
//! does it.

/// What decides one entry's place in an alignment group.
#[derive(Clone, Copy)]
pub(super) struct AlignItem {
    /// Characters before the padding: the key (and any comment between it and `=`).
    pub width: usize,
    pub one_line: bool,
    /// A blank line or a comment stands before it.
    pub breaks_before: bool,
}

/// The width each entry pads to: the widest of its group. A group is a run of consecutive
/// entries with nothing but line breaks between them; a multi-line value ends its group (its
/// own `=` still aligns with those above, as terraform does). `None` entries (blocks) end groups.
pub(super) fn alignment(items: &[Option<AlignItem>]) -> Vec<Option<usize>> {
    let mut out = vec![None; items.len()];
    let mut start = 0;
    while start < items.len() {
        let Some(first) = items[start] else {
            start += 1;
            continue;
        };
        let mut end = start + 1;
        if first.one_line {
            while end < items.len() {
                match items[end] {
                    Some(item) if !item.breaks_before => {
                        end += 1;
                        if !item.one_line {
                            break;
                        }
                    }
                    _ => break,
                }
            }
        }
        let width = items[start..end].iter().flatten().map(|i| i.width).max();
        for slot in &mut out[start..end] {
            *slot = width;
        }
        start = end;
    }
    out
}
