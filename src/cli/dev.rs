//! `arqonbus dev`: a local three-node cluster on loopback, on exactly the
//! production path (QUIC with mutual TLS, sled, fsync): certificates if
//! missing, three `arqonbus node` processes, bootstrap, then it waits until
//! Ctrl-C and stops the nodes cleanly.

use super::cluster;
use crate::certs::{self, CertDir, InitOptions};
use crate::client::{Client, ClientOptions};
use crate::transport::TlsCredentials;
use anyhow::Context;
use clap::Args;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NODES: u64 = 3;

#[derive(Debug, Args)]
pub struct DevArgs {
    /// Where certificates, data and logs go (kept between runs).
    #[arg(long, default_value = "arqonbus-dev")]
    pub dir: PathBuf,
    /// Node N listens on 127.0.0.1:(base-port + N - 1).
    #[arg(long, default_value_t = 7101)]
    pub base_port: u16,
}

/// The nodes' child processes; stopped with SIGTERM when dropped.
struct Nodes(Vec<Child>);

impl Drop for Nodes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
        }
        for child in &mut self.0 {
            let _ = child.wait();
        }
    }
}

fn spawn_node(dir: &Path, id: u64, port: u16) -> anyhow::Result<Child> {
    let log = std::fs::File::create(dir.join(format!("node-{id}.log")))?;
    let exe = std::env::current_exe().context("finding the arqonbus binary")?;
    Command::new(exe)
        .args(["node", "--id", &id.to_string()])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--data")
        .arg(dir.join(format!("node-{id}")))
        .arg("--certs")
        .arg(dir.join("certs"))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting node {id}"))
}

pub async fn run(args: DevArgs) -> anyhow::Result<i32> {
    let dir = &args.dir;
    std::fs::create_dir_all(dir)?;
    let cert_dir = dir.join("certs");
    if !CertDir::new(&cert_dir).has_ca() {
        certs::init(
            &cert_dir,
            &InitOptions {
                nodes: NODES,
                node_hosts: Vec::new(),
                force: false,
            },
        )?;
    }
    let endpoints: Vec<String> = (0..NODES)
        .map(|i| format!("127.0.0.1:{}", args.base_port + i as u16))
        .collect();
    let mut children = Nodes(Vec::new());
    for (i, _) in endpoints.iter().enumerate() {
        children
            .0
            .push(spawn_node(dir, i as u64 + 1, args.base_port + i as u16)?);
    }
    let client = Client::new(ClientOptions::new(
        endpoints.clone(),
        TlsCredentials::from_dir(&cert_dir, "admin")?,
    ))?;
    wait_until_all_answer(&client, &endpoints, Duration::from_secs(30)).await?;
    if let crate::proto::operator::OperatorReply::Done { message } = cluster::init(&client).await? {
        println!("{message}");
    }
    let list = endpoints.join(",");
    let certs = cert_dir.display();
    println!(
        "ArqonBus dev cluster: three nodes on {list} (logs in {}/node-N.log)",
        dir.display()
    );
    println!("Use it from another terminal with:");
    println!("  export ARQONBUS_ENDPOINTS={list} ARQONBUS_CERTS={certs} ARQONBUS_USER=operator");
    println!("  arqonbus cluster status");
    println!(
        "Ctrl-C stops the nodes (their data stays in {}).",
        dir.display()
    );
    tokio::select! {
        r = super::node::wait_for_signal() => r?,
        code = watch_children(&mut children) => anyhow::bail!("a node exited unexpectedly ({code})"),
    }
    drop(children);
    Ok(super::exit::OK)
}

/// Polls until every endpoint answers a status request (nodes take a
/// moment to bind and open their stores).
pub async fn wait_until_all_answer(
    client: &Client,
    endpoints: &[String],
    bound: Duration,
) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        let answered = answering(client, endpoints).await;
        if answered == endpoints.len() {
            return Ok(());
        }
        if start.elapsed() > bound {
            anyhow::bail!(
                "only {answered} of {} nodes answered within {bound:?}",
                endpoints.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How many endpoints answer a status request now.
async fn answering(client: &Client, endpoints: &[String]) -> usize {
    let req = crate::proto::Request::Operate(crate::proto::operator::OperatorRequest::NodeStatus);
    let mut n = 0;
    for e in endpoints {
        if client.call_node(e, &req).await.is_ok() {
            n += 1;
        }
    }
    n
}

/// Returns when any node process exits.
async fn watch_children(children: &mut Nodes) -> String {
    loop {
        for child in &mut children.0 {
            if let Ok(Some(status)) = child.try_wait() {
                return status.to_string();
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
