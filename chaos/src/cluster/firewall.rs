//! Network partitions by packet filtering inside one node's own network
//! namespace: `iptables` DROP rules on the node's INPUT (packets from a
//! peer) and OUTPUT (packets to a peer) chains. Only peer addresses are
//! matched, so the harness and its clients keep reaching every node, as a
//! client on the far side of a split would. Mending flushes the two chains
//! in the namespaces that were cut; the namespaces belong to the nodes, so
//! nothing else lives there.

use super::tools::run_tool;
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
    /// The command line running `iptables -w RULE` inside the namespace.
    fn command(&self, rule: &[String]) -> (&'static str, Vec<String>) {
        let (program, mut args) = match self {
            Netns::Named(name) => ("ip", vec!["netns".into(), "exec".into(), name.clone()]),
            Netns::OfProcess(pid) => ("nsenter", vec!["-t".into(), pid.to_string(), "-n".into()]),
        };
        args.extend(["iptables".to_string(), "-w".to_string()]);
        args.extend(rule.iter().cloned());
        (program, args)
    }

    async fn iptables(&self, rule: &[String], log: &Path) -> anyhow::Result<()> {
        let (program, args) = self.command(rule);
        run_tool(program, &args, log).await.map(drop)
    }
}

/// The rules that drop the node's traffic with `peers` in `direction`.
fn cut_rules(peers: &[IpAddr], direction: Direction) -> Vec<Vec<String>> {
    let mut rules = Vec::new();
    for peer in peers.iter().map(IpAddr::to_string) {
        rules.push(
            ["-I", "INPUT", "-s", &peer, "-j", "DROP"]
                .map(String::from)
                .to_vec(),
        );
        if direction == Direction::Both {
            rules.push(
                ["-I", "OUTPUT", "-d", &peer, "-j", "DROP"]
                    .map(String::from)
                    .to_vec(),
            );
        }
    }
    rules
}

/// Drops the node's traffic with `peers` in `direction`.
pub async fn cut(
    netns: &Netns,
    peers: &[IpAddr],
    direction: Direction,
    log: &Path,
) -> anyhow::Result<()> {
    for rule in cut_rules(peers, direction) {
        netns.iptables(&rule, log).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn peers() -> Vec<IpAddr> {
        vec![[10, 0, 0, 2].into(), [10, 0, 0, 3].into()]
    }

    #[test]
    fn a_two_way_cut_drops_both_directions_for_each_peer() {
        let rules = cut_rules(&peers(), Direction::Both);
        let text: Vec<String> = rules.iter().map(|r| r.join(" ")).collect();
        assert_eq!(
            text,
            [
                "-I INPUT -s 10.0.0.2 -j DROP",
                "-I OUTPUT -d 10.0.0.2 -j DROP",
                "-I INPUT -s 10.0.0.3 -j DROP",
                "-I OUTPUT -d 10.0.0.3 -j DROP",
            ]
        );
    }

    #[test]
    fn a_one_way_cut_only_drops_what_the_node_receives() {
        let rules = cut_rules(&peers(), Direction::Inbound);
        assert_eq!(rules.len(), 2);
        assert!(rules.iter().all(|r| r[1] == "INPUT"));
    }

    #[test]
    fn rules_run_inside_the_node_namespace() {
        let rule = ["-F".to_string(), "INPUT".to_string()];
        let (program, args) = Netns::Named("arqonbus-7-1".into()).command(&rule);
        assert_eq!(program, "ip");
        assert_eq!(
            args.join(" "),
            "netns exec arqonbus-7-1 iptables -w -F INPUT"
        );
        let (program, args) = Netns::OfProcess(4242).command(&rule);
        assert_eq!(program, "nsenter");
        assert_eq!(args.join(" "), "-t 4242 -n iptables -w -F INPUT");
    }
}
