//! The process back end: three `arqonbus node` processes, each with its
//! own data directory and log file inside the run's output directory, and
//! the signals the nemesis sends: SIGKILL, SIGSTOP and SIGCONT. Nodes run
//! on loopback (free UDP ports chosen at start and kept across restarts,
//! since the membership names them) or, when the run partitions the
//! network, each in its own network namespace at 10.213.S.N:7100.

use super::firewall::{self, Direction, Netns};
use super::netns::Namespaces;
use super::tools::run_cli;
use super::{Access, NODES};
use anyhow::{bail, Context};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// How long a killed process may take to be reaped.
const REAP_DEADLINE: Duration = Duration::from_secs(5);
/// The port nodes listen on inside their namespaces.
const NETNS_PORT: u16 = 7100;

/// One node process.
struct NodeProc {
    id: u64,
    listen: String,
    child: Option<Child>,
    paused: bool,
    starts: u32,
}

/// The node processes, and their namespaces when the run partitions.
pub struct ProcessNodes {
    exe: PathBuf,
    dir: PathBuf,
    certs: PathBuf,
    nodes: Vec<NodeProc>,
    netns: Option<Namespaces>,
    /// Nodes with partition rules in their namespace.
    cut: Vec<u64>,
}

/// Picks `n` distinct free UDP ports on loopback (held together, then freed).
pub(super) fn free_ports(n: usize) -> anyhow::Result<Vec<u16>> {
    let sockets = (0..n)
        .map(|_| std::net::UdpSocket::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()
        .context("finding free UDP ports")?;
    sockets.iter().map(|s| Ok(s.local_addr()?.port())).collect()
}

impl ProcessNodes {
    /// Makes the certificates (and the namespaces, with `network`); the
    /// nodes are started by the caller.
    pub async fn create(
        exe: &Path,
        dir: &Path,
        certs: &Path,
        network: bool,
    ) -> anyhow::Result<(ProcessNodes, Access)> {
        let netns = match network {
            true => Some(Namespaces::create(NODES, &dir.join("network.log")).await?),
            false => None,
        };
        let listen: Vec<String> = match &netns {
            Some(ns) => (1..=NODES)
                .map(|id| format!("{}:{NETNS_PORT}", ns.address(id)))
                .collect(),
            None => free_ports(NODES as usize)?
                .into_iter()
                .map(|port| format!("127.0.0.1:{port}"))
                .collect(),
        };
        let nodes = ProcessNodes {
            exe: exe.to_path_buf(),
            dir: dir.to_path_buf(),
            certs: certs.to_path_buf(),
            nodes: (1..)
                .zip(&listen)
                .map(|(id, l)| NodeProc::new(id, l))
                .collect(),
            netns,
            cut: Vec::new(),
        };
        let mut init = vec!["certs".into(), "init".into(), "--out".into()];
        init.push(certs.display().to_string());
        if let Some(ns) = &nodes.netns {
            for id in 1..=NODES {
                init.extend(["--node-host".into(), ns.address(id).to_string()]);
            }
        }
        if let Err(e) = run_cli(exe, &init, &dir.join("setup.log")).await {
            if let Some(ns) = &nodes.netns {
                ns.remove().await;
            }
            return Err(e);
        }
        let access = Access {
            endpoints: listen,
            certs: certs.to_path_buf(),
            resolve: BTreeMap::new(),
        };
        Ok((nodes, access))
    }

    pub fn describe(&self) -> String {
        match &self.netns {
            Some(ns) => format!("process: node N in {}", ns.describe()),
            None => "process: nodes on 127.0.0.1".into(),
        }
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

    /// Whether node `id` runs, and whether it is paused.
    pub fn state(&self, id: u64) -> anyhow::Result<(bool, bool)> {
        let node = self.node(id)?;
        Ok((node.child.is_some(), node.paused))
    }

    /// Starts node `id`'s process; its log (node-N.log) is appended to.
    pub fn spawn(&mut self, id: u64) -> anyhow::Result<()> {
        let (exe, dir, certs) = (self.exe.clone(), self.dir.clone(), self.certs.clone());
        let netns = self.netns.as_ref().map(|ns| ns.name(id));
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
        // `ip netns exec` execs the node, so the child's pid is the node's.
        let mut command = match &netns {
            Some(name) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", name]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        let child = command
            .arg("--certs")
            .arg(&certs)
            .args(["node", "--id", &id.to_string(), "--listen", &node.listen])
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

    /// Drops node `id`'s traffic with `peers` inside its namespace.
    pub async fn cut(
        &mut self,
        id: u64,
        peers: &[u64],
        direction: Direction,
    ) -> anyhow::Result<()> {
        let Some(ns) = &self.netns else {
            bail!("partitions need the nodes in network namespaces (started without them)");
        };
        let addresses: Vec<IpAddr> = peers.iter().map(|p| ns.address(*p).into()).collect();
        let log = self.dir.join("network.log");
        self.cut.push(id);
        firewall::cut(&Netns::Named(ns.name(id)), &addresses, direction, &log).await
    }

    /// Removes every partition rule.
    pub async fn mend(&mut self) -> anyhow::Result<()> {
        let Some(ns) = &self.netns else {
            return Ok(());
        };
        let log = self.dir.join("network.log");
        while let Some(id) = self.cut.last().copied() {
            firewall::mend(&Netns::Named(ns.name(id)), &log).await?;
            self.cut.pop();
        }
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

    /// Stops every node (SIGCONT, SIGTERM, then SIGKILL after a grace) and
    /// removes the namespaces.
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
        if let Some(ns) = self.netns.take() {
            ns.remove().await;
        }
    }
}

impl NodeProc {
    fn new(id: u64, listen: &str) -> NodeProc {
        NodeProc {
            id,
            listen: listen.to_string(),
            child: None,
            paused: false,
            starts: 0,
        }
    }
}
