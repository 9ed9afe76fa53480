//! `ferry fmt` and `ferry completions` as a user runs them (no cluster involved).

use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;

fn ferry(dir: &std::path::Path) -> Command {
    let mut cmd = Command::cargo_bin("ferry").unwrap();
    cmd.arg("-C").arg(dir).timeout(Duration::from_secs(60));
    cmd
}

const MESSY: &str =
    "# keep me\nmigration \"m\" {\n    scheme=\"mirror\" # and me\n  settle_period = \"1s\"\n}\n";
const CANONICAL: &str = "# keep me\nmigration \"m\" {\n  scheme        = \"mirror\" # and me\n  settle_period = \"1s\"\n}\n";

#[test]
fn check_prints_a_diff_exits_3_and_changes_nothing_then_fmt_fixes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("main.hcl");
    std::fs::write(&file, MESSY).unwrap();
    std::fs::write(dir.path().join("clean.hcl"), "a = 1\n").unwrap();

    ferry(dir.path())
        .args(["fmt", "--check"])
        .assert()
        .code(3)
        .stdout(
            predicate::str::contains("--- a/main.hcl")
                .and(predicate::str::contains("-    scheme=\"mirror\" # and me"))
                .and(predicate::str::contains(
                    "+  scheme        = \"mirror\" # and me",
                ))
                .and(predicate::str::contains("clean.hcl").not()),
        )
        .stderr(predicate::str::contains("main.hcl is not formatted"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), MESSY);

    ferry(dir.path())
        .arg("fmt")
        .assert()
        .success()
        .stdout("main.hcl\n");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), CANONICAL);

    ferry(dir.path())
        .args(["fmt", "--check"])
        .assert()
        .success()
        .stdout("");
}

/// Issue 14: comments between labels and brace, around `=`, inside expressions and after map
/// entries survive, CRLF becomes LF, and the first run leaves nothing for a second.
#[test]
fn fmt_keeps_every_comment_makes_lf_and_a_second_check_finds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("main.hcl");
    let messy = "topic \"t\" /* label */ {\r\n  config /* k */ = { # open\r\n    a = 1 + /* sum */ 2, # one\r\n    bbb = 2\r\n  }\r\n}\r\n";
    std::fs::write(&file, messy).unwrap();
    ferry(dir.path())
        .arg("fmt")
        .assert()
        .success()
        .stdout("main.hcl\n");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "topic \"t\" /* label */ {\n  config /* k */ = { # open\n    a   = 1 + /* sum */ 2 # one\n    bbb = 2\n  }\n}\n"
    );
    ferry(dir.path())
        .args(["fmt", "--check"])
        .assert()
        .success()
        .stdout("");
}

#[test]
fn a_file_with_a_syntax_error_is_named_with_its_line_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let broken = "migration \"m\" {\n  scheme = \n";
    std::fs::write(dir.path().join("broken.hcl"), broken).unwrap();
    ferry(dir.path())
        .arg("fmt")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("broken.hcl:"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("broken.hcl")).unwrap(),
        broken
    );
}

#[test]
fn completions_cover_every_subcommand_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::cargo_bin("ferry")
            .unwrap()
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        for sub in ["plan", "apply", "drift", "fmt", "init", "validate"] {
            assert!(text.contains(sub), "{shell} completion lacks {sub}");
        }
    }
}
