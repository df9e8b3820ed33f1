//! One network namespace per node for the process back end, so that a node
//! can be cut off from its peers (root only). Each namespace has a veth
//! pair whose other end is on a bridge in the host's namespace; node N is
//! 10.213.S.N/24 and the host (the harness and its clients) is
//! 10.213.S.254 on the bridge. The names carry the harness's process id
//! (S comes from it too), so two runs on one machine do not collide. The
//! bridge is let through the host's FORWARD chain, which Docker's engine
//! sets to drop. Everything is removed by [`Namespaces::remove`]; what a
//! run that was killed left behind is removed by the next one, since its
//! process is gone.

use super::tools::{args, run_tool};
use anyhow::Context;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// The namespaces, bridge and rules one run made.
pub struct Namespaces {
    tag: u32,
    subnet: u8,
    nodes: u64,
    log: PathBuf,
}

impl Namespaces {
    /// Makes the bridge and one namespace per node; undoes it on failure.
    pub async fn create(nodes: u64, log: &Path) -> anyhow::Result<Namespaces> {
        let pid = std::process::id();
        remove_stale(nodes, log).await;
        let made = Namespaces::of(pid, nodes, log);
        if let Err(e) = made.build().await {
            made.remove().await;
            return Err(e).context(
                "setting up network namespaces for partitions (needs root and iproute2's `ip`)",
            );
        }
        Ok(made)
    }

    /// The names and addresses of the run of harness process `pid`.
    fn of(pid: u32, nodes: u64, log: &Path) -> Namespaces {
        Namespaces {
            tag: pid,
            subnet: u8::try_from(pid % 200 + 20).unwrap_or(20),
            nodes,
            log: log.to_path_buf(),
        }
    }

    async fn build(&self) -> anyhow::Result<()> {
        let bridge = self.bridge();
        let host = format!("{}/24", self.host_address());
        self.ip(args(["link", "add", &bridge, "type", "bridge"]))
            .await?;
        self.ip(args(["addr", "add", &host, "dev", &bridge]))
            .await?;
        self.ip(args(["link", "set", &bridge, "up"])).await?;
        self.forward("-I").await?;
        for id in 1..=self.nodes {
            let (name, veth) = (self.name(id), self.veth(id));
            let address = format!("{}/24", self.address(id));
            self.ip(args(["netns", "add", &name])).await?;
            let pair = ["link", "add", &veth, "type", "veth", "peer"];
            let mut link = args(pair);
            link.extend(args(["name", "eth0", "netns", &name]));
            self.ip(link).await?;
            self.ip(args(["link", "set", &veth, "master", &bridge, "up"]))
                .await?;
            self.ip(args(["-n", &name, "addr", "add", &address, "dev", "eth0"]))
                .await?;
            self.ip(args(["-n", &name, "link", "set", "eth0", "up"]))
                .await?;
            self.ip(args(["-n", &name, "link", "set", "lo", "up"]))
                .await?;
        }
        Ok(())
    }

    async fn ip(&self, args: Vec<String>) -> anyhow::Result<()> {
        run_tool("ip", &args, &self.log).await.map(drop)
    }

    /// Adds (`-I`) or deletes (`-D`) the rule letting the bridge forward.
    async fn forward(&self, action: &str) -> anyhow::Result<()> {
        let bridge = self.bridge();
        let rule = ["-w", action, "FORWARD", "-i", &bridge, "-o", &bridge];
        let mut rule = args(rule);
        rule.extend(args(["-j", "ACCEPT"]));
        run_tool("iptables", &rule, &self.log).await.map(drop)
    }

    /// Node `id`'s namespace.
    pub fn name(&self, id: u64) -> String {
        format!("arqonbus-{}-{id}", self.tag)
    }

    /// Node `id`'s address in its namespace.
    pub fn address(&self, id: u64) -> Ipv4Addr {
        Ipv4Addr::new(10, 213, self.subnet, u8::try_from(id).unwrap_or(0))
    }

    /// Where node N runs, for the summary.
    pub fn describe(&self) -> String {
        format!(
            "network namespace arqonbus-{}-N at 10.213.{}.N",
            self.tag, self.subnet
        )
    }

    fn host_address(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 213, self.subnet, 254)
    }

    fn bridge(&self) -> String {
        format!("abr{}", self.tag)
    }

    fn veth(&self, id: u64) -> String {
        format!("ab{}v{id}", self.tag)
    }

    /// Removes the namespaces, the bridge and the FORWARD rule; what is
    /// already gone is skipped (the failures are in the log).
    pub async fn remove(&self) {
        for id in 1..=self.nodes {
            let _ = self.ip(args(["netns", "del", &self.name(id)])).await;
        }
        let _ = self.ip(args(["link", "del", &self.bridge()])).await;
        let _ = self.forward("-D").await;
    }
}

/// Removes the namespaces, bridges and rules of earlier runs whose harness
/// process is gone (killed before it could clean up).
async fn remove_stale(nodes: u64, log: &Path) {
    let Ok(listed) = run_tool("ip", &args(["netns", "list"]), log).await else {
        return;
    };
    let mut pids: Vec<u32> = listed.lines().filter_map(stale_pid).collect();
    pids.sort_unstable();
    pids.dedup();
    for pid in pids {
        Namespaces::of(pid, nodes, log).remove().await;
    }
}

/// The harness pid of an `ip netns list` line naming one of our namespaces
/// (`arqonbus-PID-N ...`), if that process no longer exists.
fn stale_pid(line: &str) -> Option<u32> {
    let name = line.split_whitespace().next()?;
    let (pid, node) = name.strip_prefix("arqonbus-")?.split_once('-')?;
    node.parse::<u64>().ok()?;
    let pid: u32 = pid.parse().ok()?;
    let alive = Path::new(&format!("/proc/{pid}")).exists();
    (!alive).then_some(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names_fit_the_kernel_limit() {
        // IFNAMSIZ is 16 with the terminating NUL.
        // Linux pids go up to 2^22.
        let ns = Namespaces::of(4_194_304, 3, Path::new("log"));
        for name in [ns.bridge(), ns.veth(3)] {
            assert!(name.len() <= 15, "{name} is too long for an interface");
        }
        assert_eq!(ns.address(2), Ipv4Addr::new(10, 213, 124, 2));
        assert_eq!(ns.name(2), "arqonbus-4194304-2");
    }

    #[test]
    fn only_namespaces_of_gone_harnesses_are_stale() {
        let own = std::process::id();
        assert_eq!(stale_pid(&format!("arqonbus-{own}-1 (id: 3)")), None);
        assert_eq!(stale_pid("arqonbus-4194305-2"), Some(4_194_305));
        assert_eq!(stale_pid("someone-else-1"), None);
        assert_eq!(stale_pid("arqonbus-notapid-1"), None);
    }
}
