//! Failures of cluster access, each with what the user should do next.

use thiserror::Error;

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
}
