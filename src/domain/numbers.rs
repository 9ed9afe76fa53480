//! Numbers as people read them: in a plan, a progress line, a report. Down here so that the copy
//! engine and the executor format counts as the renderers do without importing them.

/// 1204331 -> "1,204,331".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn groups_digits_by_three() {
        for (n, want) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (1204331, "1,204,331"),
        ] {
            assert_eq!(super::thousands(n), want);
        }
    }
}
