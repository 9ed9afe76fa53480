//! One blocking connection to one broker: framing, request headers, the ApiVersions check and
//! SASL authentication. Requests go one at a time; every read and write is bounded by the
//! caller's deadline.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Instant;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiVersionsRequest, RequestHeader, ResponseHeader, SaslAuthenticateRequest,
    SaslHandshakeRequest,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};

use openssl::pkey::PKey;
use openssl::ssl::{SslConnector, SslMethod, SslStream, SslVerifyMode};
use openssl::x509::X509;
use openssl::x509::store::X509StoreBuilder;

use super::scram::{ScramClient, ScramHash};
use super::wire_settings::WireSettings;
use crate::config::{Sasl, SaslMechanism, Tls};

/// A response larger than this is refused rather than allocated: a broker answering ferry's
/// small requests never sends one, a non-Kafka peer might.
const MAX_RESPONSE: usize = 256 * 1024 * 1024;

/// SaslHandshake v1 announces SaslAuthenticate framing (Kafka 1.0+), SaslAuthenticate v1 is what
/// every broker since Kafka 2.0 takes; ApiVersions v3 is Kafka 2.4+.
const SASL_HANDSHAKE_VERSION: i16 = 1;
const SASL_AUTHENTICATE_VERSION: i16 = 1;
const API_VERSIONS_VERSION: i16 = 3;

pub(super) struct Connection {
    /// host:port as it was dialled.
    pub(super) address: String,
    stream: Stream,
    client_id: StrBytes,
    correlation: i32,
    deadline: Instant,
    /// Highest version of each API key the broker takes.
    versions: BTreeMap<i16, i16>,
    /// Requests sent on this connection, by kind, as librdkafka's statistics name them.
    pub(super) sent: BTreeMap<String, u64>,
}

impl Connection {
    /// Connects to `address` (host:port), asks the broker's API versions and authenticates.
    pub(super) fn open(
        settings: &WireSettings,
        address: &str,
        deadline: Instant,
    ) -> Result<Connection, String> {
        let left = left_until(deadline)?;
        let target = address
            .to_socket_addrs()
            .map_err(|e| format!("{address}: {e}"))?
            .next()
            .ok_or_else(|| format!("{address} does not resolve"))?;
        let tcp =
            TcpStream::connect_timeout(&target, left).map_err(|e| format!("{address}: {e}"))?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        let stream = match &settings.tls {
            None => Stream::Plain(tcp),
            Some(tls) => {
                tcp.set_read_timeout(Some(left))
                    .map_err(|e| e.to_string())?;
                tcp.set_write_timeout(Some(left))
                    .map_err(|e| e.to_string())?;
                let host = address.rsplit_once(':').map_or(address, |(host, _)| host);
                let host = host.trim_start_matches('[').trim_end_matches(']');
                Stream::Tls(Box::new(tls_connect(tls, host, tcp)?))
            }
        };
        let mut connection = Connection {
            address: address.to_string(),
            stream,
            client_id: StrBytes::from_string(settings.client_id.clone()),
            correlation: 0,
            deadline,
            versions: BTreeMap::new(),
            sent: BTreeMap::new(),
        };
        let versions = connection.send(
            &ApiVersionsRequest::default()
                .with_client_software_name(StrBytes::from_static_str("ferry"))
                .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION"))),
            API_VERSIONS_VERSION,
        )?;
        if versions.error_code != 0 {
            return Err(format!(
                "{address} answered ApiVersions with error {}",
                versions.error_code
            ));
        }
        connection.versions = versions
            .api_keys
            .iter()
            .map(|key| (key.api_key, key.max_version))
            .collect();
        if let Some(sasl) = &settings.sasl {
            connection.authenticate(sasl)?;
        }
        Ok(connection)
    }

    /// Whether the broker takes `R` at `version` or later.
    pub(super) fn takes<R: Request>(&self, version: i16) -> bool {
        self.versions
            .get(&R::KEY)
            .is_some_and(|max| *max >= version)
    }

    /// Sends one request and reads its response.
    pub(super) fn send<R: Request>(
        &mut self,
        request: &R,
        version: i16,
    ) -> Result<R::Response, String> {
        self.correlation += 1;
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(self.correlation)
            .with_client_id(Some(self.client_id.clone()));
        let mut frame = BytesMut::new();
        frame.put_i32(0);
        header
            .encode(&mut frame, R::header_version(version))
            .and_then(|()| request.encode(&mut frame, version))
            .map_err(|e| format!("encoding {}: {e}", api_name::<R>()))?;
        let length = i32::try_from(frame.len() - 4).map_err(|e| e.to_string())?;
        frame[..4].copy_from_slice(&length.to_be_bytes());
        self.stream
            .tcp()
            .set_write_timeout(Some(left_until(self.deadline)?))
            .map_err(|e| e.to_string())?;
        self.stream
            .write_all(&frame)
            .map_err(|e| format!("sending {}: {e}", api_name::<R>()))?;
        *self.sent.entry(api_name::<R>().to_string()).or_default() += 1;

        let mut body = self.read_frame()?;
        let header = ResponseHeader::decode(&mut body, R::Response::header_version(version))
            .map_err(|e| format!("decoding the {} response header: {e}", api_name::<R>()))?;
        if header.correlation_id != self.correlation {
            return Err(format!(
                "{} response out of order (correlation {} for {})",
                api_name::<R>(),
                header.correlation_id,
                self.correlation
            ));
        }
        R::Response::decode(&mut body, version)
            .map_err(|e| format!("decoding the {} response: {e}", api_name::<R>()))
    }

    fn read_frame(&mut self) -> Result<Bytes, String> {
        self.stream
            .tcp()
            .set_read_timeout(Some(left_until(self.deadline)?))
            .map_err(|e| e.to_string())?;
        let mut length = [0u8; 4];
        self.stream
            .read_exact(&mut length)
            .map_err(|e| format!("reading a response: {e}"))?;
        let length = usize::try_from(i32::from_be_bytes(length))
            .ok()
            .filter(|n| *n <= MAX_RESPONSE)
            .ok_or("a response of impossible length")?;
        let mut body = vec![0u8; length];
        self.stream
            .read_exact(&mut body)
            .map_err(|e| format!("reading a response: {e}"))?;
        Ok(Bytes::from(body))
    }

    fn authenticate(&mut self, sasl: &Sasl) -> Result<(), String> {
        let mechanism = sasl.mechanism.as_str();
        let handshake = self.send(
            &SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str(mechanism)),
            SASL_HANDSHAKE_VERSION,
        )?;
        if handshake.error_code != 0 {
            return Err(format!(
                "the broker does not take SASL {mechanism} (error {})",
                handshake.error_code
            ));
        }
        let (username, password) = (sasl.username.as_str(), sasl.password.expose());
        let hash = match sasl.mechanism {
            SaslMechanism::Plain => {
                let token = format!("\0{username}\0{password}");
                self.sasl_round(token.into_bytes())?;
                return Ok(());
            }
            SaslMechanism::ScramSha256 => ScramHash::Sha256,
            SaslMechanism::ScramSha512 => ScramHash::Sha512,
        };
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let mut scram = ScramClient::new(hash, username, password, &nonce);
        let server_first = self.sasl_round(scram.first_message().into_bytes())?;
        let client_final = scram.final_message(&String::from_utf8_lossy(&server_first))?;
        let server_final = self.sasl_round(client_final.into_bytes())?;
        scram.verify_server(&String::from_utf8_lossy(&server_final))
    }

    /// One SaslAuthenticate round trip: our token out, the server's back.
    fn sasl_round(&mut self, token: Vec<u8>) -> Result<Bytes, String> {
        let response = self.send(
            &SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from(token)),
            SASL_AUTHENTICATE_VERSION,
        )?;
        if response.error_code != 0 {
            // The broker's message says which user and why, never the password.
            let message = response
                .error_message
                .map(|m| m.to_string())
                .unwrap_or_default();
            return Err(format!(
                "authentication failed (error {}): {message}",
                response.error_code
            ));
        }
        Ok(response.auth_bytes)
    }
}

/// A broker connection, in the clear or over TLS.
enum Stream {
    Plain(TcpStream),
    Tls(Box<SslStream<TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(tls) => tls.get_ref(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.read(buf),
            Stream::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.write(buf),
            Stream::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(tcp) => tcp.flush(),
            Stream::Tls(tls) => tls.flush(),
        }
    }
}

/// TLS as librdkafka sets it up from the same settings, with the same OpenSSL: the CA file or
/// OpenSSL's default trust store, the client certificate and key, the broker's host name
/// verified unless verification is turned off.
fn tls_connect(tls: &Tls, host: &str, tcp: TcpStream) -> Result<SslStream<TcpStream>, String> {
    let failed = |what: &str, e: &dyn std::fmt::Display| format!("TLS {what}: {e}");
    let mut builder =
        SslConnector::builder(SslMethod::tls_client()).map_err(|e| failed("setup", &e))?;
    // Only the CA file when there is one, as librdkafka's `ssl.ca.location` does; OpenSSL's
    // default trust store (which the builder loads) otherwise.
    if let Some(ca) = &tls.ca_file {
        let pem = std::fs::read(ca).map_err(|e| failed("CA file", &e))?;
        let mut store = X509StoreBuilder::new().map_err(|e| failed("setup", &e))?;
        for cert in X509::stack_from_pem(&pem).map_err(|e| failed("CA file", &e))? {
            store.add_cert(cert).map_err(|e| failed("CA file", &e))?;
        }
        builder.set_cert_store(store.build());
    }
    if let Some(cert) = &tls.cert_file {
        builder
            .set_certificate_chain_file(cert)
            .map_err(|e| failed("certificate file", &e))?;
    }
    if let Some(key) = &tls.key_file {
        let pem = std::fs::read(key).map_err(|e| failed("key file", &e))?;
        let key = match &tls.key_password {
            Some(password) => {
                PKey::private_key_from_pem_passphrase(&pem, password.expose().as_bytes())
            }
            None => PKey::private_key_from_pem(&pem),
        }
        .map_err(|e| failed("key file", &e))?;
        builder
            .set_private_key(&key)
            .map_err(|e| failed("key file", &e))?;
    }
    if tls.insecure_skip_verify {
        builder.set_verify(SslVerifyMode::NONE);
    }
    let mut config = builder
        .build()
        .configure()
        .map_err(|e| failed("setup", &e))?;
    if tls.insecure_skip_verify {
        config.set_verify_hostname(false);
    }
    config
        .connect(host, tcp)
        .map_err(|e| failed("handshake", &e))
}

fn left_until(deadline: Instant) -> Result<std::time::Duration, String> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err("the deadline passed".to_string())
    } else {
        Ok(left)
    }
}

/// The API's name as librdkafka's statistics spell it, so counts from both add up.
fn api_name<R: Request>() -> &'static str {
    kafka_protocol::messages::ApiKey::try_from(R::KEY)
        .map(api_key_name)
        .unwrap_or("Unknown")
}

fn api_key_name(key: kafka_protocol::messages::ApiKey) -> &'static str {
    use kafka_protocol::messages::ApiKey;
    match key {
        ApiKey::ApiVersions => "ApiVersion",
        ApiKey::SaslHandshake => "SaslHandshake",
        ApiKey::SaslAuthenticate => "SaslAuthenticate",
        ApiKey::FindCoordinator => "FindCoordinator",
        ApiKey::OffsetFetch => "OffsetFetch",
        _ => "Other",
    }
}

/// Adds request counts by kind.
pub(super) fn add_counts(total: &mut BTreeMap<String, u64>, more: &BTreeMap<String, u64>) {
    for (kind, n) in more {
        *total.entry(kind.clone()).or_default() += n;
    }
}
