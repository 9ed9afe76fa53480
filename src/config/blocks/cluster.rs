//! `cluster "source"` / `cluster "target"`: how to reach each cluster.

use super::TopBlock;
use crate::config::body::{Cx, Fields, Shown, optional};
use crate::config::eval::Evaluated;
use crate::config::suggest::did_you_mean;
use crate::config::validate;
use crate::config::{CkafkaSettings, ClusterSettings, Sasl, SaslMechanism, Secret, Tls, value};

pub(crate) const ROLES: [&str; 2] = ["source", "target"];

const MECHANISMS: [SaslMechanism; 3] = [
    SaslMechanism::Plain,
    SaslMechanism::ScramSha256,
    SaslMechanism::ScramSha512,
];

pub(crate) fn read(cx: &mut Cx, b: &TopBlock) -> Option<ClusterSettings> {
    let role = b.label();
    if !ROLES.contains(&role) {
        cx.errors.push(b.error(format!(
            "unknown cluster; the clusters are \"source\" and \"target\"{}",
            did_you_mean(role, ROLES)
        )));
        return None;
    }
    let f = Fields::new(
        cx,
        b.file,
        b.name.clone(),
        b.location.clone(),
        &b.block.body,
        &["bootstrap_servers", "cluster_id", "properties"],
        &["sasl", "tls", "ckafka"],
    );
    let mut ok = true;
    let bootstrap_servers = match f.required(cx, "bootstrap_servers", Shown::Masked) {
        Some(ev) => match cx.convert(&ev, value::string_list) {
            Some(list) if list.is_empty() || list.iter().any(|s| s.trim().is_empty()) => {
                cx.errors.push(
                    ev.error("needs at least one server as \"host:port\", and no empty entries"),
                );
                None
            }
            Some(list) => {
                let mut ok = true;
                for (i, server) in list.iter().enumerate() {
                    if let Err(why) = validate::server_addresses(server) {
                        ok = false;
                        cx.error(
                            ev.element_location(i),
                            format!("{}[{i}]", ev.key),
                            format!("{} {why}", ev.show(server)),
                        );
                    }
                }
                ok.then_some(list)
            }
            None => None,
        },
        None => None,
    };
    let cluster_id = f
        .get_masked(cx, "cluster_id")
        .map(|ev| cx.convert(&ev, value::string));
    let properties = f.get_masked(cx, "properties").map(|ev| string_map(cx, &ev));
    let sasl = f.block("sasl").map(|block| read_sasl(cx, &f, block));
    let tls = f.block("tls").map(|block| read_tls(cx, &f, block));
    let ckafka = f.block("ckafka").map(|block| {
        if role == "source" {
            let at = b.file.location(hcl_edit::Span::span(&block.ident));
            cx.error(at, f.key("ckafka"), "ckafka is only allowed in cluster \"target\": ferry manages topics only on the target");
            return None;
        }
        read_ckafka(cx, &f, block)
    });
    ok &= !matches!(cluster_id, Some(None))
        && !matches!(properties, Some(None))
        && !matches!(sasl, Some(None))
        && !matches!(tls, Some(None))
        && !matches!(ckafka, Some(None));
    let bootstrap_servers = bootstrap_servers?;
    if !ok {
        return None;
    }
    Some(ClusterSettings {
        bootstrap_servers,
        // An empty pin (an unset env() with "" as its default) pins nothing.
        cluster_id: cluster_id.flatten().filter(|id| !id.is_empty()),
        sasl: sasl.flatten(),
        tls: tls.flatten(),
        properties: properties.flatten().unwrap_or_default(),
        ckafka: ckafka.flatten(),
        location: b.location.clone(),
    })
}

/// A map of librdkafka properties: values converted to strings; per-entry errors at the entry.
pub(crate) fn string_map(
    cx: &mut Cx,
    ev: &Evaluated,
) -> Option<std::collections::BTreeMap<String, String>> {
    let entries = cx.convert(ev, value::string_map)?;
    let mut ok = true;
    for (k, v) in &entries {
        if let Err(message) = v {
            cx.error(
                ev.entry_location(k),
                format!("{}[\"{k}\"]", ev.key),
                message.clone(),
            );
            ok = false;
        }
    }
    ok.then(|| value::ok_entries(&entries))
}

fn nested<'a>(
    cx: &mut Cx,
    parent: &Fields<'a>,
    block: &'a hcl_edit::structure::Block,
    attrs: &[&str],
) -> Fields<'a> {
    let location = crate::config::body::block_location(parent.file, block);
    Fields::new(
        cx,
        parent.file,
        parent.key(block.ident.as_str()),
        location,
        &block.body,
        attrs,
        &[],
    )
}

fn read_sasl(cx: &mut Cx, parent: &Fields, block: &hcl_edit::structure::Block) -> Option<Sasl> {
    let f = nested(cx, parent, block, &["mechanism", "username", "password"]);
    let mechanism = f.required(cx, "mechanism", Shown::Masked).and_then(|ev| {
        let text = cx.convert(&ev, value::string)?;
        let found = MECHANISMS.into_iter().find(|m| m.as_str() == text);
        if found.is_none() {
            let names: Vec<&str> = MECHANISMS.iter().map(|m| m.as_str()).collect();
            let hint = match did_you_mean(&text, names.iter().copied()) {
                h if h.is_empty() => format!("; expected one of {}", names.join(", ")),
                h => h,
            };
            cx.errors
                .push(ev.error(format!("unknown SASL mechanism {}{hint}", ev.show(&text))));
        }
        found
    });
    let username = f
        .required(cx, "username", Shown::Masked)
        .and_then(|ev| cx.convert(&ev, value::string));
    let password = f
        .required(cx, "password", Shown::Secret)
        .and_then(|ev| cx.convert(&ev, value::string));
    Some(Sasl {
        mechanism: mechanism?,
        username: username?,
        password: Secret::new(password?),
    })
}

fn read_tls(cx: &mut Cx, parent: &Fields, block: &hcl_edit::structure::Block) -> Option<Tls> {
    let f = nested(
        cx,
        parent,
        block,
        &[
            "ca_file",
            "cert_file",
            "key_file",
            "key_password",
            "insecure_skip_verify",
        ],
    );
    let mut ok = true;
    let mut path = |cx: &mut Cx, name: &str| match f.get_masked(cx, name) {
        Some(ev) => match cx.convert(&ev, value::string) {
            Some(p) => {
                let resolved = cx.resolve(&p);
                let shown = if ev.sensitive {
                    ev.show(&p)
                } else {
                    format!("\"{}\"", resolved.display())
                };
                if let Err(why) = validate::tls_file(&resolved, &shown) {
                    cx.errors.push(ev.error(why));
                    ok = false;
                }
                Some(resolved)
            }
            None => {
                ok = false;
                None
            }
        },
        None => None,
    };
    let ca_file = path(cx, "ca_file");
    let cert_file = path(cx, "cert_file");
    let key_file = path(cx, "key_file");
    let key_password = f
        .get_secret(cx, "key_password")
        .map(|ev| cx.convert(&ev, value::string));
    let insecure = f
        .get_masked(cx, "insecure_skip_verify")
        .map(|ev| cx.convert(&ev, value::boolean));
    if cert_file.is_some() != key_file.is_some() {
        cx.error(
            f.location.clone(),
            f.path.clone(),
            "cert_file and key_file go together: set both or neither",
        );
        ok = false;
    }
    if matches!(key_password, Some(None)) || matches!(insecure, Some(None)) || !ok {
        return None;
    }
    Some(Tls {
        ca_file,
        cert_file,
        key_file,
        key_password: key_password.flatten().map(Secret::new),
        insecure_skip_verify: insecure.flatten().unwrap_or(false),
    })
}

fn read_ckafka(
    cx: &mut Cx,
    parent: &Fields,
    block: &hcl_edit::structure::Block,
) -> Option<CkafkaSettings> {
    let f = nested(
        cx,
        parent,
        block,
        &[
            "instance_id",
            "region",
            "endpoint",
            "secret_id",
            "secret_key",
            "accept_adjustments",
            "offsets_through_api",
            "route_bandwidth_mbps",
        ],
    );
    let instance_id = f
        .required(cx, "instance_id", Shown::Masked)
        .and_then(|ev| cx.convert(&ev, value::string));
    let region = f
        .required(cx, "region", Shown::Masked)
        .and_then(|ev| cx.convert(&ev, value::string));
    let endpoint = f
        .get_masked(cx, "endpoint")
        .map(|ev| cx.convert(&ev, value::string));
    let secret_id = f
        .get_secret(cx, "secret_id")
        .map(|ev| cx.convert(&ev, value::string));
    let secret_key = f
        .get_secret(cx, "secret_key")
        .map(|ev| cx.convert(&ev, value::string));
    let accept = f
        .get(cx, "accept_adjustments")
        .map(|ev| cx.convert(&ev, value::boolean));
    let offsets = f
        .get(cx, "offsets_through_api")
        .map(|ev| cx.convert(&ev, value::boolean));
    let bandwidth = f.get(cx, "route_bandwidth_mbps").map(|ev| {
        let n = cx.convert(&ev, value::number)?;
        if n > 0.0 {
            Some(n)
        } else {
            cx.errors
                .push(ev.error("must be a positive number of Mbit/s, such as 3 or 100"));
            None
        }
    });
    if secret_id.is_some() != secret_key.is_some() {
        cx.error(
            f.location.clone(),
            f.path.clone(),
            "secret_id and secret_key go together: set both, or neither to read TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY",
        );
        return None;
    }
    Some(CkafkaSettings {
        instance_id: instance_id?,
        region: region?,
        endpoint: optional(endpoint)?,
        secret_id: optional(secret_id)?.map(Secret::new),
        secret_key: optional(secret_key)?.map(Secret::new),
        accept_adjustments: optional(accept)?.unwrap_or(false),
        offsets_through_api: optional(offsets)?.unwrap_or(false),
        route_bandwidth_mbps: optional(bandwidth)?,
    })
}
