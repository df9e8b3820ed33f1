//! The cluster under test, whatever runs it: node processes on this host
//! (`process`, on loopback or one network namespace per node) or containers
//! of `cluster/docker-compose.yml` (`docker`). The nemesis and the checks
//! see one interface: kill and restart a node, pause and resume it, cut it
//! off from its peers and mend the cut, ask a node for its own status.
//! [`Access`] is how clients reach the nodes.

mod docker;
mod firewall;
mod netns;
mod process;
mod static_binary;
mod tools;

pub use firewall::Direction;
use tools::args;
pub use tools::run_cli;

use anyhow::{bail, Context};
use arqonbus_client::{Client, ClientOptions};
use arqonbus_proto::operator::{NodeRole, NodeStatus, OperatorReply, OperatorRequest};
use arqonbus_proto::{Reply, Request};
use arqonbus_transport::TlsCredentials;
use docker::DockerNodes;
use process::ProcessNodes;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Nodes in the cluster.
pub const NODES: u64 = 3;
/// Deadline of one status question to one node.
const STATUS_DEADLINE: Duration = Duration::from_millis(400);

/// How the cluster is run.
#[derive(Debug, Clone)]
pub enum Setup {
    /// Node processes; `network` puts each in its own network namespace,
    /// which partitions need (and root); `power_loss` puts each node's data
    /// directory on a power-loss filesystem (root and /dev/fuse).
    Process {
        network: bool,
        power_loss: Option<PowerModel>,
    },
    /// The compose file's three containers.
    Docker { compose_file: PathBuf },
}

/// How the power-loss filesystems model a disk.
#[derive(Debug, Clone, Copy)]
pub struct PowerModel {
    /// The writeback period (`arqonbus_lazyfs::MountConfig::writeback`);
    /// `None` for the strict model.
    pub writeback: Option<Duration>,
}

/// How clients reach the nodes: endpoints, the certificate directory, and
/// names to dial at other addresses (`--resolve`).
#[derive(Debug, Clone)]
pub struct Access {
    pub endpoints: Vec<String>,
    pub certs: PathBuf,
    pub resolve: BTreeMap<String, SocketAddr>,
}

impl Access {
    /// Client options for `user` (a certificate in the directory).
    pub fn options(&self, user: &str) -> anyhow::Result<ClientOptions> {
        let credentials = TlsCredentials::from_dir(&self.certs, user)
            .with_context(|| format!("the {user} certificate"))?;
        let mut options = ClientOptions::new(self.endpoints.clone(), credentials);
        options.resolve = self.resolve.clone();
        Ok(options)
    }

    /// The `arqonbus` command-line flags that reach the cluster as `user`.
    pub fn cli_args(&self, user: &str) -> Vec<String> {
        let mut args = vec![
            "--endpoints".to_string(),
            self.endpoints.join(","),
            "--certs".to_string(),
            self.certs.display().to_string(),
            "--user".to_string(),
            user.to_string(),
        ];
        for (name, addr) in &self.resolve {
            args.extend(["--resolve".to_string(), format!("{name}={addr}")]);
        }
        args
    }
}

/// The node processes or containers.
enum Nodes {
    Process(ProcessNodes),
    Docker(DockerNodes),
}

/// A running three-node cluster.
pub struct Cluster {
    exe: PathBuf,
    /// The run's output directory (setup.log).
    dir: PathBuf,
    access: Access,
    nodes: Nodes,
    status_client: Client,
}

impl Cluster {
    /// Makes certificates, starts the nodes and bootstraps the cluster.
    pub async fn start(setup: &Setup, exe: &Path, dir: &Path) -> anyhow::Result<Cluster> {
        let certs = dir.join("certs");
        let (nodes, access) = match setup {
            Setup::Process {
                network,
                power_loss,
            } => {
                let (nodes, access) =
                    ProcessNodes::create(exe, dir, &certs, *network, *power_loss).await?;
                (Nodes::Process(nodes), access)
            }
            Setup::Docker { compose_file } => {
                let (nodes, access) = DockerNodes::create(exe, dir, &certs, compose_file).await?;
                (Nodes::Docker(nodes), access)
            }
        };
        let mut options = access.options("viewer")?;
        options.request_timeout = STATUS_DEADLINE;
        options.connect_timeout = STATUS_DEADLINE;
        let mut cluster = Cluster {
            exe: exe.to_path_buf(),
            dir: dir.to_path_buf(),
            access,
            nodes,
            status_client: Client::new(options)?,
        };
        let started = cluster.start_all().await;
        if let Err(e) = started {
            cluster.stop().await;
            return Err(e);
        }
        Ok(cluster)
    }

    async fn start_all(&mut self) -> anyhow::Result<()> {
        for id in 1..=NODES {
            self.restart(id).await?;
        }
        for id in 1..=NODES {
            self.wait_answering(id, Duration::from_secs(60)).await?;
        }
        let mut init = self.access.cli_args("admin");
        init.extend(args(["cluster", "init"]));
        run_cli(&self.exe, &init, &self.dir.join("setup.log")).await
    }

    pub fn access(&self) -> &Access {
        &self.access
    }

    pub fn exe(&self) -> &Path {
        &self.exe
    }

    /// Node `id`'s endpoint, as clients name it.
    pub fn endpoint(&self, id: u64) -> anyhow::Result<&str> {
        let index = usize::try_from(id).ok().and_then(|i| i.checked_sub(1));
        index
            .and_then(|i| self.access.endpoints.get(i))
            .map(String::as_str)
            .with_context(|| format!("no node {id}"))
    }

    pub fn status_client(&self) -> &Client {
        &self.status_client
    }

    /// Which back end runs the nodes, for the summary.
    pub fn describe(&self) -> String {
        match &self.nodes {
            Nodes::Process(n) => n.describe(),
            Nodes::Docker(n) => n.describe(),
        }
    }

    /// Starts node `id` again (or for the first time), keeping its data.
    pub async fn restart(&mut self, id: u64) -> anyhow::Result<()> {
        match &mut self.nodes {
            Nodes::Process(n) => n.spawn(id),
            Nodes::Docker(n) => n.start(id).await,
        }
    }

    /// SIGKILL (the process, or the container's).
    pub async fn kill(&mut self, id: u64) -> anyhow::Result<()> {
        match &mut self.nodes {
            Nodes::Process(n) => n.kill(id).await,
            Nodes::Docker(n) => n.kill(id).await,
        }
    }

    /// Cuts the power of `ids` at once: each is SIGKILLed and reaped, then
    /// loses every write it did not sync. The caller restarts them.
    pub async fn power_loss(&mut self, ids: &[u64]) -> anyhow::Result<()> {
        match &mut self.nodes {
            Nodes::Process(n) => n.power_loss(ids).await,
            Nodes::Docker(_) => bail!("power losses need the process back end"),
        }
    }

    /// Freezes node `id` (SIGSTOP, or `docker pause`).
    pub async fn pause(&mut self, id: u64) -> anyhow::Result<()> {
        match &mut self.nodes {
            Nodes::Process(n) => n.pause(id),
            Nodes::Docker(n) => n.pause(id).await,
        }
    }

    pub async fn resume(&mut self, id: u64) -> anyhow::Result<()> {
        match &mut self.nodes {
            Nodes::Process(n) => n.resume(id),
            Nodes::Docker(n) => n.resume(id).await,
        }
    }

    /// Cuts node `id` off from `peers` (in the given direction, as seen
    /// from `id`). Clients still reach every node.
    pub async fn cut(
        &mut self,
        id: u64,
        peers: &[u64],
        direction: Direction,
    ) -> anyhow::Result<()> {
        match &mut self.nodes {
            Nodes::Process(n) => n.cut(id, peers, direction).await,
            Nodes::Docker(n) => n.cut(id, peers, direction).await,
        }
    }

    /// Removes every cut.
    pub async fn mend(&mut self) -> anyhow::Result<()> {
        match &mut self.nodes {
            Nodes::Process(n) => n.mend().await,
            Nodes::Docker(n) => n.mend().await,
        }
    }

    /// Nodes that stopped without the harness stopping them.
    pub async fn exited(&mut self) -> Vec<String> {
        match &mut self.nodes {
            Nodes::Process(n) => n.exited(),
            Nodes::Docker(n) => n.exited().await,
        }
    }

    /// Mends cuts, resumes paused nodes and starts stopped ones.
    pub async fn heal(&mut self) -> anyhow::Result<()> {
        self.mend().await?;
        for id in 1..=NODES {
            let (running, paused) = self.state(id)?;
            if !running {
                self.restart(id).await?;
            } else if paused {
                self.resume(id).await?;
            }
        }
        Ok(())
    }

    /// Makes sure every node's log so far is in the run's directory as
    /// node-N.log (processes write there already; containers are asked).
    pub async fn save_logs(&self) {
        if let Nodes::Docker(n) = &self.nodes {
            n.save_logs().await;
        }
    }

    /// Stops every node and removes what the back end set up; keeps logs.
    pub async fn stop(&mut self) {
        match &mut self.nodes {
            Nodes::Process(n) => n.stop().await,
            Nodes::Docker(n) => n.stop().await,
        }
    }

    /// Node `id`'s own view, or `None` if it does not answer in time.
    pub async fn status(&self, id: u64) -> Option<NodeStatus> {
        let endpoint = self.endpoint(id).ok()?;
        node_status(&self.status_client, endpoint).await
    }

    /// Whether node `id` runs, and whether it is paused.
    fn state(&self, id: u64) -> anyhow::Result<(bool, bool)> {
        match &self.nodes {
            Nodes::Process(n) => n.state(id),
            Nodes::Docker(n) => n.state(id),
        }
    }

    /// Whether node `id` runs and is not paused (it may be cut off).
    fn up(&self, id: u64) -> bool {
        matches!(self.state(id), Ok((true, false)))
    }

    /// Every node's view, asked at once; `None` for nodes that do not
    /// answer in time. Paused and stopped nodes are not asked.
    pub async fn statuses(&self) -> Vec<(u64, Option<NodeStatus>)> {
        let asks: Vec<_> = (1..=NODES)
            .zip(self.access.endpoints.iter().cloned())
            .map(|(id, endpoint)| {
                let (client, up) = (self.status_client.clone(), self.up(id));
                tokio::spawn(async move {
                    let status = match up {
                        true => node_status(&client, &endpoint).await,
                        false => None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_reaches_the_nodes_as_clients_do() {
        let access = Access {
            endpoints: vec!["node1:7100".into(), "node2:7100".into()],
            certs: PathBuf::from("/c"),
            resolve: BTreeMap::from([
                ("node1:7100".to_string(), ([127, 0, 0, 1], 17201).into()),
                ("node2:7100".to_string(), ([127, 0, 0, 1], 17202).into()),
            ]),
        };
        assert_eq!(
            access.cli_args("operator").join(" "),
            "--endpoints node1:7100,node2:7100 --certs /c --user operator \
             --resolve node1:7100=127.0.0.1:17201 --resolve node2:7100=127.0.0.1:17202"
        );
    }
}
