//! A cluster of `arqonbus node` processes on loopback: certificates made
//! with `arqonbus certs init` when missing, a free (or given) UDP port per
//! node, and the questions tests and tools ask of it, each bounded.

use crate::error::{Result, TestkitError};
use crate::poll::{free_ports, poll};
use crate::processes::{NodeProcesses, NodeSpec};
use arqonbus_client::{Client, ClientOptions};
use arqonbus_proto::operator::{Member, NodeRole, NodeStatus, OperatorReply, OperatorRequest};
use arqonbus_proto::{Reply, Request};
use arqonbus_transport::{CertDir, TlsCredentials};
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

/// Nodes `1..=n` under one directory, certificates in `DIR/certs`.
pub struct LocalCluster {
    dir: PathBuf,
    processes: NodeProcesses,
}

impl LocalCluster {
    /// Prepares `n` nodes under `dir` (certificates made if missing);
    /// `ports` gives node i's port, or free ones are picked. Nothing runs.
    pub async fn new(exe: &Path, dir: &Path, n: u64, ports: Option<Vec<u16>>) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let certs = dir.join("certs");
        if !CertDir::new(&certs).has_ca() {
            make_certs(exe, &certs, n).await?;
        }
        let ports = match ports {
            Some(p) if p.len() as u64 >= n => p,
            Some(_) => return Err(TestkitError::NoSuchNode(n)),
            None => free_ports(n as usize)?,
        };
        let specs = (1..=n)
            .zip(ports)
            .map(|(id, port)| NodeSpec {
                id,
                listen: format!("127.0.0.1:{port}"),
                prefix: Vec::new(),
            })
            .collect();
        Ok(LocalCluster {
            dir: dir.to_path_buf(),
            processes: NodeProcesses::new(exe, dir, &certs, specs),
        })
    }

    /// Arguments added to every node's command line.
    pub fn with_args(mut self, args: &[&str]) -> Self {
        self.processes = self.processes.with_args(args);
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn cert_dir(&self) -> PathBuf {
        self.dir.join("certs")
    }

    pub fn processes(&mut self) -> &mut NodeProcesses {
        &mut self.processes
    }

    pub fn ids(&self) -> Vec<u64> {
        self.processes.ids()
    }

    pub fn endpoint(&self, id: u64) -> Result<String> {
        Ok(self.processes.spec(id)?.listen.clone())
    }

    pub fn endpoints(&self) -> Vec<String> {
        self.ids()
            .into_iter()
            .filter_map(|id| self.endpoint(id).ok())
            .collect()
    }

    pub fn log_path(&self, id: u64) -> PathBuf {
        self.processes.log_path(id)
    }

    pub fn data_dir(&self, id: u64) -> PathBuf {
        self.processes.data_dir(id)
    }

    pub fn start(&mut self, id: u64) -> Result<()> {
        self.processes.start(id)
    }

    pub fn start_all(&mut self) -> Result<()> {
        self.processes.start_all()
    }

    pub async fn kill(&mut self, id: u64) -> Result<()> {
        self.processes.kill(id).await
    }

    pub async fn stop(&mut self, id: u64) -> Result<ExitStatus> {
        self.processes.stop(id).await
    }

    pub async fn stop_all(&mut self) -> Result<()> {
        self.processes.stop_all().await
    }

    pub fn pause(&mut self, id: u64) -> Result<()> {
        self.processes.pause(id)
    }

    pub fn resume(&mut self, id: u64) -> Result<()> {
        self.processes.resume(id)
    }

    pub fn is_running(&self, id: u64) -> bool {
        self.processes.is_running(id)
    }

    /// Node `id`'s resident memory, now and at its peak.
    pub fn memory(&self, id: u64) -> Result<crate::Memory> {
        self.processes.memory(id)
    }

    /// Resets node `id`'s peak resident memory to what it holds now.
    pub fn reset_peak_memory(&self, id: u64) -> Result<()> {
        self.processes.reset_peak_memory(id)
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
            .map(|&id| {
                Ok(Member {
                    node_id: id,
                    addr: self.endpoint(id)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let request = Request::Operate(OperatorRequest::ClusterInit { members });
        match client.call_node(&self.endpoint(1)?, &request).await? {
            Reply::Operated(OperatorReply::Done { message }) => Ok(message),
            other => Err(TestkitError::Command {
                command: "cluster init".into(),
                detail: format!("answered {other:?}"),
            }),
        }
    }

    /// The leader among running nodes in `among`, by their own word, with
    /// its term.
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

/// `arqonbus certs init --out CERTS --nodes N`.
pub async fn make_certs(exe: &Path, certs: &Path, nodes: u64) -> Result<()> {
    let out = tokio::process::Command::new(exe)
        .args(["certs", "init", "--out"])
        .arg(certs)
        .args(["--nodes", &nodes.to_string()])
        .output()
        .await?;
    if out.status.success() {
        return Ok(());
    }
    Err(TestkitError::Command {
        command: format!("{} certs init --out {}", exe.display(), certs.display()),
        detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
    })
}
