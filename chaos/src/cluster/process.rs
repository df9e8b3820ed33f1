//! The process back end: three `arqonbus node` processes run by the
//! testkit's launcher, each with its own data directory and log file
//! inside the run's output directory. Nodes run on loopback (free UDP
//! ports chosen at start and kept across restarts, since the membership
//! names them) or, when the run partitions the network, each in its own
//! network namespace at 10.213.S.N:7100, started with `ip netns exec`.
//! When the run cuts power, each node's data directory is a power-loss
//! filesystem (`arqonbus-lazyfs`, served by this process) over a backing
//! directory `node-N.backing`: a power loss SIGKILLs the node and throws
//! away every write it did not sync.

use super::firewall::{self, Direction, Netns};
use super::netns::Namespaces;
use super::tools::run_cli;
use super::{Access, PowerModel, NODES};
use anyhow::{bail, Context};
use arqonbus_lazyfs::{Mount, MountConfig};
use arqonbus_testkit::{free_ports, NodeProcesses, NodeSpec};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The port nodes listen on inside their namespaces.
const NETNS_PORT: u16 = 7100;

/// The node processes, and their namespaces when the run partitions.
pub struct ProcessNodes {
    processes: NodeProcesses,
    dir: PathBuf,
    netns: Option<Namespaces>,
    /// Nodes with partition rules in their namespace.
    cut: Vec<u64>,
    /// Each node's power-loss filesystem, by id, when the run cuts power.
    mounts: Vec<(u64, Mount)>,
    /// The power-loss filesystems' writeback period, if they have one.
    writeback: Option<std::time::Duration>,
}

impl ProcessNodes {
    /// Makes the certificates (and the namespaces, with `network`); the
    /// nodes are started by the caller.
    pub async fn create(
        exe: &Path,
        dir: &Path,
        certs: &Path,
        network: bool,
        power_loss: Option<PowerModel>,
    ) -> anyhow::Result<(ProcessNodes, Access)> {
        let netns = match network {
            true => Some(Namespaces::create(NODES, &dir.join("network.log")).await?),
            false => None,
        };
        let specs = match specs(netns.as_ref()) {
            Ok(specs) => specs,
            Err(e) => {
                if let Some(ns) = &netns {
                    ns.remove().await;
                }
                return Err(e);
            }
        };
        let access = Access {
            endpoints: specs.iter().map(|s| s.listen.clone()).collect(),
            certs: certs.to_path_buf(),
            resolve: BTreeMap::new(),
        };
        let mut nodes = ProcessNodes {
            processes: NodeProcesses::new(exe, dir, certs, specs),
            dir: dir.to_path_buf(),
            netns,
            cut: Vec::new(),
            mounts: Vec::new(),
            writeback: power_loss.and_then(|m| m.writeback),
        };
        let mut prepared = match power_loss {
            Some(model) => nodes.mount_all(model),
            None => Ok(()),
        };
        if prepared.is_ok() {
            prepared = nodes.make_certs(exe, certs).await;
        }
        if let Err(e) = prepared {
            nodes.stop().await;
            return Err(e);
        }
        Ok((nodes, access))
    }

    /// Mounts a power-loss filesystem on each node's data directory.
    fn mount_all(&mut self, model: PowerModel) -> anyhow::Result<()> {
        for id in 1..=NODES {
            let data = self.processes.data_dir(id);
            let backing = self.dir.join(format!("node-{id}.backing"));
            let config = MountConfig {
                writeback: model.writeback,
                ..MountConfig::new(&backing, &data)
            };
            let mount = Mount::start(&config)
                .with_context(|| format!("mounting the power-loss filesystem of node {id}"))?;
            self.mounts.push((id, mount));
        }
        Ok(())
    }

    /// SIGKILLs `ids` (each reaped, so none of its writes can land later),
    /// then throws away what each did not sync.
    pub async fn power_loss(&mut self, ids: &[u64]) -> anyhow::Result<()> {
        for &id in ids {
            if self.processes.is_running(id) {
                self.processes.kill(id).await?;
            }
        }
        for &id in ids {
            let (_, mount) = self
                .mounts
                .iter()
                .find(|(m, _)| *m == id)
                .with_context(|| format!("node {id} has no power-loss filesystem"))?;
            let lost = mount.handle().power_loss()?;
            let log = self.dir.join("power.log");
            let line = format!("power loss of node {id}: {lost:?}\n");
            let _ = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .and_then(|mut f| std::io::Write::write_all(&mut f, line.as_bytes()));
        }
        Ok(())
    }

    /// `certs init`, naming each node's namespace address when there is one.
    async fn make_certs(&self, exe: &Path, certs: &Path) -> anyhow::Result<()> {
        let mut init = vec!["certs".into(), "init".into(), "--out".into()];
        init.push(certs.display().to_string());
        if let Some(ns) = &self.netns {
            for id in 1..=NODES {
                init.extend(["--node-host".into(), ns.address(id).to_string()]);
            }
        }
        run_cli(exe, &init, &self.dir.join("setup.log")).await
    }

    pub fn describe(&self) -> String {
        let power = match (self.mounts.is_empty(), self.writeback) {
            (true, _) => String::new(),
            (false, None) => ", data on power-loss filesystems".into(),
            (false, Some(period)) => format!(
                ", data on power-loss filesystems (writeback every {} ms)",
                period.as_millis()
            ),
        };
        match &self.netns {
            Some(ns) => format!("process: node N in {}{power}", ns.describe()),
            None => format!("process: nodes on 127.0.0.1{power}"),
        }
    }

    /// Whether node `id` runs, and whether it is paused.
    pub fn state(&self, id: u64) -> anyhow::Result<(bool, bool)> {
        Ok(self.processes.state(id)?)
    }

    /// Starts node `id`'s process; its log (node-N.log) is appended to.
    pub fn spawn(&mut self, id: u64) -> anyhow::Result<()> {
        Ok(self.processes.start(id)?)
    }

    /// SIGKILL, then reaps the process.
    pub async fn kill(&mut self, id: u64) -> anyhow::Result<()> {
        Ok(self.processes.kill(id).await?)
    }

    pub fn pause(&mut self, id: u64) -> anyhow::Result<()> {
        Ok(self.processes.pause(id)?)
    }

    pub fn resume(&mut self, id: u64) -> anyhow::Result<()> {
        Ok(self.processes.resume(id)?)
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
        self.processes
            .exited()
            .into_iter()
            .map(|(id, how)| format!("node {id} exited by itself ({how})"))
            .collect()
    }

    /// Stops every node (SIGCONT, SIGTERM, then SIGKILL after a grace),
    /// unmounts the power-loss filesystems and removes the namespaces.
    pub async fn stop(&mut self) {
        if let Err(e) = self.processes.stop_all().await {
            eprintln!("arqonbus-chaos: stopping the nodes: {e}");
        }
        for (id, mount) in self.mounts.drain(..) {
            if let Err(e) = mount.unmount() {
                eprintln!("arqonbus-chaos: unmounting node {id}'s filesystem: {e}");
            }
        }
        if let Some(ns) = self.netns.take() {
            ns.remove().await;
        }
    }
}

/// Where each node listens, and how it is started: in its namespace, or on
/// a free loopback port.
fn specs(netns: Option<&Namespaces>) -> anyhow::Result<Vec<NodeSpec>> {
    Ok(match netns {
        Some(ns) => (1..=NODES)
            .map(|id| NodeSpec {
                id,
                listen: format!("{}:{NETNS_PORT}", ns.address(id)),
                prefix: vec!["ip".into(), "netns".into(), "exec".into(), ns.name(id)],
            })
            .collect(),
        None => (1..=NODES)
            .zip(free_ports(NODES as usize)?)
            .map(|(id, port)| NodeSpec {
                id,
                listen: format!("127.0.0.1:{port}"),
                prefix: Vec::new(),
            })
            .collect(),
    })
}
