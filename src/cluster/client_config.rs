//! Cluster settings -> librdkafka client properties.
//!
//! The mapping is plain data so it can be unit-tested: these tests check every combination
//! exactly, including ones the end-to-end tests against Kafka's SASL and TLS listeners
//! (`tests/auth_e2e.rs`) do not run.

use rdkafka::ClientConfig;

use crate::config::ClusterSettings;

/// What [`redacted`] shows instead of a secret value.
pub const REDACTED: &str = "(sensitive)";

/// The librdkafka properties for one cluster: bootstrap servers, `security.protocol` derived from
/// whether `sasl` / `tls` are declared, the SASL credentials and TLS files, then the raw
/// `properties` of the cluster block, which win over everything derived here.
pub fn client_config(settings: &ClusterSettings) -> ClientConfig {
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", settings.bootstrap_servers.join(","));

    let protocol = match (settings.sasl.is_some(), settings.tls.is_some()) {
        (false, false) => "PLAINTEXT",
        (false, true) => "SSL",
        (true, false) => "SASL_PLAINTEXT",
        (true, true) => "SASL_SSL",
    };
    cfg.set("security.protocol", protocol);

    if let Some(sasl) = &settings.sasl {
        cfg.set("sasl.mechanism", sasl.mechanism.as_str());
        cfg.set("sasl.username", &sasl.username);
        cfg.set("sasl.password", sasl.password.expose());
    }

    if let Some(tls) = &settings.tls {
        let files = [
            ("ssl.ca.location", &tls.ca_file),
            ("ssl.certificate.location", &tls.cert_file),
            ("ssl.key.location", &tls.key_file),
        ];
        for (key, file) in files {
            if let Some(path) = file {
                cfg.set(key, path.to_string_lossy());
            }
        }
        if let Some(password) = &tls.key_password {
            cfg.set("ssl.key.password", password.expose());
        }
        if tls.insecure_skip_verify {
            cfg.set("enable.ssl.certificate.verification", "false");
        }
    }

    for (key, value) in &settings.properties {
        cfg.set(key, value);
    }
    cfg
}

/// Whether a librdkafka property holds a secret (passwords, client secrets, inline private keys).
pub fn is_sensitive(key: &str) -> bool {
    key.contains("password")
        || key.contains("secret")
        || key == "ssl.key.pem"
        || key == "sasl.oauthbearer.config"
}

/// All properties sorted by key, fit for logs: secret values are replaced by [`REDACTED`].
pub fn redacted(cfg: &ClientConfig) -> Vec<(String, String)> {
    // `config_map` already masks the keys rdkafka knows; the rule here covers the rest.
    cfg.config_map()
        .into_iter()
        .map(|(key, value)| {
            let shown = if is_sensitive(key) { REDACTED } else { value };
            (key.to_string(), shown.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;
    use crate::config::{Location, Sasl, SaslMechanism, Secret, Tls};

    fn settings(sasl: Option<Sasl>, tls: Option<Tls>) -> ClusterSettings {
        ClusterSettings {
            bootstrap_servers: vec!["b1:9092".into(), "b2:9092".into()],
            cluster_id: None,
            sasl,
            tls,
            properties: BTreeMap::new(),
            ckafka: None,
            location: Location::default(),
        }
    }

    fn sasl(mechanism: SaslMechanism) -> Sasl {
        Sasl {
            mechanism,
            username: "ckafka-abc123#ferry".into(),
            password: Secret::new("hunter2"),
        }
    }

    fn tls_full() -> Tls {
        Tls {
            ca_file: Some(PathBuf::from("/etc/ferry/ca.pem")),
            cert_file: Some(PathBuf::from("/etc/ferry/client.pem")),
            key_file: Some(PathBuf::from("/etc/ferry/client.key")),
            key_password: Some(Secret::new("keypass")),
            insecure_skip_verify: false,
        }
    }

    fn map(cfg: &ClientConfig) -> BTreeMap<String, String> {
        // Read through `get`, not `config_map`, which masks secrets.
        cfg.config_map()
            .keys()
            .map(|k| (k.to_string(), cfg.get(k).unwrap().to_string()))
            .collect()
    }

    fn expected(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// No sasl, no tls: plaintext.
    #[test]
    fn plaintext() {
        let cfg = client_config(&settings(None, None));
        assert_eq!(
            map(&cfg),
            expected(&[
                ("bootstrap.servers", "b1:9092,b2:9092"),
                ("security.protocol", "PLAINTEXT")
            ])
        );
    }

    /// SASL without TLS.
    #[test]
    fn sasl_plaintext() {
        let cfg = client_config(&settings(Some(sasl(SaslMechanism::Plain)), None));
        assert_eq!(
            map(&cfg),
            expected(&[
                ("bootstrap.servers", "b1:9092,b2:9092"),
                ("sasl.mechanism", "PLAIN"),
                ("sasl.password", "hunter2"),
                ("sasl.username", "ckafka-abc123#ferry"),
                ("security.protocol", "SASL_PLAINTEXT"),
            ])
        );
    }

    /// SCRAM mechanisms keep librdkafka's spelling.
    #[test]
    fn sasl_scram_mechanisms() {
        for (mechanism, name) in [
            (SaslMechanism::ScramSha256, "SCRAM-SHA-256"),
            (SaslMechanism::ScramSha512, "SCRAM-SHA-512"),
        ] {
            let cfg = client_config(&settings(Some(sasl(mechanism)), None));
            assert_eq!(cfg.get("sasl.mechanism"), Some(name));
        }
    }

    /// TLS with every file and a key password.
    #[test]
    fn ssl_with_client_certificate() {
        let cfg = client_config(&settings(None, Some(tls_full())));
        assert_eq!(
            map(&cfg),
            expected(&[
                ("bootstrap.servers", "b1:9092,b2:9092"),
                ("security.protocol", "SSL"),
                ("ssl.ca.location", "/etc/ferry/ca.pem"),
                ("ssl.certificate.location", "/etc/ferry/client.pem"),
                ("ssl.key.location", "/etc/ferry/client.key"),
                ("ssl.key.password", "keypass"),
            ])
        );
    }

    /// An empty `tls {}` block still means SSL, verified against the system CAs.
    #[test]
    fn ssl_with_defaults_only() {
        let cfg = client_config(&settings(None, Some(Tls::default())));
        assert_eq!(
            map(&cfg),
            expected(&[
                ("bootstrap.servers", "b1:9092,b2:9092"),
                ("security.protocol", "SSL")
            ])
        );
    }

    /// `insecure_skip_verify` turns verification off.
    #[test]
    fn ssl_insecure_skip_verify() {
        let tls = Tls {
            insecure_skip_verify: true,
            ..Tls::default()
        };
        let cfg = client_config(&settings(None, Some(tls)));
        assert_eq!(
            cfg.get("enable.ssl.certificate.verification"),
            Some("false")
        );
        assert_eq!(cfg.get("security.protocol"), Some("SSL"));
    }

    /// SASL over TLS, the CKafka public-endpoint case.
    #[test]
    fn sasl_ssl() {
        let cfg = client_config(&settings(
            Some(sasl(SaslMechanism::ScramSha512)),
            Some(tls_full()),
        ));
        assert_eq!(
            map(&cfg),
            expected(&[
                ("bootstrap.servers", "b1:9092,b2:9092"),
                ("sasl.mechanism", "SCRAM-SHA-512"),
                ("sasl.password", "hunter2"),
                ("sasl.username", "ckafka-abc123#ferry"),
                ("security.protocol", "SASL_SSL"),
                ("ssl.ca.location", "/etc/ferry/ca.pem"),
                ("ssl.certificate.location", "/etc/ferry/client.pem"),
                ("ssl.key.location", "/etc/ferry/client.key"),
                ("ssl.key.password", "keypass"),
            ])
        );
    }

    /// Raw `properties` are passed through and win over derived values.
    #[test]
    fn properties_win() {
        let mut s = settings(Some(sasl(SaslMechanism::Plain)), None);
        s.properties
            .insert("security.protocol".into(), "SASL_SSL".into());
        s.properties
            .insert("sasl.mechanism".into(), "OAUTHBEARER".into());
        s.properties.insert("client.id".into(), "ferry-ci".into());
        let cfg = client_config(&s);
        assert_eq!(cfg.get("security.protocol"), Some("SASL_SSL"));
        assert_eq!(cfg.get("sasl.mechanism"), Some("OAUTHBEARER"));
        assert_eq!(cfg.get("client.id"), Some("ferry-ci"));
        assert_eq!(cfg.get("sasl.username"), Some("ckafka-abc123#ferry"));
    }

    /// Secrets never reach logs, whether they come from the sasl/tls blocks or raw properties.
    #[test]
    fn redacted_hides_secrets() {
        let mut s = settings(Some(sasl(SaslMechanism::Plain)), Some(tls_full()));
        s.properties.insert(
            "sasl.oauthbearer.client.secret".into(),
            "oauth-secret".into(),
        );
        s.properties
            .insert("ssl.keystore.password".into(), "storepass".into());
        s.properties
            .insert("ssl.key.pem".into(), "-----BEGIN PRIVATE KEY-----".into());
        let shown = redacted(&client_config(&s));
        let text = format!("{shown:?}");
        for secret in [
            "hunter2",
            "keypass",
            "oauth-secret",
            "storepass",
            "BEGIN PRIVATE KEY",
        ] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        let get = |k: &str| {
            shown
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("sasl.password"), Some(REDACTED));
        assert_eq!(get("ssl.key.password"), Some(REDACTED));
        assert_eq!(get("sasl.username"), Some("ckafka-abc123#ferry"));
        assert_eq!(get("bootstrap.servers"), Some("b1:9092,b2:9092"));
        assert!(shown.windows(2).all(|w| w[0].0 < w[1].0), "sorted by key");
    }
}
