//! Which clusters ferry's own connection can reach the way librdkafka would, and with what.

use crate::config::{ClusterSettings, Sasl, Tls};

/// How ferry's own connection reaches one cluster: the cluster's own `sasl` and `tls` settings.
#[derive(Clone)]
pub struct WireSettings {
    pub(super) bootstrap: Vec<String>,
    pub(super) client_id: String,
    pub(super) sasl: Option<Sasl>,
    pub(super) tls: Option<Tls>,
}

/// Raw librdkafka properties that change how a connection is made or authenticated: with any of
/// them set, only librdkafka knows how to connect.
const CONNECTION_PREFIXES: &[&str] = &[
    "security.",
    "sasl.",
    "ssl.",
    "enable.ssl",
    "socket.",
    "broker.address",
    "client.dns",
    "bootstrap.",
    "metadata.broker.list",
];

impl WireSettings {
    /// The connection for `settings`, or why ferry's own connection cannot reach that cluster
    /// exactly as librdkafka does (the caller then goes through librdkafka alone).
    pub fn for_cluster(
        settings: &ClusterSettings,
        client_id: &str,
    ) -> Result<WireSettings, String> {
        if let Some(key) = settings.properties.keys().find(|key| {
            CONNECTION_PREFIXES
                .iter()
                .any(|prefix| key.starts_with(prefix))
        }) {
            return Err(format!(
                "its raw property {key} changes how librdkafka connects"
            ));
        }
        let client_id = settings
            .properties
            .get("client.id")
            .cloned()
            .unwrap_or_else(|| client_id.to_string());
        Ok(WireSettings {
            bootstrap: settings.bootstrap_servers.clone(),
            client_id,
            sasl: settings.sasl.clone(),
            tls: settings.tls.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{SaslMechanism, Secret};

    fn plaintext() -> ClusterSettings {
        ClusterSettings::plaintext("localhost:9092")
    }

    #[test]
    fn plaintext_and_sasl_clusters_are_reached_directly() {
        let wire = WireSettings::for_cluster(&plaintext(), "ferry-source").unwrap();
        assert_eq!(wire.bootstrap, ["localhost:9092"]);
        assert_eq!(wire.client_id, "ferry-source");
        assert!(wire.sasl.is_none());

        for (mechanism, name) in [
            (SaslMechanism::Plain, "PLAIN"),
            (SaslMechanism::ScramSha256, "SCRAM-SHA-256"),
            (SaslMechanism::ScramSha512, "SCRAM-SHA-512"),
        ] {
            let mut settings = plaintext();
            settings.sasl = Some(Sasl {
                mechanism,
                username: "ferry".into(),
                password: Secret::new("hunter2"),
            });
            let wire = WireSettings::for_cluster(&settings, "ferry-source").unwrap();
            let sasl = wire.sasl.unwrap();
            assert_eq!(sasl.mechanism.as_str(), name);
            assert_eq!(sasl.password.expose(), "hunter2");
        }
    }

    #[test]
    fn the_raw_client_id_wins() {
        let mut settings = plaintext();
        settings
            .properties
            .insert("client.id".into(), "billing-migration".into());
        let wire = WireSettings::for_cluster(&settings, "ferry-source").unwrap();
        assert_eq!(wire.client_id, "billing-migration");
    }

    #[test]
    fn tls_settings_are_carried_over() {
        let mut settings = plaintext();
        settings.tls = Some(Tls {
            ca_file: Some("/etc/ferry/ca.pem".into()),
            ..Tls::default()
        });
        let wire = WireSettings::for_cluster(&settings, "f").unwrap();
        assert_eq!(
            wire.tls.unwrap().ca_file.unwrap().to_str(),
            Some("/etc/ferry/ca.pem")
        );
    }

    #[test]
    fn connection_properties_stay_with_librdkafka() {
        for key in [
            "security.protocol",
            "sasl.oauthbearer.config",
            "ssl.ca.location",
            "socket.keepalive.enable",
            "broker.address.family",
            "client.dns.lookup",
        ] {
            let mut settings = plaintext();
            settings.properties.insert(key.into(), "x".into());
            let reason = WireSettings::for_cluster(&settings, "f").err().unwrap();
            assert!(reason.contains(key), "{key}: {reason}");
        }

        let mut settings = plaintext();
        settings
            .properties
            .insert("statistics.interval.ms".into(), "100".into());
        assert!(WireSettings::for_cluster(&settings, "f").is_ok());
    }
}
