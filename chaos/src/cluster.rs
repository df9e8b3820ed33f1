//! The process back end: three `arqonbus node` processes on loopback, each
//! with its own data directory and log file inside the run's output
//! directory, free UDP ports chosen at start (kept across restarts, since
//! the membership names them), and the signals the nemesis sends: SIGKILL,
//! SIGSTOP and SIGCONT. Also asks nodes for their own status, with a short
//! deadline so a paused or dead node costs little.

use anyhow::{bail, Context};
use arqonbus::client::{Client, ClientOptions};
use arqonbus::proto::operator::{NodeRole, NodeStatus, OperatorReply, OperatorRequest};
use arqonbus::proto::{Reply, Request};
use arqonbus::transport::TlsCredentials;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// Nodes in the cluster.
pub const NODES: u64 = 3;
/// Deadline of one status question to one node.
const STATUS_DEADLINE: Duration = Duration::from_millis(400);
/// How long a killed process may take to be reaped.
const REAP_DEADLINE: Duration = Duration::from_secs(5);

/// One node process.
struct NodeProc {
    id: u64,
    endpoint: String,
    child: Option<Child>,
    paused: bool,
    starts: u32,
}

/// A running three-node cluster.
pub struct Cluster {
    exe: PathBuf,
    dir: PathBuf,
    certs: PathBuf,
    nodes: Vec<NodeProc>,
    status_client: Client,
}

/// Picks `n` distinct free UDP ports on loopback (held together, then freed).
fn free_ports(n: usize) -> anyhow::Result<Vec<u16>> {
    let sockets = (0..n)
        .map(|_| std::net::UdpSocket::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()
        .context("finding free UDP ports")?;
    sockets.iter().map(|s| Ok(s.local_addr()?.port())).collect()
}

/// Runs one `arqonbus` command to completion; its output goes to `log`.
pub async fn run_cli(exe: &Path, args: &[&str], log: &Path) -> anyhow::Result<()> {
    let out = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| format!("running {} {}", exe.display(), args.join(" ")))?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    writeln!(file, "$ arqonbus {}", args.join(" "))?;
    file.write_all(&out.stdout)?;
    file.write_all(&out.stderr)?;
    if !out.status.success() {
        bail!(
            "`arqonbus {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

impl Cluster {
    /// Makes certificates, starts the nodes and bootstraps the cluster.
    pub async fn start(exe: &Path, dir: &Path) -> anyhow::Result<Cluster> {
        let certs = dir.join("certs");
        let setup_log = dir.join("setup.log");
        let certs_arg = certs.display().to_string();
        run_cli(exe, &["certs", "init", "--out", &certs_arg], &setup_log).await?;
        let nodes: Vec<NodeProc> = free_ports(NODES as usize)?
            .into_iter()
            .zip(1..)
            .map(|(port, id)| NodeProc {
                id,
                endpoint: format!("127.0.0.1:{port}"),
                child: None,
                paused: false,
                starts: 0,
            })
            .collect();
        let mut options = ClientOptions::new(
            nodes.iter().map(|n| n.endpoint.clone()).collect(),
            TlsCredentials::from_dir(&certs, "viewer").context("viewer certificate")?,
        );
        options.request_timeout = STATUS_DEADLINE;
        options.connect_timeout = STATUS_DEADLINE;
        let mut cluster = Cluster {
            exe: exe.to_path_buf(),
            dir: dir.to_path_buf(),
            certs,
            nodes,
            status_client: Client::new(options)?,
        };
        for id in 1..=NODES {
            cluster.spawn(id)?;
        }
        for id in 1..=NODES {
            cluster.wait_answering(id, Duration::from_secs(30)).await?;
        }
        let endpoints = cluster.endpoints().join(",");
        let args = [
            "--endpoints",
            &endpoints,
            "--certs",
            &certs_arg,
            "--user",
            "admin",
            "cluster",
            "init",
        ];
        run_cli(exe, &args, &setup_log).await?;
        Ok(cluster)
    }

    pub fn certs(&self) -> &Path {
        &self.certs
    }

    pub fn exe(&self) -> &Path {
        &self.exe
    }

    pub fn endpoints(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.endpoint.clone()).collect()
    }

    pub fn endpoint(&self, id: u64) -> anyhow::Result<&str> {
        Ok(&self.node(id)?.endpoint)
    }

    pub fn status_client(&self) -> &Client {
        &self.status_client
    }

    fn node(&self, id: u64) -> anyhow::Result<&NodeProc> {
        self.nodes
            .iter()
            .find(|n| n.id == id)
            .with_context(|| format!("no node {id}"))
    }

    fn node_mut(&mut self, id: u64) -> anyhow::Result<&mut NodeProc> {
        self.nodes
            .iter_mut()
            .find(|n| n.id == id)
            .with_context(|| format!("no node {id}"))
    }

    /// Starts node `id`'s process; its log (node-N.log) is appended to.
    pub fn spawn(&mut self, id: u64) -> anyhow::Result<()> {
        let (exe, dir, certs) = (self.exe.clone(), self.dir.clone(), self.certs.clone());
        let node = self.node_mut(id)?;
        if node.child.is_some() {
            bail!("node {id} is already running");
        }
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(format!("node-{id}.log")))?;
        node.starts += 1;
        writeln!(
            log,
            "=== arqonbus-chaos: start #{} of node {id}",
            node.starts
        )?;
        let child = Command::new(&exe)
            .arg("--certs")
            .arg(&certs)
            .args(["node", "--id", &id.to_string(), "--listen", &node.endpoint])
            .arg("--data")
            .arg(dir.join(format!("node-{id}")))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting node {id} ({})", exe.display()))?;
        node.child = Some(child);
        node.paused = false;
        Ok(())
    }

    fn pid(&self, id: u64) -> anyhow::Result<Pid> {
        let pid = self
            .node(id)?
            .child
            .as_ref()
            .and_then(Child::id)
            .with_context(|| format!("node {id} is not running"))?;
        Ok(Pid::from_raw(pid as i32))
    }

    fn signal(&self, id: u64, signal: Signal) -> anyhow::Result<()> {
        kill(self.pid(id)?, signal).with_context(|| format!("sending {signal} to node {id}"))
    }

    /// SIGKILL, then reaps the process.
    pub async fn kill(&mut self, id: u64) -> anyhow::Result<()> {
        self.signal(id, Signal::SIGKILL)?;
        let node = self.node_mut(id)?;
        if let Some(mut child) = node.child.take() {
            tokio::time::timeout(REAP_DEADLINE, child.wait())
                .await
                .with_context(|| {
                    format!("node {id} was not reaped {REAP_DEADLINE:?} after SIGKILL")
                })?
                .with_context(|| format!("reaping node {id}"))?;
        }
        node.paused = false;
        Ok(())
    }

    pub fn pause(&mut self, id: u64) -> anyhow::Result<()> {
        self.signal(id, Signal::SIGSTOP)?;
        self.node_mut(id)?.paused = true;
        Ok(())
    }

    pub fn resume(&mut self, id: u64) -> anyhow::Result<()> {
        self.signal(id, Signal::SIGCONT)?;
        self.node_mut(id)?.paused = false;
        Ok(())
    }

    /// Nodes whose process exited without being killed by the harness.
    pub fn exited(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        for node in &mut self.nodes {
            if let Some(child) = &mut node.child {
                if let Ok(Some(status)) = child.try_wait() {
                    out.push(format!("node {} exited by itself ({status})", node.id));
                    node.child = None;
                }
            }
        }
        out
    }

    /// Resumes paused nodes and starts stopped ones.
    pub fn heal(&mut self) -> anyhow::Result<()> {
        let ids: Vec<u64> = self.nodes.iter().map(|n| n.id).collect();
        for id in ids {
            let node = self.node(id)?;
            if node.child.is_none() {
                self.spawn(id)?;
            } else if node.paused {
                self.resume(id)?;
            }
        }
        Ok(())
    }

    /// Node `id`'s own view, or `None` if it does not answer in time.
    pub async fn status(&self, id: u64) -> Option<NodeStatus> {
        let endpoint = self.node(id).ok()?.endpoint.clone();
        node_status(&self.status_client, &endpoint).await
    }

    /// Every node's view, asked at once; paused or stopped nodes are skipped.
    pub async fn statuses(&self) -> Vec<(u64, Option<NodeStatus>)> {
        let asks: Vec<_> = self
            .nodes
            .iter()
            .map(|n| {
                let (client, endpoint, up) = (
                    self.status_client.clone(),
                    n.endpoint.clone(),
                    n.child.is_some() && !n.paused,
                );
                let id = n.id;
                tokio::spawn(async move {
                    let status = if up {
                        node_status(&client, &endpoint).await
                    } else {
                        None
                    };
                    (id, status)
                })
            })
            .collect();
        let mut out = Vec::new();
        for ask in asks {
            if let Ok(answer) = ask.await {
                out.push(answer);
            }
        }
        out
    }

    /// Waits until node `id` answers a status question.
    pub async fn wait_answering(&self, id: u64, bound: Duration) -> anyhow::Result<NodeStatus> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.status(id).await {
                return Ok(status);
            }
            if start.elapsed() > bound {
                bail!("node {id} did not answer a status request within {bound:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops every node: SIGCONT, SIGTERM, then SIGKILL after a grace.
    pub async fn stop(&mut self) {
        for node in &mut self.nodes {
            if let Some(child) = &mut node.child {
                if let Some(pid) = child.id() {
                    let pid = Pid::from_raw(pid as i32);
                    let _ = kill(pid, Signal::SIGCONT);
                    let _ = kill(pid, Signal::SIGTERM);
                }
                if tokio::time::timeout(REAP_DEADLINE, child.wait())
                    .await
                    .is_err()
                {
                    let _ = child.start_kill();
                    let _ = child.wait().await;
                }
                node.child = None;
            }
        }
    }
}

/// The leader with the highest term among the answers.
pub fn leader_of(statuses: &[(u64, Option<NodeStatus>)]) -> Option<(u64, u64)> {
    statuses
        .iter()
        .filter_map(|(id, s)| s.as_ref().map(|s| (*id, s)))
        .filter(|(_, s)| s.role == NodeRole::Leader)
        .map(|(id, s)| (id, s.term))
        .max_by_key(|(_, term)| *term)
}

/// The name of a role, as the summary shows it.
pub fn role_name(role: Option<NodeRole>) -> &'static str {
    match role {
        Some(NodeRole::Leader) => "leader",
        Some(NodeRole::Follower) => "follower",
        Some(NodeRole::Learner) => "learner",
        Some(NodeRole::Candidate) => "candidate",
        Some(NodeRole::Shutdown) => "shutdown",
        None => "unreachable",
    }
}

async fn node_status(client: &Client, endpoint: &str) -> Option<NodeStatus> {
    let ask = client.call_node(endpoint, &Request::Operate(OperatorRequest::NodeStatus));
    match tokio::time::timeout(STATUS_DEADLINE * 2, ask).await {
        Ok(Ok(Reply::Operated(OperatorReply::NodeStatus(s)))) => Some(s),
        _ => None,
    }
}
