//! Node processes: `arqonbus node` started with its own data directory and
//! log file, signalled (SIGKILL, SIGSTOP, SIGCONT, SIGTERM) and reaped
//! within a deadline. Each node may run behind a command prefix (the chaos
//! harness puts nodes in network namespaces with `ip netns exec NAME`,
//! which execs the node, so the child's pid is the node's).

use crate::error::{Result, TestkitError};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::process::{Child, Command};

/// How long a killed process may take to be reaped, and how long a clean
/// stop may take before it is killed.
const REAP_DEADLINE: Duration = Duration::from_secs(5);

/// How to run one node.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    pub id: u64,
    /// `--listen` (and where clients reach it).
    pub listen: String,
    /// Words run before the executable, e.g. `ip netns exec NAME`.
    pub prefix: Vec<String>,
}

struct NodeProc {
    spec: NodeSpec,
    child: Option<Child>,
    paused: bool,
    starts: u32,
}

/// Node processes under one directory: `DIR/node-N/` holds node N's data
/// and `DIR/node-N.log` its output, appended to across restarts.
pub struct NodeProcesses {
    exe: PathBuf,
    dir: PathBuf,
    certs: PathBuf,
    extra_args: Vec<String>,
    nodes: BTreeMap<u64, NodeProc>,
}

impl NodeProcesses {
    /// Nothing runs yet; `certs` must hold `node-N` certificates.
    pub fn new(exe: &Path, dir: &Path, certs: &Path, nodes: Vec<NodeSpec>) -> Self {
        NodeProcesses {
            exe: exe.to_path_buf(),
            dir: dir.to_path_buf(),
            certs: certs.to_path_buf(),
            extra_args: Vec::new(),
            nodes: nodes
                .into_iter()
                .map(|spec| {
                    let node = NodeProc {
                        spec,
                        child: None,
                        paused: false,
                        starts: 0,
                    };
                    (node.spec.id, node)
                })
                .collect(),
        }
    }

    /// Arguments added to every node's command line.
    pub fn with_args(mut self, args: &[&str]) -> Self {
        self.extra_args = args.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn ids(&self) -> Vec<u64> {
        self.nodes.keys().copied().collect()
    }

    pub fn spec(&self, id: u64) -> Result<&NodeSpec> {
        Ok(&self.node(id)?.spec)
    }

    pub fn log_path(&self, id: u64) -> PathBuf {
        self.dir.join(format!("node-{id}.log"))
    }

    pub fn data_dir(&self, id: u64) -> PathBuf {
        self.dir.join(format!("node-{id}"))
    }

    fn node(&self, id: u64) -> Result<&NodeProc> {
        self.nodes.get(&id).ok_or(TestkitError::NoSuchNode(id))
    }

    fn node_mut(&mut self, id: u64) -> Result<&mut NodeProc> {
        self.nodes.get_mut(&id).ok_or(TestkitError::NoSuchNode(id))
    }

    /// Whether node `id` runs, and whether it is paused.
    pub fn state(&self, id: u64) -> Result<(bool, bool)> {
        let node = self.node(id)?;
        Ok((node.child.is_some(), node.paused))
    }

    pub fn is_running(&self, id: u64) -> bool {
        self.nodes.get(&id).is_some_and(|n| n.child.is_some())
    }

    /// Starts node `id`; its log gets a line saying which start this is.
    pub fn start(&mut self, id: u64) -> Result<()> {
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path(id))?;
        let mut command = self.command(id)?;
        let node = self.node_mut(id)?;
        if node.child.is_some() {
            return Err(TestkitError::AlreadyRunning(id));
        }
        node.starts += 1;
        writeln!(log, "=== testkit: start #{} of node {id}", node.starts)?;
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()?;
        node.child = Some(child);
        node.paused = false;
        Ok(())
    }

    fn command(&self, id: u64) -> Result<Command> {
        let spec = &self.node(id)?.spec;
        let mut command = match spec.prefix.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(&self.exe);
                c
            }
            None => Command::new(&self.exe),
        };
        command
            .args(["node", "--id", &id.to_string(), "--listen", &spec.listen])
            .arg("--data")
            .arg(self.data_dir(id))
            .arg("--certs")
            .arg(&self.certs)
            .args(&self.extra_args);
        Ok(command)
    }

    pub fn start_all(&mut self) -> Result<()> {
        for id in self.ids() {
            self.start(id)?;
        }
        Ok(())
    }

    /// Node `id`'s process id, while it runs.
    pub fn process_id(&self, id: u64) -> Option<u32> {
        self.nodes.get(&id)?.child.as_ref()?.id()
    }

    fn pid(&self, id: u64) -> Result<Pid> {
        let pid = self
            .node(id)?
            .child
            .as_ref()
            .and_then(Child::id)
            .ok_or(TestkitError::NotRunning(id))?;
        Ok(Pid::from_raw(pid as i32))
    }

    /// Node `id`'s resident memory, now and at its peak.
    pub fn memory(&self, id: u64) -> Result<crate::Memory> {
        crate::memory::memory(self.pid(id)?.as_raw() as u32)
    }

    /// Resets node `id`'s peak resident memory to what it holds now.
    pub fn reset_peak_memory(&self, id: u64) -> Result<()> {
        crate::memory::reset_peak(self.pid(id)?.as_raw() as u32)
    }

    fn signal(&self, id: u64, signal: Signal) -> Result<()> {
        kill(self.pid(id)?, signal).map_err(|e| TestkitError::Signal {
            id,
            signal: signal.to_string(),
            reason: e.to_string(),
        })
    }

    /// SIGKILL, then reaps the process.
    pub async fn kill(&mut self, id: u64) -> Result<()> {
        self.signal(id, Signal::SIGKILL)?;
        self.reap(id, "SIGKILL").await.map(|_| ())
    }

    /// SIGTERM (a clean stop) and waits for the exit; a node that does not
    /// stop within the deadline is killed and the timeout reported.
    pub async fn stop(&mut self, id: u64) -> Result<ExitStatus> {
        let _ = self.signal(id, Signal::SIGCONT);
        self.signal(id, Signal::SIGTERM)?;
        match self.reap(id, "SIGTERM").await {
            Err(TestkitError::Timeout { what, within }) => {
                let _ = self.kill(id).await;
                Err(TestkitError::Timeout { what, within })
            }
            other => other,
        }
    }

    async fn reap(&mut self, id: u64, after: &str) -> Result<ExitStatus> {
        let node = self.node_mut(id)?;
        let child = node.child.as_mut().ok_or(TestkitError::NotRunning(id))?;
        let status = tokio::time::timeout(REAP_DEADLINE, child.wait())
            .await
            .map_err(|_| TestkitError::Timeout {
                what: format!("node {id} exiting after {after}"),
                within: REAP_DEADLINE,
            })??;
        node.child = None;
        node.paused = false;
        Ok(status)
    }

    pub fn pause(&mut self, id: u64) -> Result<()> {
        self.signal(id, Signal::SIGSTOP)?;
        self.node_mut(id)?.paused = true;
        Ok(())
    }

    pub fn resume(&mut self, id: u64) -> Result<()> {
        self.signal(id, Signal::SIGCONT)?;
        self.node_mut(id)?.paused = false;
        Ok(())
    }

    /// Nodes whose process exited by itself since the last look, with how.
    pub fn exited(&mut self) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        for (id, node) in &mut self.nodes {
            if let Some(child) = &mut node.child {
                if let Ok(Some(status)) = child.try_wait() {
                    out.push((*id, status.to_string()));
                    node.child = None;
                }
            }
        }
        out
    }

    /// Stops every running node cleanly (killing any that will not stop).
    pub async fn stop_all(&mut self) -> Result<()> {
        let mut first_error = None;
        for id in self.ids() {
            if self.is_running(id) {
                if let Err(e) = self.stop(id).await {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for NodeProcesses {
    fn drop(&mut self) {
        for node in self.nodes.values_mut() {
            if let Some(mut child) = node.child.take() {
                if let Some(pid) = child.id() {
                    let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
                }
                let _ = child.start_kill();
                let _ = child.try_wait();
            }
        }
    }
}
