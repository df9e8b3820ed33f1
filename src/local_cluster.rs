//! A cluster of real `arqonbus node` processes on loopback, for `dev`, the
//! benchmarks and the integration tests: certificates, free ports, start,
//! SIGKILL, SIGSTOP/SIGCONT, SIGTERM, restart, and finding the leader.
//! Every wait is bounded and says what did not happen.

use crate::certs::{self, CertDir, InitOptions};
use crate::client::{Client, ClientOptions};
use crate::proto::operator::{NodeRole, NodeStatus, OperatorReply, OperatorRequest};
use crate::proto::{Reply, Request};
use crate::transport::TlsCredentials;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum LocalClusterError {
    #[error("local cluster: {0}")]
    Io(#[from] std::io::Error),
    #[error("local cluster: {0}")]
    Certs(#[from] crate::certs::CertError),
    #[error("local cluster: {0}")]
    Client(#[from] crate::client::ClientError),
    #[error("local cluster: {0}")]
    Tls(#[from] crate::transport::TlsError),
    #[error("local cluster: signal to node {id}: {reason}")]
    Signal { id: u64, reason: String },
    #[error("local cluster: {what} did not happen within {within:?}")]
    Timeout { what: String, within: Duration },
    #[error("local cluster: node {0} is unknown or not running")]
    NoSuchNode(u64),
}

type Result<T> = std::result::Result<T, LocalClusterError>;

/// A free UDP port on 127.0.0.1 (bound then released).
pub fn free_port() -> Result<u16> {
    Ok(std::net::UdpSocket::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Polls `check` until it succeeds; after `within`, fails saying what the
/// last check found missing.
async fn poll<T, F, Fut>(within: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<T, String>>,
{
    let start = Instant::now();
    loop {
        match check().await {
            Ok(v) => return Ok(v),
            Err(what) if start.elapsed() > within => {
                return Err(LocalClusterError::Timeout { what, within })
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// One node: how to run it and its process when running.
struct LocalNode {
    port: u16,
    child: Option<Child>,
}

/// Node processes `1..=n` under one directory.
pub struct LocalCluster {
    exe: PathBuf,
    dir: PathBuf,
    extra_args: Vec<String>,
    nodes: BTreeMap<u64, LocalNode>,
}

impl LocalCluster {
    /// Prepares `n` nodes under `dir` (certificates made if missing); `ports`
    /// gives node i's port, or free ones are picked. Nothing runs yet.
    pub fn new(
        exe: &Path,
        dir: &Path,
        n: u64,
        ports: Option<Vec<u16>>,
        extra_args: &[&str],
    ) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let certs = dir.join("certs");
        if !CertDir::new(&certs).has_ca() {
            certs::init(
                &certs,
                &InitOptions {
                    nodes: n,
                    node_hosts: Vec::new(),
                    force: false,
                },
            )?;
        }
        let mut nodes = BTreeMap::new();
        for id in 1..=n {
            let port = match &ports {
                Some(p) => p
                    .get(id as usize - 1)
                    .copied()
                    .ok_or(LocalClusterError::NoSuchNode(id))?,
                None => free_port()?,
            };
            nodes.insert(id, LocalNode { port, child: None });
        }
        Ok(LocalCluster {
            exe: exe.to_path_buf(),
            dir: dir.to_path_buf(),
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            nodes,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn cert_dir(&self) -> PathBuf {
        self.dir.join("certs")
    }

    pub fn ids(&self) -> Vec<u64> {
        self.nodes.keys().copied().collect()
    }

    pub fn endpoint(&self, id: u64) -> Result<String> {
        let node = self
            .nodes
            .get(&id)
            .ok_or(LocalClusterError::NoSuchNode(id))?;
        Ok(format!("127.0.0.1:{}", node.port))
    }

    pub fn endpoints(&self) -> Vec<String> {
        self.nodes
            .values()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect()
    }

    pub fn log_path(&self, id: u64) -> PathBuf {
        self.dir.join(format!("node-{id}.log"))
    }

    pub fn data_dir(&self, id: u64) -> PathBuf {
        self.dir.join(format!("node-{id}"))
    }

    /// Starts node `id` (appending to its log).
    pub fn start(&mut self, id: u64) -> Result<()> {
        let (exe, dir, extra) = (self.exe.clone(), self.dir.clone(), self.extra_args.clone());
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path(id))?;
        let node = self
            .nodes
            .get_mut(&id)
            .ok_or(LocalClusterError::NoSuchNode(id))?;
        let child = Command::new(exe)
            .args(["node", "--id", &id.to_string()])
            .args(["--listen", &format!("127.0.0.1:{}", node.port)])
            .arg("--data")
            .arg(dir.join(format!("node-{id}")))
            .arg("--certs")
            .arg(dir.join("certs"))
            .args(&extra)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        node.child = Some(child);
        Ok(())
    }

    pub fn start_all(&mut self) -> Result<()> {
        for id in self.ids() {
            self.start(id)?;
        }
        Ok(())
    }

    fn signal(&mut self, id: u64, signal: Signal) -> Result<()> {
        let node = self
            .nodes
            .get_mut(&id)
            .ok_or(LocalClusterError::NoSuchNode(id))?;
        let child = node
            .child
            .as_ref()
            .ok_or(LocalClusterError::NoSuchNode(id))?;
        kill(Pid::from_raw(child.id() as i32), signal).map_err(|e| LocalClusterError::Signal {
            id,
            reason: e.to_string(),
        })
    }

    /// SIGKILL, and reap the process.
    pub fn kill(&mut self, id: u64) -> Result<()> {
        self.signal(id, Signal::SIGKILL)?;
        self.reap(id)
    }

    /// SIGTERM (a clean stop), and wait for the exit.
    pub fn stop(&mut self, id: u64) -> Result<()> {
        self.signal(id, Signal::SIGTERM)?;
        self.reap(id)
    }

    pub fn pause(&mut self, id: u64) -> Result<()> {
        self.signal(id, Signal::SIGSTOP)
    }

    pub fn resume(&mut self, id: u64) -> Result<()> {
        self.signal(id, Signal::SIGCONT)
    }

    fn reap(&mut self, id: u64) -> Result<()> {
        if let Some(mut child) = self.nodes.get_mut(&id).and_then(|n| n.child.take()) {
            child.wait()?;
        }
        Ok(())
    }

    /// A node whose process has exited by itself, with its exit status.
    pub fn exited(&mut self) -> Option<(u64, String)> {
        for (id, node) in &mut self.nodes {
            if let Some(child) = &mut node.child {
                if let Ok(Some(status)) = child.try_wait() {
                    node.child = None;
                    return Some((*id, status.to_string()));
                }
            }
        }
        None
    }

    /// Stops every running node cleanly.
    pub fn stop_all(&mut self) -> Result<()> {
        for id in self.ids() {
            if self.is_running(id) {
                self.stop(id)?;
            }
        }
        Ok(())
    }

    pub fn is_running(&self, id: u64) -> bool {
        self.nodes.get(&id).is_some_and(|n| n.child.is_some())
    }

    /// A client with `user`'s certificate and every endpoint.
    pub fn client(&self, user: &str) -> Result<Client> {
        self.client_to(user, self.endpoints())
    }

    pub fn client_to(&self, user: &str, endpoints: Vec<String>) -> Result<Client> {
        let creds = TlsCredentials::from_dir(&self.cert_dir(), user)?;
        Ok(Client::new(ClientOptions::new(endpoints, creds))?)
    }

    /// Node `id`'s own status, if it answers.
    pub async fn status(&self, client: &Client, id: u64) -> Option<NodeStatus> {
        let endpoint = self.endpoint(id).ok()?;
        match client
            .call_node(&endpoint, &Request::Operate(OperatorRequest::NodeStatus))
            .await
        {
            Ok(Reply::Operated(OperatorReply::NodeStatus(s))) => Some(s),
            _ => None,
        }
    }

    /// Bootstraps every node into one cluster through node 1 (safe to repeat).
    pub async fn bootstrap(&self, client: &Client) -> Result<String> {
        self.bootstrap_members(client, &self.ids()).await
    }

    /// Bootstraps the nodes `ids` (node 1 among them) into one cluster.
    pub async fn bootstrap_members(&self, client: &Client, ids: &[u64]) -> Result<String> {
        let members = ids
            .iter()
            .copied()
            .map(|id| {
                Ok(crate::proto::operator::Member {
                    node_id: id,
                    addr: self.endpoint(id)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let request = Request::Operate(OperatorRequest::ClusterInit { members });
        match client.call_node(&self.endpoint(1)?, &request).await? {
            Reply::Operated(OperatorReply::Done { message }) => Ok(message),
            other => Err(LocalClusterError::Timeout {
                what: format!("bootstrap (answer: {other:?})"),
                within: Duration::ZERO,
            }),
        }
    }

    /// The leader among running nodes in `among`, by their own word.
    pub async fn leader(&self, client: &Client, among: &[u64]) -> Option<(u64, u64)> {
        let mut best: Option<(u64, u64)> = None;
        for &id in among {
            if let Some(s) = self.status(client, id).await {
                if s.role == NodeRole::Leader && best.is_none_or(|(_, term)| s.term > term) {
                    best = Some((id, s.term));
                }
            }
        }
        best
    }

    /// Waits until one of `among` is leader in a term above `after_term`.
    pub async fn wait_for_leader(
        &self,
        client: &Client,
        among: &[u64],
        after_term: u64,
        within: Duration,
    ) -> Result<(u64, u64)> {
        poll(within, || async {
            match self.leader(client, among).await {
                Some((id, term)) if term > after_term => Ok((id, term)),
                _ => Err(format!(
                    "a leader among {among:?} in a term above {after_term}"
                )),
            }
        })
        .await
    }

    /// Waits until every node in `ids` has applied at least `index`.
    pub async fn wait_for_applied(
        &self,
        client: &Client,
        ids: &[u64],
        index: u64,
        within: Duration,
    ) -> Result<()> {
        poll(within, || async {
            let mut behind = Vec::new();
            for &id in ids {
                let applied = self.status(client, id).await.and_then(|s| s.last_applied);
                if applied.is_none_or(|a| a < index) {
                    behind.push(id);
                }
            }
            match behind.is_empty() {
                true => Ok(()),
                false => Err(format!("nodes {behind:?} applying index {index}")),
            }
        })
        .await
    }

    /// Waits until every node in `ids` answers a status request.
    pub async fn wait_until_up(
        &self,
        client: &Client,
        ids: &[u64],
        within: Duration,
    ) -> Result<()> {
        poll(within, || async {
            let mut down = Vec::new();
            for &id in ids {
                if self.status(client, id).await.is_none() {
                    down.push(id);
                }
            }
            match down.is_empty() {
                true => Ok(()),
                false => Err(format!("nodes {down:?} answering")),
            }
        })
        .await
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        for node in self.nodes.values_mut() {
            if let Some(mut child) = node.child.take() {
                let pid = Pid::from_raw(child.id() as i32);
                let _ = kill(pid, Signal::SIGCONT);
                let _ = kill(pid, Signal::SIGKILL);
                let _ = child.wait();
            }
        }
    }
}
