//! TLS material for SSL test brokers: a CA generated per broker and a server certificate for
//! `127.0.0.1` and `localhost` signed by it, as PEM files (Kafka reads PEM key stores).

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

/// The CA certificate clients trust (`ssl.ca.location`).
pub const CA_FILE: &str = "ca.pem";
/// The server's PKCS#8 private key followed by its certificate chain.
pub const KEYSTORE_FILE: &str = "server.pem";

/// Writes [`CA_FILE`] and [`KEYSTORE_FILE`] into `dir`.
pub fn write_server_files(dir: &Path) -> Result<()> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "ferry-testbed CA");
    let ca_key = KeyPair::generate()?;
    let ca = ca_params.self_signed(&ca_key)?;

    let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?;
    params
        .distinguished_name
        .push(DnType::CommonName, "ferry-testbed broker");
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &ca, &ca_key)?;

    fs::write(dir.join(CA_FILE), ca.pem()).context("cannot write the CA certificate")?;
    fs::write(
        dir.join(KEYSTORE_FILE),
        format!("{}{}{}", key.serialize_pem(), cert.pem(), ca.pem()),
    )
    .context("cannot write the broker's PEM key store")
}
