//! Files that are not regular files of bounded size, where ferry reads a `*.hcl` entry, a saved
//! plan or the state file: each is refused at once with exit 1 and a message that names it, and
//! the directory is left as it was (no state file created or changed). Nothing here reaches a
//! cluster: every case fails before ferry would connect.

mod bad_input;

use std::path::Path;
use std::time::Duration;

use bad_input::{config_dir, ferry, listing, mkfifo};

/// A sparse file of `bytes` bytes: only its size matters, ferry must refuse it before reading.
fn sparse(path: &Path, bytes: u64) {
    std::fs::File::create(path).unwrap().set_len(bytes).unwrap();
}

fn fifo(path: &Path) {
    mkfifo(path);
}

fn dev_zero(path: &Path) {
    std::os::unix::fs::symlink("/dev/zero", path).unwrap();
}

fn directory(path: &Path) {
    std::fs::create_dir(path).unwrap();
}

fn dangling(path: &Path) {
    std::os::unix::fs::symlink("nowhere.hcl.target", path).unwrap();
}

fn over_hcl_cap(path: &Path) {
    sparse(path, (16 << 20) + 1);
}

/// Two files of 9 MiB each: neither over the cap alone, both together.
fn over_hcl_cap_together(path: &Path) {
    let dir = path.parent().unwrap();
    std::fs::write(dir.join("a_first.hcl"), vec![b'#'; 9 << 20]).unwrap();
    std::fs::write(path, vec![b'#'; 9 << 20]).unwrap();
}

fn over_plan_cap(path: &Path) {
    sparse(path, (256 << 20) + 1);
}

/// Makes the entry a case is about, at the path given.
type Make = fn(&Path);

/// `(case, entry to make, how, command, fragment of the message)`.
#[rustfmt::skip]
const CASES: &[(&str, &str, Make, &[&str], &str)] = &[
    ("hcl FIFO", "x.hcl", fifo, &["validate"], "x.hcl: cannot read this configuration file: it is a FIFO (named pipe), not a regular file"),
    ("hcl FIFO, plan", "x.hcl", fifo, &["plan"], "x.hcl: cannot read this configuration file: it is a FIFO"),
    ("hcl /dev/zero", "x.hcl", dev_zero, &["validate"], "x.hcl: cannot read this configuration file: it is a character device, not a regular file"),
    ("hcl directory", "x.hcl", directory, &["validate"], "x.hcl: cannot read this configuration file: it is a directory, not a regular file"),
    ("hcl dangling link", "x.hcl", dangling, &["validate"], "x.hcl: cannot read this configuration file: it does not exist (a symbolic link to nothing?)"),
    ("hcl over 16 MiB", "x.hcl", over_hcl_cap, &["validate"], "x.hcl: cannot read this configuration file: it is larger than 16 MiB"),
    ("hcl files over 16 MiB together", "x.hcl", over_hcl_cap_together, &["validate"], "x.hcl: cannot read this configuration file: with the *.hcl files before it, the configuration would hold more than 16 MiB"),
    ("plan FIFO", "plan.json", fifo, &["apply", "plan.json"], "cannot read the saved plan plan.json: it is a FIFO (named pipe), not a regular file"),
    ("plan /dev/zero", "plan.json", dev_zero, &["apply", "plan.json"], "cannot read the saved plan plan.json: it is a character device"),
    ("plan directory", "plan.json", directory, &["apply", "plan.json"], "cannot read the saved plan plan.json: it is a directory"),
    ("plan over 256 MiB", "plan.json", over_plan_cap, &["apply", "plan.json"], "cannot read the saved plan plan.json: it is larger than 256 MiB"),
    ("state FIFO", "ferry.state.json", fifo, &["state", "list"], "ferry.state.json cannot be used: it is a FIFO (named pipe), not a regular file. ferry changed nothing"),
    ("state FIFO, apply", "ferry.state.json", fifo, &["apply", "--auto-approve"], "ferry.state.json cannot be used: it is a FIFO"),
    ("state /dev/zero", "ferry.state.json", dev_zero, &["state", "show"], "ferry.state.json cannot be used: it is a character device"),
    ("state directory", "ferry.state.json", directory, &["status"], "ferry.state.json cannot be used: it is a directory"),
    ("lock FIFO", "ferry.state.json.lock", fifo, &["apply", "--auto-approve"], "ferry.state.json.lock is a FIFO (named pipe), not a regular file. ferry changed nothing"),
];

#[test]
fn files_that_are_not_regular_or_too_large_are_refused_at_once() {
    let mut failures = Vec::new();
    for &(case, entry, make, args, fragment) in CASES {
        let dir = config_dir();
        make(&dir.path().join(entry));
        let before = listing(dir.path());
        let out = ferry(dir.path(), args);
        let ok = out.code == Some(1)
            && out.stderr.contains(fragment)
            && out.took < Duration::from_secs(10)
            && !out.stderr.contains("panicked");
        if !ok {
            failures.push(format!(
                "{case}: want exit 1 with {fragment:?}; got {}",
                out.describe()
            ));
        }
        if listing(dir.path()) != before {
            failures.push(format!(
                "{case}: the directory changed: {:?}",
                listing(dir.path())
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A pattern list is bounded too: each compiled regular expression takes a few KiB, so a list of
/// a million (a 10 MB file) took gigabytes.
#[test]
fn a_pattern_list_beyond_10000_entries_is_refused_located() {
    let dir = config_dir();
    let patterns: Vec<String> = (0..10_001).map(|i| format!("\"^t{i}$\"")).collect();
    let text = format!(
        "{}\ntopics {{\n  include = [{}]\n}}\n",
        bad_input::MAIN_HCL,
        patterns.join(", ")
    );
    std::fs::write(dir.path().join("main.hcl"), text).unwrap();
    let out = ferry(dir.path(), &["validate"]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(
        out.stderr.contains(
            "main.hcl:18:3: topics.include: holds 10001 patterns, more than the 10000 ferry compiles"
        ),
        "{}",
        out.describe()
    );
}
