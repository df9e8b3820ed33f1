//! `arqonbus dev`: a local three-node cluster on loopback, on exactly the
//! production path (QUIC with mutual TLS, sled, fsync): certificates if
//! missing, three `arqonbus node` processes, bootstrap (or "already
//! formed" over existing data), a line naming the leader once one is
//! known, then it waits until Ctrl-C and stops the nodes cleanly.

use super::cluster;
use anyhow::Context;
use arqonbus_proto::operator::OperatorReply;
use arqonbus_testkit::LocalCluster;
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

const NODES: u64 = 3;
/// How long the nodes may take to answer, and to elect a leader.
const STARTUP: Duration = Duration::from_secs(30);

#[derive(Debug, Args)]
pub struct DevArgs {
    /// Where certificates, data and logs go (kept between runs).
    #[arg(long, default_value = "arqonbus-dev")]
    pub dir: PathBuf,
    /// Node N listens on 127.0.0.1:(base-port + N - 1).
    #[arg(long, default_value_t = 7101)]
    pub base_port: u16,
}

pub async fn run(args: DevArgs) -> anyhow::Result<i32> {
    let exe = std::env::current_exe().context("finding the arqonbus binary")?;
    let ports = (0..NODES as u16).map(|i| args.base_port + i).collect();
    let mut nodes = LocalCluster::new(&exe, &args.dir, NODES, Some(ports)).await?;
    nodes.start_all()?;
    let result = serve(&mut nodes, &args).await;
    let stopped = nodes.stop_all().await;
    result?;
    stopped?;
    Ok(super::exit::OK)
}

/// Bootstraps, says where the cluster is, and waits for Ctrl-C (or for a
/// node to exit by itself, which is an error).
async fn serve(nodes: &mut LocalCluster, args: &DevArgs) -> anyhow::Result<()> {
    let client = nodes.client("admin")?;
    nodes.wait_until_up(&client, &nodes.ids(), STARTUP).await?;
    if let OperatorReply::Done { message } = cluster::init(&client).await? {
        println!("{message}");
    }
    let (leader, term) = nodes
        .wait_for_leader(&client, &nodes.ids(), 0, STARTUP)
        .await?;
    let list = nodes.endpoints().join(",");
    let dir = args.dir.display();
    println!(
        "ArqonBus dev cluster: three nodes on {list}; leader is node {leader} ({}), term {term} (logs in {dir}/node-N.log)",
        nodes.endpoint(leader)?
    );
    println!("Use it from another terminal with:");
    println!(
        "  export ARQONBUS_ENDPOINTS={list} ARQONBUS_CERTS={} ARQONBUS_USER=operator",
        nodes.cert_dir().display()
    );
    println!("  arqonbus cluster status");
    println!("Ctrl-C stops the nodes (their data stays in {dir}).");
    tokio::select! {
        r = super::node::wait_for_signal() => Ok(r?),
        (id, how) = watch(nodes) => anyhow::bail!("node {id} exited unexpectedly ({how})"),
    }
}

/// Returns when a node process exits by itself.
async fn watch(nodes: &mut LocalCluster) -> (u64, String) {
    loop {
        if let Some(exited) = nodes.processes().exited().into_iter().next() {
            return exited;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
