//! Checks across blocks: how many of each block, duplicate and colliding topics, hooks against
//! the scheme. Block readers check everything that one block can decide alone, some with the
//! value checks at the end of this file (server addresses, TLS files), so that `ferry validate`
//! finds offline what would otherwise fail only when a cluster is contacted.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::path::Path;

use super::blocks::TopBlock;
use super::suggest::did_you_mean;
use super::{ConfigError, Migration, Scheme, TopicBlock};

/// The first of blocks that may appear at most once; every further one is an error.
pub(crate) fn at_most_one<'b, 'a>(
    blocks: &'b [TopBlock<'a>],
    errors: &mut Vec<ConfigError>,
) -> Option<&'b TopBlock<'a>> {
    let first = blocks.first()?;
    for extra in &blocks[1..] {
        errors.push(extra.error(format!(
            "declared twice; the first is at {} (at most one is allowed)",
            first.at()
        )));
    }
    Some(first)
}

/// Blocks that must appear exactly once; `example` shows how to declare a missing one.
pub(crate) fn exactly_one<'b, 'a>(
    blocks: &'b [TopBlock<'a>],
    dir: &Path,
    key: &str,
    example: &str,
    errors: &mut Vec<ConfigError>,
) -> Option<&'b TopBlock<'a>> {
    if blocks.is_empty() {
        errors.push(ConfigError::in_dir(
            dir,
            key,
            format!("missing; declare it in one of the files: {example}"),
        ));
    }
    at_most_one(blocks, errors)
}

/// Blocks with a name label (`topic`, `hook`, `variable`): a name declared again is an error at
/// the later block, naming the first. Returns the first block of each name, in order.
pub(crate) fn unique_names<'b, 'a>(
    blocks: &'b [TopBlock<'a>],
    errors: &mut Vec<ConfigError>,
) -> Vec<&'b TopBlock<'a>> {
    let mut seen: BTreeMap<&str, &TopBlock> = BTreeMap::new();
    let mut out = Vec::new();
    for b in blocks {
        match seen.get(b.label()) {
            Some(first) => {
                errors.push(b.error(format!("declared twice; the first is at {}", first.at())))
            }
            None => {
                seen.insert(b.label(), b);
                out.push(b);
            }
        }
    }
    out
}

/// Two topics may not land on the same target topic (`target_name`, else the name).
pub(crate) fn target_names(topics: &[TopicBlock], errors: &mut Vec<ConfigError>) {
    let mut in_order: Vec<&TopicBlock> = topics.iter().collect();
    in_order.sort_by(|a, b| {
        (&a.location.file, a.location.line).cmp(&(&b.location.file, b.location.line))
    });
    let mut targets: BTreeMap<&str, &TopicBlock> = BTreeMap::new();
    for t in in_order {
        let target = t.target_name.as_deref().unwrap_or(&t.name);
        match targets.get(target) {
            Some(first) => {
                let file = first
                    .location
                    .file
                    .file_name()
                    .map(|f| f.to_string_lossy())
                    .unwrap_or_default();
                let key = match t.target_name {
                    Some(_) => format!("topic \"{}\".target_name", t.name),
                    None => format!("topic \"{}\"", t.name),
                };
                errors.push(ConfigError::new(
                    t.location.clone(),
                    key,
                    format!(
                        "target topic \"{target}\" is also the target of topic \"{}\" ({file}:{}); two source topics cannot migrate into one",
                        first.name, first.location.line
                    ),
                ));
            }
            None => {
                targets.insert(target, t);
            }
        }
    }
}

/// `accept_adjustments` approves what CKafka's rules change; without a `ckafka` block on the
/// target nothing is adjusted, so the key would be silently meaningless.
pub(crate) fn adjustments_need_ckafka(topics: &[TopicBlock], errors: &mut Vec<ConfigError>) {
    for t in topics.iter().filter(|t| t.accept_adjustments.is_some()) {
        errors.push(ConfigError::new(
            t.location.clone(),
            format!("topic \"{}\".accept_adjustments", t.name),
            "accept_adjustments only applies to a CKafka target: add a `ckafka` block to cluster \"target\", or remove the key",
        ));
    }
}

/// Hooks must be ones the scheme calls, and the ones it cannot run without must be there.
/// Works on the blocks, so a hook with a wrong key still counts as declared.
pub(crate) fn hooks(migration: &Migration, hooks: &[&TopBlock], errors: &mut Vec<ConfigError>) {
    let scheme = migration.scheme;
    let known: Vec<&str> = scheme.hooks().iter().map(|(name, _)| *name).collect();
    let mut replaced: Vec<&str> = Vec::new();
    for b in hooks {
        if known.contains(&b.label()) {
            continue;
        }
        if let Some((pair, why)) = mirror_split(scheme, b.label()) {
            replaced.extend(pair);
            errors.push(b.error(format!(
                "scheme mirror moves {why} in two hooks, so that ferry can act while none of them runs; replace hook \"{}\" with\n  hook \"{}\" {{ command = [\"...\"] }}\n  hook \"{}\" {{ command = [\"...\"] }}\n(docs/user-guide.md, \"The mirror cutover\", says what each must do)",
                b.label(),
                pair[0],
                pair[1]
            )));
            continue;
        }
        let hint = did_you_mean(b.label(), known.iter().copied());
        errors.push(b.error(format!(
            "scheme {scheme} does not call a hook by this name{hint} (it calls {})",
            known.join(", ")
        )));
    }
    for (name, required) in scheme.hooks() {
        if *required && !replaced.contains(name) && !hooks.iter().any(|b| b.label() == *name) {
            errors.push(ConfigError::new(
                migration.location.clone(),
                format!("migration \"{}\"", migration.name),
                format!(
                    "scheme {scheme} needs hook \"{name}\": declare hook \"{name}\" {{ command = [\"...\"] }}"
                ),
            ));
        }
    }
}

/// The two hooks that replaced one of mirror's earlier one-step switches, and what they move:
/// offsets are translated after consumers stopped on the source and before they start on the
/// target; the tail is copied and verified after producers stopped and before they start.
fn mirror_split(scheme: Scheme, hook: &str) -> Option<([&'static str; 2], &'static str)> {
    match (scheme, hook) {
        (Scheme::Mirror, "switch_consumers") => Some((
            ["stop_source_consumers", "start_target_consumers"],
            "consumers",
        )),
        (Scheme::Mirror, "switch_producers") => Some((
            ["stop_source_producers", "start_target_producers"],
            "producers",
        )),
        _ => None,
    }
}

/// One `bootstrap_servers` element: `host:port`, or several joined by commas (as an env() value
/// often is). The port must be 1..=65535: librdkafka would wrap a larger one silently, and
/// without one it would guess 9092. Messages quote no part of the value (it may be sensitive).
pub(crate) fn server_addresses(text: &str) -> Result<(), String> {
    for part in text.split(',') {
        server_address(part.trim())?;
    }
    Ok(())
}

fn server_address(s: &str) -> Result<(), String> {
    const FORM: &str =
        "write it as host:port, like broker-1:9092, 10.0.0.5:9092 or [2001:db8::5]:9092";
    if s.is_empty() {
        return Err(format!("has an empty server between commas; {FORM}"));
    }
    if s.contains("://") {
        return Err(format!(
            "has a protocol prefix (such as SASL_SSL://): {FORM}; the protocol follows from the sasl and tls blocks"
        ));
    }
    let port = if let Some(rest) = s.strip_prefix('[') {
        let (ip, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("has an IPv6 address without its closing bracket; {FORM}"))?;
        if ip.parse::<Ipv6Addr>().is_err() {
            return Err(format!("has no IPv6 address between the brackets; {FORM}"));
        }
        after
            .strip_prefix(':')
            .ok_or_else(|| format!("has no port after the address; {FORM}"))?
    } else {
        match s.rsplit_once(':') {
            None => return Err(format!("has no port; {FORM}")),
            Some((host, _)) if host.contains(':') => {
                return Err(format!("has an IPv6 address without brackets; {FORM}"));
            }
            Some((host, port)) => {
                let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
                if host.is_empty() {
                    return Err(format!("has no host before the port; {FORM}"));
                }
                if !host.chars().all(allowed) {
                    return Err(format!(
                        "has a host name with characters other than letters, digits, '.', '-' and '_'; {FORM}"
                    ));
                }
                port
            }
        }
    };
    if port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("has a port that is not a number; {FORM}"));
    }
    match port.parse::<u32>() {
        Ok(1..=65535) => Ok(()),
        _ => Err("has a port out of range: ports go from 1 to 65535".to_string()),
    }
}

/// A TLS file (`ca_file`, `cert_file`, `key_file`) must be a regular file ferry can open:
/// librdkafka reads it only when it connects, which is too late for `ferry validate`. Reads
/// nothing from it. `shown` is the path as the message may print it (or hidden when sensitive).
pub(crate) fn tls_file(path: &Path, shown: &str) -> Result<(), String> {
    use crate::bounded_file::{FileProblem, check_readable};
    match check_readable(path) {
        Ok(()) => Ok(()),
        Err(FileProblem::Missing) => Err(format!(
            "file {shown} not found: a relative path is taken from the configuration directory; fix the path, or put the file there"
        )),
        Err(FileProblem::Io(e)) => Err(format!(
            "cannot open {shown} ({e}): let the user that runs ferry read it"
        )),
        Err(problem) => Err(format!(
            "{shown} cannot be used: {problem}; point the key at the PEM file itself"
        )),
    }
}

#[cfg(test)]
mod address_tests {
    use super::server_addresses;

    #[test]
    fn addresses_need_a_host_and_a_port_in_range() {
        for ok in [
            "a:1",
            "broker-1.example.com:9092",
            "10.0.0.5:65535",
            "[::1]:9092",
            "a:1, b:2",
        ] {
            assert_eq!(server_addresses(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("broker", "no port"),
            ("broker:", "not a number"),
            (":9092", "no host"),
            ("broker:0", "out of range"),
            ("broker:65536", "out of range"),
            ("broker:99999999999999999999", "out of range"),
            ("broker:90x", "not a number"),
            ("::1:9092", "without brackets"),
            ("[::1]", "no port after"),
            ("[::1:9092", "closing bracket"),
            ("[nope]:9092", "no IPv6 address"),
            ("SASL_SSL://b:9092", "protocol prefix"),
            ("a:1,,b:2", "empty server"),
            ("bro ker:9092", "characters other than"),
        ] {
            let e = server_addresses(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
