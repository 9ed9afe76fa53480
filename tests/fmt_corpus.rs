//! `ferry fmt` over a corpus of awkward inputs and over every `*.hcl` file of the repository.
//!
//! The two promises of a formatter, checked on every input: no comment is dropped (each comment
//! named in the table is in the output, and the output holds the same comments as the input)
//! and one run reaches the fixed point (`fmt(fmt(x)) == fmt(x)`); the output also means the
//! same (hcl-rs parses both to the same body). CRLF input is compared after CRLF -> LF, which is
//! what `ferry fmt` writes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ferry::hcl_format::{FormatError, format_hcl, verify};

struct Case {
    name: &'static str,
    input: &'static str,
    /// Comments that must be in the output, verbatim.
    keeps: &'static [&'static str],
    /// The exact output, where the layout itself is the point.
    expect: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        name: "hash comment after a value",
        input: "a   = 1    # c   \n",
        keeps: &["# c"],
        expect: Some("a = 1 # c\n"),
    },
    Case {
        name: "slash comment after a value",
        input: "a=1// c\n",
        keeps: &["// c"],
        expect: Some("a = 1 // c\n"),
    },
    Case {
        name: "block comment between labels and brace",
        input: "block   \"a\"   /* L */{\n    x = 1\n}\n",
        keeps: &["/* L */"],
        expect: Some("block \"a\" /* L */ {\n  x = 1\n}\n"),
    },
    Case {
        name: "block comments between block type and labels",
        input: "block /* i */ \"a\" /* j */ b /* k */ {\nx = 1\n}\n",
        keeps: &["/* i */", "/* j */", "/* k */"],
        expect: Some("block /* i */ \"a\" /* j */ b /* k */ {\n  x = 1\n}\n"),
    },
    Case {
        name: "comments after the opening brace",
        input: "b {   /* o */    # line  \n  x = 1\n}\n",
        keeps: &["/* o */", "# line"],
        expect: Some("b { /* o */ # line\n  x = 1\n}\n"),
    },
    Case {
        name: "comments before the closing brace",
        input: "b {\n  x = 1\n\n\n      # last\n\n  /* inline */ }\n",
        keeps: &["# last", "/* inline */"],
        expect: Some("b {\n  x = 1\n\n  # last\n\n  /* inline */\n}\n"),
    },
    Case {
        name: "block comments around the equals sign",
        input: "a /* k */ = /* v */ 1\nlonger = 2\n",
        keeps: &["/* k */", "/* v */"],
        expect: Some("a /* k */ = /* v */ 1\nlonger    = 2\n"),
    },
    Case {
        name: "comments inside operators and function calls are left as written",
        input: "a = 1 + /* c */ 2\nb = f(/* arg */ 1, # why\n      2)\nc = env(\"X\", // default below\n  \"y\")\n",
        keeps: &["/* c */", "/* arg */", "# why", "// default below"],
        expect: Some(
            "a = 1 + /* c */ 2\nb = f(/* arg */ 1, # why\n      2)\nc = env(\"X\", // default below\n  \"y\")\n",
        ),
    },
    Case {
        name: "block comment between array elements",
        input: "a = [\n  \"x\", /* c */ \"y\",\n]\n",
        keeps: &["/* c */"],
        expect: Some("a = [\n  \"x\", /* c */ \"y\",\n]\n"),
    },
    Case {
        name: "line comment before an array comma",
        input: "a = [\"x\" # c\n, \"y\"]\n",
        keeps: &["# c"],
        expect: Some("a = [\"x\", # c\n  \"y\"]\n"),
    },
    Case {
        name: "comment lines and blank lines in an array",
        input: "a = [\n\n  # first\n\"x\",\n\n\n    // second\n  \"y\", # y\n  /* before */ \"z\"\n  # tail\n\n]\n",
        keeps: &["# first", "// second", "# y", "/* before */", "# tail"],
        expect: Some(
            "a = [\n  # first\n  \"x\",\n\n  // second\n  \"y\", # y\n  /* before */ \"z\"\n  # tail\n]\n",
        ),
    },
    Case {
        name: "one-line array with block comments is left as written",
        input: "a = [/* a */ 1,2 /* b */]\n",
        keeps: &["/* a */", "/* b */"],
        expect: Some("a = [/* a */ 1,2 /* b */]\n"),
    },
    Case {
        name: "map entry with a comma and a trailing comment",
        input: "m = {\n  a = 1, # one\n  bbb = 2\n}\n",
        keeps: &["# one"],
        expect: Some("m = {\n  a   = 1 # one\n  bbb = 2\n}\n"),
    },
    Case {
        name: "nested maps with trailing comments",
        input: "t {\n config = {\n  inner = { # open\n   x = 1 # x\n   yy = 2, # yy\n  } # after inner\n  z = 3\n } # after config\n}\n",
        keeps: &["# open", "# x", "# yy", "# after inner", "# after config"],
        expect: Some(
            "t {\n  config = {\n    inner = { # open\n      x  = 1 # x\n      yy = 2 # yy\n    } # after inner\n    z = 3\n  } # after config\n}\n",
        ),
    },
    Case {
        name: "comments around a map's equals sign and a colon",
        input: "m = {\n  a /* k */ = /* v */ 1\n  \"b.c\" : 2\n}\n",
        keeps: &["/* k */", "/* v */"],
        expect: Some("m = {\n  a /* k */ = /* v */ 1\n  \"b.c\"     : 2\n}\n"),
    },
    Case {
        name: "map entries sharing a line with block comments",
        input: "m = { a = 1, /* c */ bb = 2, /* d */\n}\n",
        keeps: &["/* c */", "/* d */"],
        expect: Some("m = {\n  a = 1\n  /* c */ bb = 2 /* d */\n}\n"),
    },
    Case {
        name: "alignment groups in a map end at blank lines whatever the commas",
        input: "m = {\n  a = 1,\n\n  bbb = 2\n  # group\n  cc = 3,\n  d = 4\n}\n",
        keeps: &["# group"],
        expect: Some("m = {\n  a = 1\n\n  bbb = 2\n  # group\n  cc = 3\n  d  = 4\n}\n"),
    },
    Case {
        name: "empty blocks",
        input: "a {}\nb {\n}\nc { }\nd {\n\n\n}\ne { /* c */ }\nf {\n  # only a comment\n}\n",
        keeps: &["/* c */", "# only a comment"],
        expect: Some("a {}\nb {\n}\nc {}\nd {\n}\ne { /* c */ }\nf {\n  # only a comment\n}\n"),
    },
    Case {
        name: "one-line block with comments",
        input: "x {   /* before */a=1/* after */ }\n",
        keeps: &["/* before */", "/* after */"],
        expect: Some("x { /* before */ a = 1 /* after */ }\n"),
    },
    Case {
        name: "heredoc attribute is left as written",
        input: "h = <<EOT\n  keep   this # not a comment   \n\tand tabs\nEOT\nafter=1 # c\n",
        keeps: &["# c"],
        expect: Some(
            "h = <<EOT\n  keep   this # not a comment   \n\tand tabs\nEOT\nafter = 1 # c\n",
        ),
    },
    Case {
        name: "indented heredoc in an array, comma after it",
        input: "c = [\n  \"sh\", # shell\n  <<-EOT\n    echo hi\n  EOT\n  , \"last\" # after\n]\n",
        keeps: &["# shell", "# after"],
        expect: Some(
            "c = [\n  \"sh\", # shell\n  <<-EOT\n    echo hi\n  EOT\n  , \"last\" # after\n]\n",
        ),
    },
    Case {
        name: "heredoc as the last array element keeps its line end",
        input: "c = [\n  <<EOT\nhi\nEOT\n]\nd = [<<EOT\nx\nEOT\n, 1]\n",
        keeps: &[],
        expect: Some("c = [\n  <<EOT\nhi\nEOT\n]\nd = [<<EOT\nx\nEOT\n  , 1]\n"),
    },
    Case {
        name: "heredoc as a map value",
        input: "m = {\n  a = <<EOT\nx\nEOT\n  b = 1 # b\n}\n",
        keeps: &["# b"],
        expect: Some("m = {\n  a = <<EOT\nx\nEOT\n  b = 1 # b\n}\n"),
    },
    Case {
        name: "CRLF line endings become LF",
        input: "a = 1 # c\r\nb {\r\n  x = \"y\" // z\r\n  /* multi\r\n     line */\r\n}\r\n",
        keeps: &["# c", "// z", "/* multi\n     line */"],
        expect: Some("a = 1 # c\nb {\n  x = \"y\" // z\n  /* multi\n     line */\n}\n"),
    },
    Case {
        name: "CRLF in a heredoc",
        input: "h = <<EOT\r\nline\r\nEOT\r\n",
        keeps: &[],
        expect: Some("h = <<EOT\nline\nEOT\n"),
    },
    Case {
        name: "tabs for indentation and spacing",
        input: "b {\n\tx\t=\t1\t# tab\n\tyy = [\n\t\t\"a\",\t/* t */\n\t]\n}\n",
        keeps: &["# tab", "/* t */"],
        expect: Some("b {\n  x  = 1 # tab\n  yy = [\n    \"a\", /* t */\n  ]\n}\n"),
    },
    Case {
        name: "tab inside a string is kept",
        input: "a = \"x\ty\"\n",
        keeps: &[],
        expect: Some("a = \"x\ty\"\n"),
    },
    Case {
        name: "unicode labels, keys, values and comments",
        input: "topic \"заказы\" { # комментарий\n  описание = \"日本語\" /* ü */\n  m = {\n    \"ключ\" = 1 # ✓\n    k = 2\n  }\n}\n",
        keeps: &["# комментарий", "/* ü */", "# ✓"],
        expect: Some(
            "topic \"заказы\" { # комментарий\n  описание = \"日本語\" /* ü */\n  m        = {\n    \"ключ\" = 1 # ✓\n    k      = 2\n  }\n}\n",
        ),
    },
    Case {
        name: "a file of comments only",
        input: "\n\n   # only\n\n\n// comments\n  /* here */\n\n",
        keeps: &["# only", "// comments", "/* here */"],
        expect: Some("# only\n\n// comments\n/* here */\n"),
    },
    Case {
        name: "comment at the end of a file without a newline",
        input: "a = 1\n\n\n   # end",
        keeps: &["# end"],
        expect: Some("a = 1\n\n# end\n"),
    },
    Case {
        name: "block comment at the end of a file",
        input: "a = 1\n/* end */",
        keeps: &["/* end */"],
        expect: Some("a = 1\n/* end */\n"),
    },
    Case {
        name: "empty and blank files",
        input: "  \n\n\t\n",
        keeps: &[],
        expect: Some(""),
    },
    Case {
        name: "multi-line block comment keeps its inner lines",
        input: "b {\n      /* one\n   two */\n x = 1\n}\n",
        keeps: &["/* one\n   two */"],
        expect: Some("b {\n  /* one\n   two */\n  x = 1\n}\n"),
    },
    Case {
        name: "multi-line block comment after equals",
        input: "a = /* x\n y */ 1\nb = 2\n",
        keeps: &["/* x\n y */"],
        expect: Some("a = /* x\n y */ 1\nb = 2\n"),
    },
    Case {
        name: "conditional, for and template with comments",
        input: "a = var.x ? /* yes */ 1 : /* no */ 2\nb = [for x in var.l : x # each\n]\nc = \"${var.x /* in template */}\"\n",
        keeps: &["/* yes */", "/* no */", "# each", "/* in template */"],
        expect: None,
    },
    Case {
        name: "comment in front of a structure on its line",
        input: "/* lead */ a = 1\n  /* lead */   b {\n}\n",
        keeps: &["/* lead */"],
        expect: Some("/* lead */ a = 1\n/* lead */ b {\n}\n"),
    },
    Case {
        name: "deep nesting",
        input: "a {\nb {\nc {\nd = {\ne = [\n1, # one\n{ f = 2 },\n]\n}\n}\n}\n}\n",
        keeps: &["# one"],
        expect: Some(
            "a {\n  b {\n    c {\n      d = {\n        e = [\n          1, # one\n          { f = 2 },\n        ]\n      }\n    }\n  }\n}\n",
        ),
    },
    Case {
        name: "empty multi-line array and map with comments",
        input: "a = [\n\n   # nothing yet\n\n]\nm = { # open\n}\n",
        keeps: &["# nothing yet", "# open"],
        expect: Some("a = [\n  # nothing yet\n]\nm = { # open\n}\n"),
    },
    Case {
        name: "first array element on the bracket line after a comment",
        input: "a = [ /* first */ \"x\",\n     \"y\"]\n",
        keeps: &["/* first */"],
        expect: Some("a = [/* first */ \"x\",\n  \"y\"]\n"),
    },
    Case {
        name: "comments between structures and blank lines",
        input: "a = 1\n\n\n\n# about b\n\n// more\nb = 2 # b\n# about c\nccc = 3\n",
        keeps: &["# about b", "// more", "# b", "# about c"],
        expect: Some("a = 1\n\n# about b\n\n// more\nb = 2 # b\n# about c\nccc = 3\n"),
    },
    Case {
        name: "hash and slashes inside strings are not comments",
        input: "a = \"# no\" # yes\nb = \"// no /* no */\" /* yes */\n",
        keeps: &["# yes", "/* yes */"],
        expect: Some("a = \"# no\" # yes\nb = \"// no /* no */\" /* yes */\n"),
    },
    Case {
        name: "strings, labels and keys keep their escapes as written",
        input: "block \"a\\\"b\" {\n  s = \"caf\\u00e9\\t${x}\"\n  m = {\n    \"k\\u00e9\" = 1\n  }\n}\n",
        keeps: &[],
        expect: Some(
            "block \"a\\\"b\" {\n  s = \"caf\\u00e9\\t${x}\"\n  m = {\n    \"k\\u00e9\" = 1\n  }\n}\n",
        ),
    },
    Case {
        name: "comment after a block's closing brace",
        input: "b {\n}   # after block\nc { x = 1 } // one-line\n",
        keeps: &["# after block", "// one-line"],
        expect: Some("b {\n} # after block\nc { x = 1 } // one-line\n"),
    },
    Case {
        name: "two heredocs in an array with comments after their markers",
        input: "a = [<<A\nx\nA\n, <<B\ny\nB # b\n  /* end */ ]\n",
        keeps: &["# b", "/* end */"],
        expect: None,
    },
    Case {
        name: "a blank line after an opening brace stays",
        input: "b {\n\n\n  x = 1\n}\n",
        keeps: &[],
        expect: Some("b {\n\n  x = 1\n}\n"),
    },
];

fn lf(text: &str) -> String {
    text.replace("\r\n", "\n")
}

fn sorted_comments(text: &str) -> Vec<String> {
    let mut all = verify::comments(text);
    all.sort();
    all
}

/// What is wrong with formatting `input`, if anything: the checks every input must pass.
fn problems(name: &str, input: &str, keeps: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let once = match format_hcl(input) {
        Ok(once) => once,
        Err(e) => return vec![format!("{name}: not formatted: {e}")],
    };
    for comment in keeps {
        if !once.contains(comment) {
            out.push(format!("{name}: lost {comment:?}:\n{once}"));
        }
    }
    if sorted_comments(&lf(input)) != sorted_comments(&once) {
        out.push(format!(
            "{name}: comments differ: {:?} -> {:?}",
            verify::comments(&lf(input)),
            verify::comments(&once)
        ));
    }
    match format_hcl(&once) {
        Ok(twice) if twice == once => {}
        Ok(twice) => out.push(format!(
            "{name}: not idempotent:\n--- once\n{once}--- twice\n{twice}"
        )),
        Err(e) => out.push(format!("{name}: output does not format again: {e}\n{once}")),
    }
    match (hcl::parse(&lf(input)), hcl::parse(&once)) {
        (Ok(a), Ok(b)) if a == b => {}
        (a, b) => out.push(format!("{name}: meaning changed: {a:?} -> {b:?}\n{once}")),
    }
    if once.contains('\r') {
        out.push(format!("{name}: a carriage return is left"));
    }
    if !once.is_empty() && (!once.ends_with('\n') || once.ends_with("\n\n")) {
        out.push(format!("{name}: not one newline at the end: {once:?}"));
    }
    out
}

#[test]
fn the_corpus_keeps_every_comment_reaches_the_fixed_point_in_one_run_and_keeps_meaning() {
    assert!(CASES.len() >= 25);
    let mut failures = Vec::new();
    for case in CASES {
        failures.extend(problems(case.name, case.input, case.keeps));
        if let (Some(expect), Ok(out)) = (case.expect, format_hcl(case.input))
            && out != expect
        {
            failures.push(format!(
                "{}: layout:\n--- got\n{out}--- expected\n{expect}",
                case.name
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

/// Byte ranges where no comment can be put: strings (with their interpolations), heredocs and
/// comments. Written apart from the formatter's own scanner on purpose.
fn opaque(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        if b[i] == b'#' || b[i..].starts_with(b"//") {
            i = text[i..].find('\n').map_or(b.len(), |e| i + e);
        } else if b[i..].starts_with(b"/*") {
            i = text[i + 2..].find("*/").map_or(b.len(), |e| i + e + 4);
        } else if b[i] == b'"' {
            i = string_end(b, i + 1);
        } else if b[i] == b'<'
            && let Some(end) = heredoc_end(text, i)
        {
            i = end;
        } else {
            i += 1;
            continue;
        }
        out.push((start, i));
    }
    out
}

fn string_end(b: &[u8], mut i: usize) -> usize {
    let mut depth = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if depth == 0 => i += 2,
            b'"' if depth == 0 => return i + 1,
            b'"' => i = string_end(b, i + 1),
            b'$' | b'%' if depth == 0 && b.get(i + 1) == Some(&b[i]) => i += 2,
            b'$' | b'%' if depth == 0 && b.get(i + 1) == Some(&b'{') => {
                depth = 1;
                i += 2;
            }
            b'{' if depth > 0 => {
                depth += 1;
                i += 1;
            }
            b'}' if depth > 0 => {
                depth -= 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    b.len()
}

fn heredoc_end(text: &str, i: usize) -> Option<usize> {
    let rest = text[i..].strip_prefix("<<")?;
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    let (id, _) = rest.split_once('\n')?;
    if id.is_empty() || !id.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let body = text.len() - rest.len() + id.len() + 1;
    let mut pos = body;
    for line in text[body..].split_inclusive('\n') {
        if line.trim() == id {
            return Some(pos + line.trim_end().len());
        }
        pos += line.len();
    }
    Some(text.len())
}

/// `text` with `comment(k)` put before every byte `at` picks outside strings, heredocs and
/// comments.
fn with_comments(text: &str, at: impl Fn(u8) -> bool, comment: impl Fn(usize) -> String) -> String {
    let skip = opaque(text);
    let mut out = String::new();
    let mut k = 0;
    for (i, c) in text.char_indices() {
        if c.is_ascii() && at(c as u8) && !skip.iter().any(|&(s, e)| s <= i && i < e) {
            k += 1;
            out.push_str(&comment(k));
        }
        out.push(c);
    }
    out
}

/// Each input, and the same input with CRLF line endings, tabs for indentation, a block
/// comment at every space and a line comment at every line end.
fn variants(text: &str) -> Vec<(&'static str, String)> {
    let tabs: String = text
        .split_inclusive('\n')
        .map(|line| {
            let body = line.trim_start_matches(' ');
            let spaces = line.len() - body.len();
            format!(
                "{}{}{body}",
                "\t".repeat(spaces / 2),
                " ".repeat(spaces % 2)
            )
        })
        .collect();
    vec![
        ("as written", text.to_string()),
        ("CRLF", lf(text).replace('\n', "\r\n")),
        ("tabs", tabs),
        (
            "a block comment at every space",
            with_comments(text, |c| c == b' ' || c == b'\t', |k| format!("/*b{k}*/")),
        ),
        (
            "a line comment at every line end",
            with_comments(&lf(text), |c| c == b'\n', |k| format!(" #l{k}")),
        ),
    ]
}

/// Runs the checks over every variant of every input that parses; returns the failures and
/// how many variants were checked.
fn check_variants<'a>(inputs: impl IntoIterator<Item = (String, &'a str)>) -> (Vec<String>, usize) {
    let mut failures = Vec::new();
    let mut checked = 0;
    for (name, text) in inputs {
        for (how, variant) in variants(text) {
            if hcl_edit::parser::parse_body(&lf(&variant)).is_err() {
                continue;
            }
            checked += 1;
            failures.extend(problems(&format!("{name} ({how})"), &variant, &[]));
        }
    }
    (failures, checked)
}

#[test]
fn comments_everywhere_crlf_and_tabs_in_every_corpus_input() {
    let (failures, checked) = check_variants(CASES.iter().map(|c| (c.name.to_string(), c.input)));
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
    assert!(checked >= CASES.len() * 4, "only {checked} variants parse");
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every `*.hcl` file of the repository (build output and hidden directories left out).
fn repo_hcl_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![root().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if name.starts_with('.') || name == "target" {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if name.ends_with(".hcl") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_hcl_file_of_the_repository_formats_idempotently_keeping_comments_and_meaning() {
    let files = repo_hcl_files();
    assert!(files.len() >= 40, "found only {} files", files.len());
    let mut failures = Vec::new();
    let mut formatted = 0;
    for path in &files {
        let name = path.strip_prefix(root()).unwrap().display().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        match format_hcl(&text) {
            // Fixtures of broken configurations may not parse; nothing else may fail.
            Err(FormatError::Syntax { .. }) if name.starts_with("fixtures/config/invalid/") => {
                continue;
            }
            Err(e) => failures.push(format!("{name}: {e}")),
            Ok(_) => {
                formatted += 1;
                failures.extend(problems(&name, &text, &[]));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
    assert!(formatted >= 40, "formatted only {formatted} files");
}

#[test]
fn comments_everywhere_crlf_and_tabs_in_every_hcl_file_of_the_repository() {
    let texts: Vec<(String, String)> = repo_hcl_files()
        .iter()
        .map(|p| {
            let name = p.strip_prefix(root()).unwrap().display().to_string();
            (name, std::fs::read_to_string(p).unwrap())
        })
        .collect();
    let (failures, checked) = check_variants(texts.iter().map(|(n, t)| (n.clone(), t.as_str())));
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
    assert!(checked >= 150, "only {checked} variants parse");
}

#[test]
fn the_examples_are_in_canonical_layout() {
    let mut dirs: Vec<PathBuf> = repo_hcl_files()
        .into_iter()
        .filter(|p| p.starts_with(root().join("examples")))
        .map(|p| p.parent().unwrap().to_path_buf())
        .collect();
    dirs.dedup();
    assert!(dirs.len() >= 5, "{dirs:?}");
    for dir in dirs {
        assert_cmd::Command::cargo_bin("ferry")
            .unwrap()
            .arg("-C")
            .arg(&dir)
            .args(["fmt", "--check"])
            .timeout(Duration::from_secs(60))
            .assert()
            .success();
    }
}
