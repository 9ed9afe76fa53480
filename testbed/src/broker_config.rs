//! A test broker's `server.properties` and logging config, as text: pure, so the listener
//! variants are unit-tested without a JVM.
//!
//! Every broker has an `INTERNAL` PLAINTEXT listener (the test bed's own seeding and reading,
//! and inter-broker traffic) and a `CONTROLLER` listener. A broker asked for SASL or TLS gets a
//! third, `CLIENT`, listener with that security: the one ferry and the test's clients are
//! pointed at. With ACLs on, the principal of the plaintext listeners (`User:ANONYMOUS`) and
//! `User:admin` are super users, so the test bed itself is never refused.
//!
//! The thread pools and buffers are cut to what one test needs: the machine has two cores for
//! two brokers, ferry and the test's clients.

use std::fmt::Write as _;
use std::path::Path;

/// A SASL user of a test broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub password: String,
}

impl User {
    pub fn new(name: &str, password: &str) -> User {
        User {
            name: name.to_owned(),
            password: password.to_owned(),
        }
    }
}

/// The security of a broker's client listener.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Security {
    /// No extra listener: clients use the PLAINTEXT one.
    #[default]
    Plaintext,
    /// SASL_PLAINTEXT with the PLAIN mechanism (CKafka's public endpoint authenticates so).
    SaslPlain(Vec<User>),
    /// SASL_PLAINTEXT with SCRAM-SHA-512 (and SCRAM-SHA-256) users.
    SaslScram(Vec<User>),
    /// SSL, the server certificate signed by a CA the test bed generated.
    Ssl,
}

impl Security {
    /// The Kafka security protocol of the client listener.
    pub fn protocol(&self) -> &'static str {
        match self {
            Security::Plaintext => "PLAINTEXT",
            Security::SaslPlain(_) | Security::SaslScram(_) => "SASL_PLAINTEXT",
            Security::Ssl => "SSL",
        }
    }

    /// The users a SCRAM broker must be formatted with (StorageTool `--add-scram` arguments).
    pub fn scram_credentials(&self) -> Vec<String> {
        match self {
            Security::SaslScram(users) => users
                .iter()
                .flat_map(|user| {
                    ["SCRAM-SHA-512", "SCRAM-SHA-256"].map(|mechanism| {
                        format!(
                            "{mechanism}=[name={},password={}]",
                            user.name, user.password
                        )
                    })
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// What a test asks of a broker beyond the defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrokerOptions {
    pub security: Security,
    /// The standard KRaft authorizer, with `User:ANONYMOUS` and `User:admin` as super users.
    pub acls: bool,
    /// Extra broker properties; they override the test bed's defaults.
    pub properties: Vec<(String, String)>,
}

impl BrokerOptions {
    pub fn security(security: Security) -> BrokerOptions {
        BrokerOptions {
            security,
            ..BrokerOptions::default()
        }
    }

    pub fn with_acls(mut self) -> BrokerOptions {
        self.acls = true;
        self
    }

    pub fn with_property(mut self, key: &str, value: &str) -> BrokerOptions {
        self.properties.push((key.to_owned(), value.to_owned()));
        self
    }
}

/// Where a broker listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub internal: u16,
    pub controller: u16,
    /// The CLIENT listener's port, for brokers with SASL or TLS.
    pub client: Option<u16>,
}

/// Paths of a TLS broker's PEM files.
#[derive(Debug, Clone, Copy)]
pub struct TlsPaths<'a> {
    /// The server's private key (PKCS#8) followed by its certificate chain.
    pub keystore: &'a Path,
}

/// Defaults sized for a test on two cores; each can be overridden by [`BrokerOptions::properties`].
const LEAN_DEFAULTS: &[(&str, &str)] = &[
    ("offsets.topic.replication.factor", "1"),
    ("offsets.topic.num.partitions", "4"),
    ("transaction.state.log.replication.factor", "1"),
    ("transaction.state.log.min.isr", "1"),
    ("transaction.state.log.num.partitions", "4"),
    ("share.coordinator.state.topic.replication.factor", "1"),
    ("share.coordinator.state.topic.min.isr", "1"),
    ("group.initial.rebalance.delay.ms", "0"),
    // Tests create every topic they use; a typo must not create one.
    ("auto.create.topics.enable", "false"),
    ("num.partitions", "1"),
    ("num.network.threads", "2"),
    ("num.io.threads", "2"),
    ("background.threads", "2"),
    ("num.replica.fetchers", "1"),
    ("num.recovery.threads.per.data.dir", "1"),
    ("log.cleaner.threads", "1"),
    ("log.cleaner.dedupe.buffer.size", "8388608"),
    // Compaction and retention tests wait for the cleaner and the retention check: keep them
    // prompt (the broker defaults are 15 s and 5 min).
    ("log.cleaner.backoff.ms", "500"),
    ("log.retention.check.interval.ms", "1000"),
    ("log.initial.task.delay.ms", "500"),
];

/// The broker's `server.properties`.
pub fn server_properties(
    options: &BrokerOptions,
    ports: Ports,
    log_dir: &Path,
    tls: Option<TlsPaths<'_>>,
) -> String {
    let mut listeners = vec![
        format!("INTERNAL://127.0.0.1:{}", ports.internal),
        format!("CONTROLLER://127.0.0.1:{}", ports.controller),
    ];
    let mut advertised = vec![format!("INTERNAL://127.0.0.1:{}", ports.internal)];
    let mut protocols = vec![
        "INTERNAL:PLAINTEXT".to_owned(),
        "CONTROLLER:PLAINTEXT".to_owned(),
    ];
    if let Some(client) = ports.client {
        listeners.push(format!("CLIENT://127.0.0.1:{client}"));
        advertised.push(format!("CLIENT://127.0.0.1:{client}"));
        protocols.push(format!("CLIENT:{}", options.security.protocol()));
    }

    let mut text = String::from("# Written by ferry-testbed for one test broker.\n");
    let mut set = |key: &str, value: &str| {
        let _ = writeln!(text, "{key}={value}");
    };
    set("process.roles", "broker,controller");
    set("node.id", "1");
    set(
        "controller.quorum.voters",
        &format!("1@127.0.0.1:{}", ports.controller),
    );
    set("controller.listener.names", "CONTROLLER");
    set("inter.broker.listener.name", "INTERNAL");
    set("listeners", &listeners.join(","));
    set("advertised.listeners", &advertised.join(","));
    set("listener.security.protocol.map", &protocols.join(","));
    set("log.dirs", &log_dir.display().to_string());

    match &options.security {
        Security::Plaintext => {}
        Security::SaslPlain(users) => {
            set("listener.name.client.sasl.enabled.mechanisms", "PLAIN");
            let mut jaas =
                String::from("org.apache.kafka.common.security.plain.PlainLoginModule required");
            for user in users {
                // Quoted, the option name may hold the '#' of CKafka's `instance#user` names.
                let _ = write!(jaas, " \"user_{}\"=\"{}\"", user.name, user.password);
            }
            jaas.push(';');
            set("listener.name.client.plain.sasl.jaas.config", &jaas);
        }
        Security::SaslScram(_) => {
            set(
                "listener.name.client.sasl.enabled.mechanisms",
                "SCRAM-SHA-512,SCRAM-SHA-256",
            );
            for mechanism in ["scram-sha-512", "scram-sha-256"] {
                set(
                    &format!("listener.name.client.{mechanism}.sasl.jaas.config"),
                    "org.apache.kafka.common.security.scram.ScramLoginModule required;",
                );
            }
        }
        Security::Ssl => {
            if let Some(tls) = tls {
                set("listener.name.client.ssl.keystore.type", "PEM");
                set(
                    "listener.name.client.ssl.keystore.location",
                    &tls.keystore.display().to_string(),
                );
                set("listener.name.client.ssl.client.auth", "none");
            }
        }
    }
    if options.acls {
        set(
            "authorizer.class.name",
            "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        );
        set("super.users", "User:ANONYMOUS;User:admin");
    }
    for (key, value) in LEAN_DEFAULTS {
        if !options.properties.iter().any(|(k, _)| k == key) {
            set(key, value);
        }
    }
    for (key, value) in &options.properties {
        set(key, value);
    }
    text
}

/// The logging config: everything at INFO on standard output, which the test bed sends to the
/// broker's log file (log4j2 syntax for Kafka 4, log4j 1 for Kafka 3, which logs through reload4j).
pub fn logging_config(log4j1: bool) -> String {
    if log4j1 {
        "log4j.rootLogger=INFO, stdout\n\
         log4j.appender.stdout=org.apache.log4j.ConsoleAppender\n\
         log4j.appender.stdout.layout=org.apache.log4j.PatternLayout\n\
         log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n\n"
            .to_owned()
    } else {
        "status = warn\n\
         appender.out.type = Console\n\
         appender.out.name = out\n\
         appender.out.layout.type = PatternLayout\n\
         appender.out.layout.pattern = [%d] %p %m (%c)%n\n\
         rootLogger.level = INFO\n\
         rootLogger.appenderRef.out.ref = out\n"
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ports(client: Option<u16>) -> Ports {
        Ports {
            internal: 9000,
            controller: 9001,
            client,
        }
    }

    fn lines(text: &str) -> Vec<&str> {
        text.lines().collect()
    }

    #[test]
    fn plaintext_broker_has_internal_and_controller_listeners_only() {
        let text = server_properties(
            &BrokerOptions::default(),
            ports(None),
            Path::new("/d"),
            None,
        );
        let lines = lines(&text);
        assert!(lines.contains(&"listeners=INTERNAL://127.0.0.1:9000,CONTROLLER://127.0.0.1:9001"));
        assert!(lines.contains(&"advertised.listeners=INTERNAL://127.0.0.1:9000"));
        assert!(lines.contains(&"controller.quorum.voters=1@127.0.0.1:9001"));
        assert!(lines.contains(&"log.dirs=/d"));
        assert!(!text.contains("sasl"));
        assert!(!text.contains("authorizer"));
    }

    #[test]
    fn sasl_plain_broker_lists_each_user_in_the_client_listener_jaas() {
        let options = BrokerOptions::security(Security::SaslPlain(vec![
            User::new("admin", "admin-secret"),
            User::new("ckafka-abc123#ferry", "s3cret"),
        ]));
        let text = server_properties(&options, ports(Some(9002)), Path::new("/d"), None);
        let lines = lines(&text);
        assert!(lines.contains(
            &"listener.security.protocol.map=INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT,CLIENT:SASL_PLAINTEXT"
        ));
        assert!(
            lines.contains(
                &"advertised.listeners=INTERNAL://127.0.0.1:9000,CLIENT://127.0.0.1:9002"
            )
        );
        assert!(lines.contains(&"listener.name.client.sasl.enabled.mechanisms=PLAIN"));
        assert!(lines.contains(
            &"listener.name.client.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \"user_admin\"=\"admin-secret\" \"user_ckafka-abc123#ferry\"=\"s3cret\";"
        ));
    }

    #[test]
    fn scram_broker_enables_both_scram_mechanisms_and_formats_users_for_each() {
        let security = Security::SaslScram(vec![User::new("ferry", "pw")]);
        assert_eq!(
            security.scram_credentials(),
            [
                "SCRAM-SHA-512=[name=ferry,password=pw]",
                "SCRAM-SHA-256=[name=ferry,password=pw]"
            ]
        );
        let text = server_properties(
            &BrokerOptions::security(security),
            ports(Some(9002)),
            Path::new("/d"),
            None,
        );
        assert!(text.contains(
            "listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256\n"
        ));
        assert!(text.contains("listener.name.client.scram-sha-512.sasl.jaas.config="));
    }

    #[test]
    fn ssl_broker_points_the_client_listener_at_the_pem_keystore() {
        let text = server_properties(
            &BrokerOptions::security(Security::Ssl),
            ports(Some(9002)),
            Path::new("/d"),
            Some(TlsPaths {
                keystore: Path::new("/d/server.pem"),
            }),
        );
        assert!(text.contains("CLIENT:SSL"));
        assert!(text.contains("listener.name.client.ssl.keystore.type=PEM\n"));
        assert!(text.contains("listener.name.client.ssl.keystore.location=/d/server.pem\n"));
    }

    #[test]
    fn acls_make_the_test_bed_and_admin_super_users() {
        let text = server_properties(
            &BrokerOptions::default().with_acls(),
            ports(None),
            Path::new("/d"),
            None,
        );
        assert!(text.contains(
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer\n"
        ));
        assert!(text.contains("super.users=User:ANONYMOUS;User:admin\n"));
    }

    #[test]
    fn extra_properties_replace_the_lean_defaults() {
        let options = BrokerOptions::default().with_property("log.cleaner.backoff.ms", "50");
        let text = server_properties(&options, ports(None), Path::new("/d"), None);
        assert_eq!(text.matches("log.cleaner.backoff.ms=").count(), 1);
        assert!(text.contains("log.cleaner.backoff.ms=50\n"));
    }
}
