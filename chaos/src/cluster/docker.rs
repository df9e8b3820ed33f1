//! The docker back end: the three containers of `cluster/docker-compose.yml`
//! under the compose project `arqonbus-chaos` (its own container names,
//! volumes, network and free host ports, so a cluster from `cluster/up.sh`
//! is left alone). The image is built from the harness's own `arqonbus`
//! binary, which must be the static build. Clients on the host dial the
//! nodes' names (`nodeN:7100`) at the published ports. Kill is
//! `docker kill` (SIGKILL) and `docker start`; pause is `docker pause`;
//! partitions are iptables rules entered into a container's network
//! namespace from the host. At the end each container's log is saved as
//! node-N.log and the project is removed with its volumes.

use super::firewall::{self, Direction, Netns};
use super::tools::{args, run_cli, run_tool, run_tool_with_env};
use super::{Access, NODES};
use anyhow::{bail, Context};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The compose project (and container name prefix) of chaos runs.
const PROJECT: &str = "arqonbus-chaos";
/// The image chaos runs build and use.
const IMAGE: &str = "arqonbus:chaos";

/// One container.
struct Container {
    name: String,
    running: bool,
    paused: bool,
}

/// The containers of one run.
pub struct DockerNodes {
    dir: PathBuf,
    compose: Vec<String>,
    env: Vec<(String, String)>,
    containers: Vec<Container>,
    /// Containers with partition rules: node id and the pid whose network
    /// namespace holds them.
    cut: Vec<(u64, u32)>,
}

impl DockerNodes {
    /// Certificates for the containers' names, the image, and the created
    /// (not started) containers; the caller starts them.
    pub async fn create(
        exe: &Path,
        dir: &Path,
        certs: &Path,
        compose_file: &Path,
    ) -> anyhow::Result<(DockerNodes, Access)> {
        // A dynamically linked build cannot start in the scratch image:
        // say so now, not after a minute of waiting for the containers.
        super::static_binary::require_static(exe)?;
        let log = dir.join("docker.log");
        run_tool(
            "docker",
            &args(["version", "--format", "{{.Server.Version}}"]),
            &log,
        )
        .await
        .context("the docker back end needs a running Docker engine")?;
        let compose_file = compose_file
            .canonicalize()
            .with_context(|| format!("the compose file {}", compose_file.display()))?;
        let mut init = args(["certs", "init", "--out"]);
        init.push(certs.display().to_string());
        for id in 1..=NODES {
            init.extend(["--node-host".to_string(), format!("node{id}")]);
        }
        run_cli(exe, &init, &dir.join("setup.log")).await?;
        let mounts = dir.join("containers");
        for id in 1..=NODES {
            let own = mounts.join(format!("node-{id}"));
            std::fs::create_dir_all(&own)?;
            for file in [
                "ca.pem".into(),
                format!("node-{id}.pem"),
                format!("node-{id}.key"),
            ] {
                std::fs::copy(certs.join(&file), own.join(&file))
                    .with_context(|| format!("copying {file} for node {id}"))?;
            }
        }
        build_image(exe, &compose_file, dir, &log).await?;
        let ports = arqonbus_testkit::free_ports(NODES as usize)?;
        let mut env = vec![
            ("ARQONBUS_PROJECT".to_string(), PROJECT.to_string()),
            ("ARQONBUS_IMAGE".to_string(), IMAGE.to_string()),
            (
                "ARQONBUS_CONTAINER_CERTS".to_string(),
                mounts.display().to_string(),
            ),
        ];
        let mut resolve = BTreeMap::new();
        for (id, port) in (1..).zip(&ports) {
            env.push((format!("ARQONBUS_PORT_NODE{id}"), port.to_string()));
            resolve.insert(format!("node{id}:7100"), ([127, 0, 0, 1], *port).into());
        }
        let compose = vec![
            "-p".to_string(),
            PROJECT.to_string(),
            "-f".to_string(),
            compose_file.display().to_string(),
        ];
        let nodes = DockerNodes {
            dir: dir.to_path_buf(),
            compose,
            env,
            containers: (1..=NODES)
                .map(|id| Container {
                    name: format!("{PROJECT}-node{id}"),
                    running: false,
                    paused: false,
                })
                .collect(),
            cut: Vec::new(),
        };
        // Whatever an interrupted earlier run left behind goes first.
        nodes
            .compose(args([
                "down",
                "--volumes",
                "--remove-orphans",
                "--timeout",
                "1",
            ]))
            .await?;
        nodes.compose(args(["up", "--no-start"])).await?;
        let access = Access {
            endpoints: (1..=NODES).map(|id| format!("node{id}:7100")).collect(),
            certs: certs.to_path_buf(),
            resolve,
        };
        Ok((nodes, access))
    }

    async fn compose(&self, command: Vec<String>) -> anyhow::Result<String> {
        let mut all = self.compose.clone();
        all.extend(command);
        run_tool_with_env("docker-compose", &all, &self.env, &self.log()).await
    }

    async fn docker(&self, command: Vec<String>) -> anyhow::Result<String> {
        run_tool("docker", &command, &self.log()).await
    }

    fn log(&self) -> PathBuf {
        self.dir.join("docker.log")
    }

    pub fn describe(&self) -> String {
        format!("docker: compose project {PROJECT}, image {IMAGE}")
    }

    fn container(&self, id: u64) -> anyhow::Result<&Container> {
        let index = usize::try_from(id).ok().and_then(|i| i.checked_sub(1));
        index
            .and_then(|i| self.containers.get(i))
            .with_context(|| format!("no node {id}"))
    }

    fn container_mut(&mut self, id: u64) -> anyhow::Result<&mut Container> {
        let index = usize::try_from(id).ok().and_then(|i| i.checked_sub(1));
        index
            .and_then(|i| self.containers.get_mut(i))
            .with_context(|| format!("no node {id}"))
    }

    fn name(&self, id: u64) -> anyhow::Result<String> {
        Ok(self.container(id)?.name.clone())
    }

    /// Whether node `id`'s container runs, and whether it is paused.
    pub fn state(&self, id: u64) -> anyhow::Result<(bool, bool)> {
        let c = self.container(id)?;
        Ok((c.running, c.paused))
    }

    pub async fn start(&mut self, id: u64) -> anyhow::Result<()> {
        let name = self.name(id)?;
        self.docker(args(["start", &name])).await?;
        let c = self.container_mut(id)?;
        (c.running, c.paused) = (true, false);
        Ok(())
    }

    /// SIGKILL to the node in the container; returns once it has stopped.
    pub async fn kill(&mut self, id: u64) -> anyhow::Result<()> {
        let name = self.name(id)?;
        self.docker(args(["kill", &name])).await?;
        self.docker(args(["wait", &name])).await?;
        let c = self.container_mut(id)?;
        (c.running, c.paused) = (false, false);
        Ok(())
    }

    pub async fn pause(&mut self, id: u64) -> anyhow::Result<()> {
        let name = self.name(id)?;
        self.docker(args(["pause", &name])).await?;
        self.container_mut(id)?.paused = true;
        Ok(())
    }

    pub async fn resume(&mut self, id: u64) -> anyhow::Result<()> {
        let name = self.name(id)?;
        self.docker(args(["unpause", &name])).await?;
        self.container_mut(id)?.paused = false;
        Ok(())
    }

    /// The pid of the container's process (its network namespace).
    async fn pid(&self, id: u64) -> anyhow::Result<u32> {
        let name = self.name(id)?;
        let out = self
            .docker(args(["inspect", "-f", "{{.State.Pid}}", &name]))
            .await?;
        match out.trim().parse::<u32>() {
            Ok(pid) if pid > 0 => Ok(pid),
            _ => bail!("container {name} has no process (pid {:?})", out.trim()),
        }
    }

    /// The container's address on the compose network.
    async fn address(&self, id: u64) -> anyhow::Result<IpAddr> {
        let name = self.name(id)?;
        let format = "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}";
        let out = self.docker(args(["inspect", "-f", format, &name])).await?;
        out.trim()
            .parse()
            .with_context(|| format!("container {name} has no address ({:?})", out.trim()))
    }

    /// Drops node `id`'s traffic with `peers` inside its container's
    /// network namespace.
    pub async fn cut(
        &mut self,
        id: u64,
        peers: &[u64],
        direction: Direction,
    ) -> anyhow::Result<()> {
        let pid = self.pid(id).await?;
        let mut addresses = Vec::new();
        for peer in peers {
            addresses.push(self.address(*peer).await?);
        }
        self.cut.push((id, pid));
        firewall::cut(&Netns::OfProcess(pid), &addresses, direction, &self.log()).await
    }

    /// Removes every partition rule. A container that stopped since took
    /// its namespace, and its rules, with it.
    pub async fn mend(&mut self) -> anyhow::Result<()> {
        while let Some((id, pid)) = self.cut.last().copied() {
            let running = self.container(id)?.running;
            if running && self.pid(id).await.ok() == Some(pid) {
                firewall::mend(&Netns::OfProcess(pid), &self.log()).await?;
            }
            self.cut.pop();
        }
        Ok(())
    }

    /// Containers that stopped without the harness stopping them.
    pub async fn exited(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        for id in 1..=NODES {
            let Ok(name) = self.name(id) else { continue };
            if !self.container(id).map(|c| c.running).unwrap_or(false) {
                continue;
            }
            let format = "{{.State.Running}} {{.State.ExitCode}}";
            match self.docker(args(["inspect", "-f", format, &name])).await {
                Ok(state) if state.starts_with("true") => {}
                Ok(state) => {
                    let code = state.split_whitespace().nth(1).unwrap_or("?").to_string();
                    out.push(format!(
                        "node {id}'s container exited by itself (exit code {code})"
                    ));
                    if let Ok(c) = self.container_mut(id) {
                        c.running = false;
                    }
                }
                Err(e) => out.push(format!("node {id}'s container cannot be inspected: {e:#}")),
            }
        }
        out
    }

    /// Writes each container's log so far to node-N.log.
    pub async fn save_logs(&self) {
        for id in 1..=NODES {
            let Ok(name) = self.name(id) else { continue };
            let out = tokio::process::Command::new("docker")
                .args(["logs", &name])
                .output()
                .await;
            if let Ok(out) = out {
                let mut text = out.stdout;
                text.extend(out.stderr);
                let _ = std::fs::write(self.dir.join(format!("node-{id}.log")), text);
            }
        }
    }

    /// Saves each container's log as node-N.log, then removes the
    /// containers, network and volumes.
    pub async fn stop(&mut self) {
        for id in 1..=NODES {
            let Ok(name) = self.name(id) else { continue };
            let _ = self.docker(args(["unpause", &name])).await;
            let _ = self.docker(args(["stop", "--time", "5", &name])).await;
        }
        self.save_logs().await;
        let down = args(["down", "--volumes", "--remove-orphans", "--timeout", "5"]);
        if let Err(e) = self.compose(down).await {
            eprintln!("arqonbus-chaos: removing the compose project failed: {e:#}");
        }
    }
}

/// Builds the image from the binary and the Dockerfile beside the compose
/// file, in a context holding just those two.
async fn build_image(
    exe: &Path,
    compose_file: &Path,
    dir: &Path,
    log: &Path,
) -> anyhow::Result<()> {
    let dockerfile = compose_file
        .parent()
        .context("the compose file has no directory")?
        .join("Dockerfile");
    let context = dir.join("image");
    std::fs::create_dir_all(&context)?;
    std::fs::copy(&dockerfile, context.join("Dockerfile"))
        .with_context(|| format!("copying {}", dockerfile.display()))?;
    std::fs::copy(exe, context.join("arqonbus"))
        .with_context(|| format!("copying {}", exe.display()))?;
    let context = context.display().to_string();
    run_tool("docker", &args(["build", "-q", "-t", IMAGE, &context]), log)
        .await
        .context("building the image")?;
    Ok(())
}
