//! Network partitions by packet filtering inside one node's own network
//! namespace: `iptables` DROP rules on the node's INPUT (packets from a
//! peer) and OUTPUT (packets to a peer) chains. Only peer addresses are
//! matched, so the harness and its clients keep reaching every node, as a
//! client on the far side of a split would. Mending flushes the two chains
//! in the namespaces that were cut; the namespaces belong to the nodes, so
//! nothing else lives there.

use super::run_tool;
use std::net::IpAddr;
use std::path::Path;

/// Which packets a cut drops, as seen from the node that is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Nothing in, nothing out.
    Both,
    /// The node hears nothing from its peers; what it sends still arrives.
    Inbound,
}

/// How to run a command inside a node's network namespace.
#[derive(Debug, Clone)]
pub enum Netns {
    /// A named namespace (`ip netns exec NAME`).
    Named(String),
    /// The namespace of a running process (`nsenter -t PID -n`), as for a
    /// container, whose image has no iptables of its own.
    OfProcess(u32),
}

impl Netns {
    /// `iptables ARGS` run inside the namespace.
    async fn iptables(&self, rule: &[String], log: &Path) -> anyhow::Result<()> {
        let (program, mut args) = match self {
            Netns::Named(name) => ("ip", vec!["netns".into(), "exec".into(), name.clone()]),
            Netns::OfProcess(pid) => ("nsenter", vec!["-t".into(), pid.to_string(), "-n".into()]),
        };
        args.extend(["iptables".to_string(), "-w".to_string()]);
        args.extend(rule.iter().cloned());
        run_tool(program, &args, log).await.map(drop)
    }
}

/// Drops the node's traffic with `peers` in `direction`.
pub async fn cut(
    netns: &Netns,
    peers: &[IpAddr],
    direction: Direction,
    log: &Path,
) -> anyhow::Result<()> {
    for peer in peers {
        let peer = peer.to_string();
        let inbound = ["-I", "INPUT", "-s", &peer, "-j", "DROP"].map(String::from);
        netns.iptables(&inbound, log).await?;
        if direction == Direction::Both {
            let outbound = ["-I", "OUTPUT", "-d", &peer, "-j", "DROP"].map(String::from);
            netns.iptables(&outbound, log).await?;
        }
    }
    Ok(())
}

/// Removes every rule [`cut`] added in the namespace.
pub async fn mend(netns: &Netns, log: &Path) -> anyhow::Result<()> {
    for chain in ["INPUT", "OUTPUT"] {
        netns
            .iptables(&["-F".to_string(), chain.to_string()], log)
            .await?;
    }
    Ok(())
}
