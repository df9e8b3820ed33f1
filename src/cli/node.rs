//! `arqonbus node`: run one node until SIGTERM or SIGINT.

use arqonbus::audit::store::Retention;
use arqonbus::node::config::{ClientDeadlines, NodeConfig, RaftTimings};
use arqonbus::node::limits::Limits;
use arqonbus::node::Node;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How long shutdown waits for in-flight requests.
const GRACE: Duration = Duration::from_millis(700);

#[derive(Debug, Args)]
pub struct NodeArgs {
    /// A TOML config file; flags and ARQONBUS_* variables override it.
    #[arg(long, env = "ARQONBUS_CONFIG")]
    pub config: Option<PathBuf>,
    #[arg(long, env = "ARQONBUS_ID")]
    pub id: Option<u64>,
    /// UDP address to bind.
    #[arg(long, env = "ARQONBUS_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// `host:port` other nodes and clients reach this node at.
    #[arg(long, env = "ARQONBUS_ADVERTISE")]
    pub advertise: Option<String>,
    /// Data directory.
    #[arg(long, env = "ARQONBUS_DATA")]
    pub data: Option<PathBuf>,
    #[arg(long, env = "ARQONBUS_HEARTBEAT_MS")]
    pub heartbeat_ms: Option<u64>,
    #[arg(long, env = "ARQONBUS_ELECTION_MIN_MS")]
    pub election_min_ms: Option<u64>,
    #[arg(long, env = "ARQONBUS_ELECTION_MAX_MS")]
    pub election_max_ms: Option<u64>,
    /// Snapshot after this many log entries.
    #[arg(long, env = "ARQONBUS_SNAPSHOT_EVERY")]
    pub snapshot_every: Option<u64>,
    /// Bytes per snapshot chunk sent to a lagging follower.
    #[arg(long, env = "ARQONBUS_SNAPSHOT_CHUNK_BYTES")]
    pub snapshot_chunk_bytes: Option<u64>,
    #[arg(long, env = "ARQONBUS_REQUEST_DEADLINE_MS")]
    pub request_deadline_ms: Option<u64>,
    /// Audit entries kept in the database before chunks move to the archive.
    #[arg(long, env = "ARQONBUS_AUDIT_KEEP")]
    pub audit_keep: Option<u64>,
    /// Audit entries moved to the archive at a time.
    #[arg(long, env = "ARQONBUS_AUDIT_CHUNK")]
    pub audit_chunk: Option<u64>,
    /// Connections one identity may hold open on this node at once.
    #[arg(long, env = "ARQONBUS_MAX_CONNECTIONS_PER_IDENTITY")]
    pub max_connections_per_identity: Option<usize>,
    /// Push streams one connection may hold open at once.
    #[arg(long, env = "ARQONBUS_MAX_SUBSCRIPTIONS_PER_CONNECTION")]
    pub max_subscriptions_per_connection: Option<usize>,
    /// Push streams one identity may hold open on this node at once.
    #[arg(long, env = "ARQONBUS_MAX_SUBSCRIPTIONS_PER_IDENTITY")]
    pub max_subscriptions_per_identity: Option<usize>,
    /// How far a request's `sent_at` may be from this node's clock.
    #[arg(long, env = "ARQONBUS_MAX_SKEW_MS")]
    pub max_skew_ms: Option<u64>,
    /// State changes one identity may send per second.
    #[arg(long, env = "ARQONBUS_CHANGES_PER_SECOND")]
    pub changes_per_second: Option<u32>,
    /// Telemetry samples one identity may send per second.
    #[arg(long, env = "ARQONBUS_SAMPLES_PER_SECOND")]
    pub samples_per_second: Option<u32>,
    /// Reads one identity may send per second.
    #[arg(long, env = "ARQONBUS_READS_PER_SECOND")]
    pub reads_per_second: Option<u32>,
    /// Whether state changes must be signed (default true).
    #[arg(long, env = "ARQONBUS_SIGNING_REQUIRED")]
    pub signing_required: Option<bool>,
}

impl NodeArgs {
    /// The file (if any), then each flag or variable given on top; the
    /// certificate directory is the global `--certs` (ARQONBUS_CERTS).
    pub fn resolve(self, certs: Option<PathBuf>) -> anyhow::Result<NodeConfig> {
        let mut c = match &self.config {
            Some(path) => NodeConfig::from_toml(path)?,
            None => NodeConfig {
                id: self
                    .id
                    .ok_or_else(|| anyhow::anyhow!("missing --id (or ARQONBUS_ID, or --config)"))?,
                listen: self
                    .listen
                    .ok_or_else(|| anyhow::anyhow!("missing --listen (or ARQONBUS_LISTEN)"))?,
                advertise: String::new(),
                data: self
                    .data
                    .clone()
                    .ok_or_else(|| anyhow::anyhow!("missing --data (or ARQONBUS_DATA)"))?,
                certs: certs
                    .clone()
                    .ok_or_else(|| anyhow::anyhow!("missing --certs (or ARQONBUS_CERTS)"))?,
                raft: RaftTimings::default(),
                client: ClientDeadlines::default(),
                audit: Retention::default(),
                limits: Limits::default(),
                security: Default::default(),
            },
        };
        if let Some(v) = self.id {
            c.id = v;
        }
        if let Some(v) = self.listen {
            c.listen = v;
        }
        if let Some(v) = self.data {
            c.data = v;
        }
        if let Some(v) = certs {
            c.certs = v;
        }
        if let Some(v) = self.advertise {
            c.advertise = v;
        }
        if c.advertise.is_empty() {
            c.advertise = c.listen.to_string();
        }
        let r = &mut c.raft;
        r.heartbeat_ms = self.heartbeat_ms.unwrap_or(r.heartbeat_ms);
        r.election_min_ms = self.election_min_ms.unwrap_or(r.election_min_ms);
        r.election_max_ms = self.election_max_ms.unwrap_or(r.election_max_ms);
        r.snapshot_every = self.snapshot_every.unwrap_or(r.snapshot_every);
        r.snapshot_chunk_bytes = self.snapshot_chunk_bytes.unwrap_or(r.snapshot_chunk_bytes);
        c.client.request_ms = self.request_deadline_ms.unwrap_or(c.client.request_ms);
        c.audit.keep = self.audit_keep.unwrap_or(c.audit.keep);
        c.audit.chunk = self.audit_chunk.unwrap_or(c.audit.chunk);
        let l = &mut c.limits;
        l.max_connections_per_identity = self
            .max_connections_per_identity
            .unwrap_or(l.max_connections_per_identity);
        l.max_subscriptions_per_connection = self
            .max_subscriptions_per_connection
            .unwrap_or(l.max_subscriptions_per_connection);
        l.max_subscriptions_per_identity = self
            .max_subscriptions_per_identity
            .unwrap_or(l.max_subscriptions_per_identity);
        let s = &mut c.security;
        s.max_skew_ms = self.max_skew_ms.unwrap_or(s.max_skew_ms);
        s.changes_per_second = self.changes_per_second.unwrap_or(s.changes_per_second);
        s.samples_per_second = self.samples_per_second.unwrap_or(s.samples_per_second);
        s.reads_per_second = self.reads_per_second.unwrap_or(s.reads_per_second);
        s.signing_required = self.signing_required.unwrap_or(s.signing_required);
        c.check()?;
        Ok(c)
    }
}

pub async fn run(args: NodeArgs, certs: Option<PathBuf>) -> anyhow::Result<i32> {
    let config = args.resolve(certs)?;
    let node = Node::start(config).await?;
    wait_for_signal().await?;
    node.shutdown(GRACE).await;
    Ok(super::exit::OK)
}

/// Returns on the first SIGTERM or SIGINT.
pub async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}
