//! The formatter's own examples: the canonical layout, idempotence, meaning kept.
//! The corpus of awkward inputs is tests/fmt_corpus.rs.

use super::*;

fn fmt(text: &str) -> String {
    format_hcl(text).expect("valid HCL")
}

/// Formatting must never change what the file means.
fn same_meaning(a: &str, b: &str) {
    let a: hcl::Body = hcl::from_str(a).unwrap();
    let b: hcl::Body = hcl::from_str(b).unwrap();
    assert_eq!(a, b);
}

const MESSY: &str = r#"# header comment

migration "x" {
    scheme = "mirror"   # trailing
  settle_period="30s"
  // a comment before the closing brace
}
cluster "source" { bootstrap_servers = ["a:1",
   "b:2"] }



topic "t" {
  /* block
     comment */
  config = {
    "retention.ms" = 1000
       "cleanup.policy"  = "compact"  # why compact
    # last entry comment
  }
}
# end of file
"#;

const CANONICAL: &str = r#"# header comment

migration "x" {
  scheme        = "mirror" # trailing
  settle_period = "30s"
  // a comment before the closing brace
}
cluster "source" { bootstrap_servers = ["a:1",
  "b:2"] }

topic "t" {
  /* block
     comment */
  config = {
    "retention.ms"   = 1000
    "cleanup.policy" = "compact" # why compact
    # last entry comment
  }
}
# end of file
"#;

#[test]
fn indents_aligns_and_keeps_every_comment() {
    let out = fmt(MESSY);
    assert_eq!(out, CANONICAL);
    for comment in [
        "# header comment",
        "# trailing",
        "// a comment before the closing brace",
        "/* block\n     comment */",
        "# why compact",
        "# last entry comment",
        "# end of file",
    ] {
        assert!(out.contains(comment), "lost {comment:?}:\n{out}");
    }
    same_meaning(MESSY, &out);
}

#[test]
fn formatting_is_idempotent() {
    let once = fmt(MESSY);
    assert_eq!(fmt(&once), once);
}

#[test]
fn alignment_groups_end_at_blank_lines_comments_and_blocks() {
    let out = fmt("a = 1\nlonger = 2\n\nb = 3\n# c\nmuch_longer = 4\nx {\n}\ny = 5\n");
    assert_eq!(
        out,
        "a      = 1\nlonger = 2\n\nb = 3\n# c\nmuch_longer = 4\nx {\n}\ny = 5\n"
    );
}

#[test]
fn nested_blocks_and_multi_line_lists_are_indented_by_depth() {
    let out = fmt(
        "cluster \"target\" {\nsasl {\nmechanism = \"PLAIN\"\n}\nbootstrap_servers = [\n\"a:1\", # first\n\"b:2\",\n]\n}\n",
    );
    assert_eq!(
        out,
        "cluster \"target\" {\n  sasl {\n    mechanism = \"PLAIN\"\n  }\n  bootstrap_servers = [\n    \"a:1\", # first\n    \"b:2\",\n  ]\n}\n"
    );
}

#[test]
fn heredocs_and_one_line_values_are_left_as_written() {
    let text = "hook \"h\" {\n  command = [\"sh\", \"-c\", <<EOT\n  echo   hi\nEOT\n  ]\n  env = { A = \"1\",  B = \"2\" }\n}\n";
    let out = fmt(text);
    assert!(out.contains("<<EOT\n  echo   hi\nEOT\n"), "{out}");
    assert!(out.contains("  env = { A = \"1\",  B = \"2\" }"), "{out}");
    same_meaning(text, &out);
}

#[test]
fn object_entries_go_one_per_line_and_align() {
    let text = "topics {\n  config = { \"a.b\" = \"1\", \"c\" = 2,\n  }\n}\n";
    let out = fmt(text);
    assert_eq!(
        out,
        "topics {\n  config = {\n    \"a.b\" = \"1\"\n    \"c\"   = 2\n  }\n}\n"
    );
    same_meaning(text, &out);
}

#[test]
fn a_syntax_error_names_line_and_column() {
    let err = format_hcl("a = {\n  b = \n").unwrap_err().to_string();
    assert!(err.starts_with("2:") || err.starts_with("3:"), "{err}");
}

#[test]
fn every_example_and_valid_fixture_formats_idempotently_without_changing_meaning() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seen = 0;
    for dir in ["examples", "fixtures/config/valid", "fixtures/plans"] {
        let mut stack = vec![root.join(dir)];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "hcl") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let once = fmt(&text);
                    assert_eq!(fmt(&once), once, "{}", path.display());
                    same_meaning(&text, &once);
                    seen += 1;
                }
            }
        }
    }
    assert!(seen >= 8, "found only {seen} files");
}

#[test]
fn check_diff_is_unified_with_file_names() {
    let d = unified_diff("main.hcl", "a=1\n", "a = 1\n");
    assert!(d.contains("--- a/main.hcl"), "{d}");
    assert!(d.contains("+++ b/main.hcl"), "{d}");
    assert!(d.contains("-a=1\n+a = 1\n"), "{d}");
}
