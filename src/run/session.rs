//! Both clusters connected and read, and the checks that the state and the pins belong to them.

use std::time::Duration;

use crate::ckafka::CkafkaCluster;
use crate::cli::ConnectArgs;
use crate::cluster::{ClusterAccess, RdKafkaCluster};
use crate::config::{ClusterSettings, Desired};
use crate::error::Error;
use crate::snapshot::{ClusterSnapshot, Snapshot};
use crate::state::{State, StateIdentity, StateStore};

/// Both clusters connected and read, pins checked.
pub(super) struct Session {
    pub(super) source: RdKafkaCluster,
    pub(super) target: Target,
    pub(super) snapshot: Snapshot,
}

/// The target: a Kafka cluster, or CKafka with its topic metadata through the cloud API.
pub(super) enum Target {
    Kafka(RdKafkaCluster),
    Ckafka(Box<CkafkaCluster>),
}

impl Target {
    pub(super) fn connect(desired: &Desired, timeout: Duration) -> Result<Target, Error> {
        Ok(match &desired.target.ckafka {
            Some(ckafka) => Target::Ckafka(Box::new(CkafkaCluster::connect(
                "target",
                &desired.target,
                ckafka,
                timeout,
            )?)),
            None => Target::Kafka(RdKafkaCluster::connect("target", &desired.target, timeout)?),
        })
    }

    pub(super) fn access(&self) -> &dyn ClusterAccess {
        match self {
            Target::Kafka(k) => k,
            Target::Ckafka(c) => c.as_ref(),
        }
    }

    pub(super) fn kafka(&self) -> &RdKafkaCluster {
        match self {
            Target::Kafka(k) => k,
            Target::Ckafka(c) => c.inner(),
        }
    }
}

pub(super) fn connect(desired: &Desired, args: &ConnectArgs) -> Result<Session, Error> {
    let source = RdKafkaCluster::connect("source", &desired.source, args.timeout)?;
    let target = Target::connect(desired, args.timeout)?;
    let mut snapshot = Snapshot::take(desired, &source, target.access())?;
    snapshot.probe_transactions(desired, target.access());
    let limits = crate::diff::retention_limits(desired, &snapshot, desired.target_platform());
    snapshot.probe_retention(&source, &limits.by_time)?;
    snapshot.measure_source_bytes(&source, &limits.by_size);
    // Counting waits for fresh librdkafka statistics, so only when someone reads it.
    if tracing::enabled!(tracing::Level::DEBUG) {
        tracing::debug!(requests = ?source.request_counts(), "source cluster requests");
        tracing::debug!(requests = ?target.kafka().request_counts(), "target cluster requests");
    }
    check_pin("source", &desired.source, &snapshot.source)?;
    check_pin("target", &desired.target, &snapshot.target)?;
    Ok(Session {
        source,
        target,
        snapshot,
    })
}

pub(super) fn new_state(desired: &Desired, session: &Session) -> State {
    State::new(
        &desired.migration.name,
        desired.migration.scheme,
        session.snapshot.source.cluster_id.clone(),
        session.snapshot.target.cluster_id.clone(),
    )
}

/// A pinned cluster id must match: running against the wrong cluster is the costliest mistake.
pub(super) fn check_pin(
    role: &str,
    settings: &ClusterSettings,
    snap: &ClusterSnapshot,
) -> Result<(), Error> {
    match (&settings.cluster_id, &snap.cluster_id) {
        (Some(pinned), Some(actual)) if pinned != actual => Err(Error::ClusterIdMismatch {
            role: role.into(),
            pinned: pinned.clone(),
            actual: actual.clone(),
        }),
        _ => Ok(()),
    }
}

/// The state file, refused before any cluster is contacted when it records another migration,
/// another scheme, or a cluster id other than a pinned one (issue 14 §6).
pub(super) fn own_state(desired: &Desired, store: &StateStore) -> Result<Option<State>, Error> {
    let Some(state) = store.load()? else {
        return Ok(None);
    };
    StateIdentity {
        migration: &desired.migration.name,
        scheme: desired.migration.scheme,
        source_pin: desired.source.cluster_id.as_deref(),
        target_pin: desired.target.cluster_id.as_deref(),
    }
    .check(&state, store.path())?;
    Ok(Some(state))
}

/// The state records the clusters connected to (the offline identity check came first, in
/// [`own_state`]; without pins the cluster ids are known only now).
pub(super) fn check_state(
    store: &StateStore,
    state: &State,
    snapshot: &Snapshot,
) -> Result<(), Error> {
    store.check_clusters(
        state,
        snapshot.source.cluster_id.as_deref(),
        snapshot.target.cluster_id.as_deref(),
    )?;
    Ok(())
}
