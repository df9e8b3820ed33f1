//! `arqonbus dev`: a local three-node cluster on loopback, on exactly the
//! production path (QUIC with mutual TLS, sled, fsync): certificates if
//! missing, three `arqonbus node` processes, bootstrap, then it waits until
//! Ctrl-C and stops the nodes cleanly.

use super::cluster;
use crate::local_cluster::LocalCluster;
use crate::proto::operator::OperatorReply;
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

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

pub async fn run(args: DevArgs) -> anyhow::Result<i32> {
    let exe = std::env::current_exe().context("finding the arqonbus binary")?;
    let ports = (0..NODES as u16).map(|i| args.base_port + i).collect();
    let mut nodes = LocalCluster::new(&exe, &args.dir, NODES, Some(ports), &[])?;
    nodes.start_all()?;
    let client = nodes.client("admin")?;
    nodes
        .wait_until_up(&client, &nodes.ids(), Duration::from_secs(30))
        .await?;
    if let OperatorReply::Done { message } = cluster::init(&client).await? {
        println!("{message}");
    }
    let list = nodes.endpoints().join(",");
    let dir = args.dir.display();
    println!("ArqonBus dev cluster: three nodes on {list} (logs in {dir}/node-N.log)");
    println!("Use it from another terminal with:");
    println!(
        "  export ARQONBUS_ENDPOINTS={list} ARQONBUS_CERTS={} ARQONBUS_USER=operator",
        nodes.cert_dir().display()
    );
    println!("  arqonbus cluster status");
    println!("Ctrl-C stops the nodes (their data stays in {dir}).");
    tokio::select! {
        r = super::node::wait_for_signal() => r?,
        exited = watch(&mut nodes) => anyhow::bail!("node {} exited unexpectedly ({})", exited.0, exited.1),
    }
    nodes.stop_all()?;
    Ok(super::exit::OK)
}

/// Returns when a node process exits by itself.
async fn watch(nodes: &mut LocalCluster) -> (u64, String) {
    loop {
        if let Some(exited) = nodes.exited() {
            return exited;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
