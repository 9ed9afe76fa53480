//! The client side of SCRAM (RFC 5802, RFC 7677), as Kafka's SASL/SCRAM speaks it.
//!
//! Hand-written on top of the `pbkdf2`, `hmac`, `sha2` and `base64` crates: the SCRAM client
//! crates on crates.io are unmaintained, and the exchange itself is three messages. The tests pin
//! RFC 7677's SHA-256 example.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};

/// The hash a SCRAM mechanism is named after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ScramHash {
    Sha256,
    Sha512,
}

/// One SCRAM exchange, from the client's first message to the check of the server's signature.
pub(super) struct ScramClient {
    hash: ScramHash,
    password: String,
    nonce: String,
    first_bare: String,
    server_signature: Option<Vec<u8>>,
}

impl ScramClient {
    /// `nonce` must be fresh and printable without commas (a random UUID's hex).
    pub(super) fn new(hash: ScramHash, username: &str, password: &str, nonce: &str) -> Self {
        let name = username.replace('=', "=3D").replace(',', "=2C");
        ScramClient {
            hash,
            password: password.to_string(),
            nonce: nonce.to_string(),
            first_bare: format!("n={name},r={nonce}"),
            server_signature: None,
        }
    }

    /// The client-first message: no channel binding, no authorisation identity.
    pub(super) fn first_message(&self) -> String {
        format!("n,,{}", self.first_bare)
    }

    /// The client-final message that answers the server-first message.
    pub(super) fn final_message(&mut self, server_first: &str) -> Result<String, String> {
        let field = |name: char| {
            server_first
                .split(',')
                .find_map(|part| part.strip_prefix(name)?.strip_prefix('='))
                .ok_or_else(|| format!("the server's SCRAM message has no {name}= field"))
        };
        let nonce = field('r')?;
        if !nonce.starts_with(&self.nonce) {
            return Err("the server's SCRAM nonce does not extend ours".to_string());
        }
        let salt = STANDARD
            .decode(field('s')?)
            .map_err(|_| "the server's SCRAM salt is not base64".to_string())?;
        let iterations: u32 = field('i')?
            .parse()
            .map_err(|_| "the server's SCRAM iteration count is not a number".to_string())?;

        let salted = self.salted_password(&salt, iterations);
        let client_key = self.hmac(&salted, b"Client Key");
        let stored_key = self.digest(&client_key);
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{server_first},{without_proof}", self.first_bare);
        let client_signature = self.hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&client_signature)
            .map(|(k, s)| k ^ s)
            .collect();
        let server_key = self.hmac(&salted, b"Server Key");
        self.server_signature = Some(self.hmac(&server_key, auth_message.as_bytes()));
        Ok(format!("{without_proof},p={}", STANDARD.encode(proof)))
    }

    /// Checks the server-final message: the server proves it knew the password too.
    pub(super) fn verify_server(&self, server_final: &str) -> Result<(), String> {
        if let Some(error) = server_final.strip_prefix("e=") {
            return Err(format!("the server refused the SCRAM exchange: {error}"));
        }
        let signature = server_final
            .split(',')
            .find_map(|part| part.strip_prefix("v="))
            .and_then(|v| STANDARD.decode(v).ok());
        match (&self.server_signature, signature) {
            (Some(expected), Some(got)) if *expected == got => Ok(()),
            _ => Err("the server's SCRAM signature does not match".to_string()),
        }
    }

    fn salted_password(&self, salt: &[u8], iterations: u32) -> Vec<u8> {
        let password = self.password.as_bytes();
        match self.hash {
            ScramHash::Sha256 => {
                pbkdf2::pbkdf2_hmac_array::<Sha256, 32>(password, salt, iterations).to_vec()
            }
            ScramHash::Sha512 => {
                pbkdf2::pbkdf2_hmac_array::<Sha512, 64>(password, salt, iterations).to_vec()
            }
        }
    }

    fn hmac(&self, key: &[u8], data: &[u8]) -> Vec<u8> {
        match self.hash {
            ScramHash::Sha256 => {
                let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
                mac.update(data);
                mac.finalize().into_bytes().to_vec()
            }
            ScramHash::Sha512 => {
                let mut mac = Hmac::<Sha512>::new_from_slice(key).expect("HMAC takes any key");
                mac.update(data);
                mac.finalize().into_bytes().to_vec()
            }
        }
    }

    fn digest(&self, data: &[u8]) -> Vec<u8> {
        match self.hash {
            ScramHash::Sha256 => Sha256::digest(data).to_vec(),
            ScramHash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER_FIRST: &str = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                                s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";

    fn rfc7677() -> ScramClient {
        ScramClient::new(ScramHash::Sha256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO")
    }

    /// RFC 7677 section 3, the SCRAM-SHA-256 example, message by message.
    #[test]
    fn the_rfc_7677_exchange() {
        let mut client = rfc7677();
        assert_eq!(client.first_message(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        assert_eq!(
            client.final_message(SERVER_FIRST).unwrap(),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
             p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        client
            .verify_server("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .unwrap();
    }

    #[test]
    fn a_server_that_does_not_know_the_password_is_refused() {
        let mut client = rfc7677();
        client.final_message(SERVER_FIRST).unwrap();
        let error = client
            .verify_server("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .unwrap_err();
        assert!(error.contains("does not match"), "{error}");
        let error = client.verify_server("e=invalid-proof").unwrap_err();
        assert!(error.contains("invalid-proof"), "{error}");
    }

    #[test]
    fn a_server_nonce_that_is_not_ours_is_refused() {
        let mut client = rfc7677();
        let error = client
            .final_message("r=someoneelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
            .unwrap_err();
        assert!(error.contains("nonce"), "{error}");
    }

    #[test]
    fn names_with_commas_and_equals_are_escaped() {
        let client = ScramClient::new(ScramHash::Sha512, "a=b,c", "p", "n0");
        assert_eq!(client.first_message(), "n,,n=a=3Db=2Cc,r=n0");
    }
}
