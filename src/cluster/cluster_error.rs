//! Failures of cluster access, each with what the user should do next.

use thiserror::Error;

/// A CKafka API refusal: its code, message and request id, and what to do next.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "the CKafka API refused {action} for instance {instance} of the {role} cluster: {code}: {message} (RequestId {request_id}). {hint}"
)]
pub struct CloudApiRefusal {
    pub role: String,
    pub instance: String,
    pub action: String,
    pub code: String,
    pub message: String,
    pub request_id: String,
    pub hint: String,
}

#[derive(Debug, Error)]
pub enum ClusterError {
    #[error(
        "cannot reach the {role} cluster at {servers}: {detail}. Check that the brokers are running and that bootstrap_servers in cluster \"{role}\" is right."
    )]
    Unreachable {
        role: String,
        servers: String,
        detail: String,
    },

    #[error(
        "the {role} cluster refused ferry's credentials: {detail}. Check the sasl block of cluster \"{role}\" (mechanism, username, password) and the ACLs of that user."
    )]
    Unauthorized { role: String, detail: String },

    #[error(
        "the {role} cluster does not support {operation}: {detail}. ferry needs it for this step; upgrade the broker or leave out what needs it."
    )]
    Unsupported {
        role: String,
        operation: String,
        detail: String,
    },

    #[error(
        "the {role} cluster did not answer {operation} within {seconds}s. It may be overloaded or the network slow; retry, or allow more time with --timeout (default 10s)."
    )]
    Timeout {
        role: String,
        operation: String,
        seconds: u64,
    },

    /// A commit outside any group generation was refused because the group has members.
    #[error(
        "group {group} has active members on the {role} cluster; stop them before ferry commits offsets (the broker answered: {detail})"
    )]
    GroupActive {
        role: String,
        group: String,
        detail: String,
    },

    #[error("{operation} on the {role} cluster failed: {detail}")]
    Kafka {
        role: String,
        operation: String,
        detail: String,
    },

    /// The CKafka API refused a request (boxed: errors travel in every `Result`).
    #[error("{0}")]
    CloudApi(Box<CloudApiRefusal>),

    /// The CKafka API could not be reached or answered something unreadable.
    #[error("{detail}. {hint}")]
    CloudApiFailed { detail: String, hint: String },

    #[error(
        "the ckafka block of cluster \"{role}\" needs CKafka API credentials: set {id_env} and {key_env} in the environment, or secret_id and secret_key in the ckafka block from variables (never written into the file). ferry never prints or stores them."
    )]
    CloudCredentials {
        role: String,
        id_env: String,
        key_env: String,
    },
}
