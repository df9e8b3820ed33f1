//! A running ArqonBus node: its Raft instance on the sled stores, one QUIC
//! endpoint for peers and clients, the bounds it holds every client to
//! (`limits`, `admission`, `intake`, `decode_pool`), the security events
//! it summarises (`security`), and an orderly shutdown.

mod admission;
mod assignment;
pub mod batcher;
mod caller;
pub mod config;
mod deadline;
mod decode_pool;
mod dispatch;
mod expiry;
pub mod gates;
mod intake;
mod leadership;
pub mod limits;
mod membership;
mod operate;
mod peers;
mod propose;
mod reply;
mod roles;
pub mod rollout;
mod security;
mod serve;
mod submit;
mod subscribe;
pub mod telemetry;
mod workflow;

use crate::raft::cluster_id::ClusterMembership;
use crate::raft::network::PeerNetwork;
use crate::raft::storage::{self, Storage};
use crate::raft::{NodeId, StateStore, TypeConfig};
use admission::Admission;
use arqonbus_transport::{self, TlsCredentials, TransportTuning, ALPN_PEER};
use batcher::Batcher;
use config::NodeConfig;
use decode_pool::DecodePool;
use openraft::Raft;
use security::SecurityTable;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::RwLock;

/// Every few seconds, drops the rate-limit and replay state of senders
/// not seen recently, so neither grows with identities that came and went.
async fn forget_idle_senders(node: Node) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        node.gates.forget_idle();
    }
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("opening the data directory {path}: {reason}")]
    Data { path: String, reason: String },
    #[error("certificates: {0}")]
    Tls(#[from] arqonbus_transport::TlsError),
    #[error("binding {addr}: {reason}")]
    Bind { addr: String, reason: String },
    #[error("starting raft: {0}")]
    Raft(String),
}

/// Everything request handlers need; cheap to clone.
#[derive(Clone)]
pub struct Node {
    pub id: NodeId,
    pub config: Arc<NodeConfig>,
    pub raft: Raft<TypeConfig>,
    pub sm: StateStore,
    pub endpoint: quinn::Endpoint,
    /// Which cluster this node belongs to (checked in every peer handshake).
    pub cluster: ClusterMembership,
    batcher: Batcher,
    /// Telemetry windows (filled while this node leads).
    pub telemetry: Arc<telemetry::TelemetryWindows>,
    /// What the leader saw of each rollout (empty on a follower).
    pub rollouts: Arc<rollout::Rollouts>,
    /// What each client holds of this node, within `config.limits`.
    admission: Arc<Admission>,
    /// Where large and compressed frames are decoded.
    decoder: DecodePool,
    /// Refused attempts since the last report to the leader.
    security: Arc<SecurityTable>,
    /// Authentication, rate limits, staleness, replay and signatures.
    gates: Arc<gates::Gates>,
    /// Dials other nodes (Raft's own, and security reports to the leader).
    peers: PeerNetwork,
    /// Each request holds a read guard; shutdown takes the write guard.
    inflight: Arc<RwLock<()>>,
    db: sled::Db,
}

impl Node {
    /// Opens the stores, binds the endpoint and starts Raft and serving.
    pub async fn start(config: NodeConfig) -> Result<Node, StartError> {
        config.check()?;
        let data_err = |e: &dyn std::fmt::Display| StartError::Data {
            path: config.data.display().to_string(),
            reason: e.to_string(),
        };
        let Storage { log, state: sm, db } =
            storage::open(&config.data, config.audit).map_err(|e| data_err(&e))?;
        let cluster = ClusterMembership::open(&config.data).map_err(|e| data_err(&e))?;

        let creds =
            TlsCredentials::from_dir(&config.certs, &arqonbus_transport::node_name(config.id))?;
        let tuning = TransportTuning::default();
        let server = arqonbus_transport::server_config(&creds, &tuning)?;
        let endpoint =
            quinn::Endpoint::server(server, config.listen).map_err(|e| StartError::Bind {
                addr: config.listen.to_string(),
                reason: e.to_string(),
            })?;
        let peer_config = arqonbus_transport::client_config(&creds, ALPN_PEER, &tuning)?;
        let network = PeerNetwork::new(
            endpoint.clone(),
            peer_config,
            Duration::from_millis(config.client.connect_ms),
            config.id,
            cluster.clone(),
        );
        let raft = Raft::new(
            config.id,
            Arc::new(config.openraft()?),
            network.clone(),
            log,
            sm.clone(),
        )
        .await
        .map_err(|e| StartError::Raft(e.to_string()))?;
        let node = Node {
            id: config.id,
            batcher: Batcher::start(raft.clone(), config.id),
            telemetry: Arc::default(),
            rollouts: Arc::default(),
            admission: Admission::new(config.limits.clone()),
            decoder: DecodePool::new(config.limits.decoders()),
            security: Arc::default(),
            gates: Arc::new(gates::Gates::new(config.security.clone())),
            peers: network,
            config: Arc::new(config),
            raft,
            sm,
            endpoint,
            cluster,
            inflight: Arc::default(),
            db,
        };
        tokio::spawn(serve::accept_loop(node.clone()));
        tokio::spawn(roles::watch(node.clone()));
        tokio::spawn(security::report(node.clone()));
        tokio::spawn(expiry::run(node.clone()));
        tokio::spawn(rollout::run(node.clone()));
        tokio::spawn(forget_idle_senders(node.clone()));
        tracing::info!(target: "arqonbus::node", node = node.id, listen = %node.config.listen, "node started");
        Ok(node)
    }

    /// Stops accepting, lets in-flight requests finish (up to `grace`),
    /// stops Raft and flushes the database.
    pub async fn shutdown(self, grace: Duration) {
        tracing::info!(target: "arqonbus::node", node = self.id, "shutting down");
        self.endpoint.set_server_config(None);
        if tokio::time::timeout(grace, self.inflight.write())
            .await
            .is_err()
        {
            tracing::warn!(target: "arqonbus::node", node = self.id, "in-flight requests still running at shutdown");
        }
        self.endpoint.close(0u32.into(), b"node shutting down");
        if let Err(e) = self.raft.shutdown().await {
            tracing::warn!(target: "arqonbus::node", node = self.id, error = %e, "raft shutdown");
        }
        if let Err(e) = self.db.flush_async().await {
            tracing::error!(target: "arqonbus::node", node = self.id, error = %e, "final flush failed");
        }
        tokio::time::timeout(Duration::from_millis(200), self.endpoint.wait_idle())
            .await
            .ok();
    }
}
