//! `arqonbus bench ...`: prints benchmark figures as text or JSON.

use crate::bench::{cluster, flood, sessions, storage};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum Bench {
    /// Log-store appends per second (flushed), single and batched, against
    /// the raw fdatasync rate of the disk.
    Storage(StorageArgs),
    /// Three local nodes: leader SIGKILL → new leader and → first write
    /// (median and worst of --runs), and write latency with 1 and many clients.
    Cluster(ClusterArgs),
    /// Three local nodes and proposer sessions: telemetry samples/s accepted
    /// by the leader, proposal round trips with 1 and many sessions, time
    /// degraded after a leader kill and after a lost quorum returns.
    Sessions(SessionsArgs),
    /// Three local nodes flooded at once (a viewer's largest frames,
    /// thousands of idle streams, slow-loris streams, forbidden requests)
    /// around a well-behaved proposer: its latency, node_status latency,
    /// elections, each node's peak memory, the audit entries left.
    Flood(FloodArgs),
    /// Three local nodes, bursts of compressed frames from a viewer and a
    /// proposer at a follower and the leader: node_status latency on
    /// another connection during the bursts, elections, what was refused.
    Bursts(BurstsArgs),
}

#[derive(Debug, Args)]
pub struct BurstsArgs {
    /// Directory for the nodes' data (a fresh temporary one under it).
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Bursts to send.
    #[arg(long, default_value_t = 11)]
    pub bursts: usize,
    /// Frames per burst from each of the three senders.
    #[arg(long, default_value_t = 64)]
    pub frames: usize,
}

#[derive(Debug, Args)]
pub struct FloodArgs {
    /// Directory for the nodes' data (a fresh temporary one under it).
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Seconds of flood.
    #[arg(long, default_value_t = 30.0)]
    pub seconds: f64,
}

#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// Directory for the nodes' data (a fresh temporary one under it).
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Leader kills and quorum losses to time.
    #[arg(long, default_value_t = 10)]
    pub runs: usize,
    /// Proposals per session in the round-trip figures.
    #[arg(long, default_value_t = 200)]
    pub proposals: usize,
    /// Concurrent sessions for the second round-trip figure.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Concurrent telemetry senders.
    #[arg(long, default_value_t = 4)]
    pub senders: usize,
    /// Seconds of telemetry sending.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
}

#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// Directory for the nodes' data (a fresh temporary one under it).
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Leader kills to time.
    #[arg(long, default_value_t = 10)]
    pub runs: usize,
    /// Writes per client in the latency figures.
    #[arg(long, default_value_t = 200)]
    pub writes: usize,
    /// Concurrent clients for the second latency figure.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
}

#[derive(Debug, Args)]
pub struct StorageArgs {
    /// Directory to measure in (on the disk the node would use); a fresh
    /// temporary directory under it is used and removed.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Operations per measurement.
    #[arg(long, default_value_t = 2000)]
    pub count: u64,
    /// Print JSON instead of text.
    #[arg(long, value_parser = ["text", "json"], default_value = "text")]
    pub output: String,
}

pub async fn run(bench: Bench) -> anyhow::Result<i32> {
    match bench {
        Bench::Cluster(args) => {
            let dir = tempfile::Builder::new()
                .prefix("arqonbus-bench-")
                .tempdir_in(&args.dir)?;
            let exe = std::env::current_exe()?;
            let (mut c, operator) = cluster::start(&exe, dir.path()).await?;
            let one = cluster::writes(&c, 1, args.writes).await?;
            let many = cluster::writes(&c, args.clients, args.writes.div_ceil(4).max(1)).await?;
            let failover = cluster::failover(&mut c, &operator, args.runs).await?;
            let figures = serde_json::json!({ "writes_1_client": one, "writes_many_clients": many, "failover": failover });
            println!("{}", serde_json::to_string_pretty(&figures)?);
            Ok(super::exit::OK)
        }
        Bench::Sessions(args) => {
            let dir = tempfile::Builder::new()
                .prefix("arqonbus-bench-")
                .tempdir_in(&args.dir)?;
            let exe = std::env::current_exe()?;
            let (mut c, _) = cluster::start(&exe, dir.path()).await?;
            let telemetry = sessions::telemetry(&c, args.senders, args.seconds).await?;
            let one = sessions::proposals(&c, dir.path(), 1, args.proposals).await?;
            let each = args.proposals.div_ceil(4).max(1);
            let many = sessions::proposals(&c, dir.path(), args.clients, each).await?;
            let degraded = sessions::degraded(&mut c, dir.path(), args.runs).await?;
            let figures = serde_json::json!({
                "telemetry": telemetry,
                "proposals_1_session": one,
                "proposals_many_sessions": many,
                "degraded": degraded,
            });
            println!("{}", serde_json::to_string_pretty(&figures)?);
            Ok(super::exit::OK)
        }
        Bench::Flood(args) => {
            let dir = tempfile::Builder::new()
                .prefix("arqonbus-bench-")
                .tempdir_in(&args.dir)?;
            let exe = std::env::current_exe()?;
            let figures = flood::run(&exe, dir.path(), args.seconds).await?;
            println!("{}", serde_json::to_string_pretty(&figures)?);
            Ok(super::exit::OK)
        }
        Bench::Bursts(args) => {
            let dir = tempfile::Builder::new()
                .prefix("arqonbus-bench-")
                .tempdir_in(&args.dir)?;
            let exe = std::env::current_exe()?;
            let figures = flood::bursts(&exe, dir.path(), args.bursts, args.frames).await?;
            println!("{}", serde_json::to_string_pretty(&figures)?);
            Ok(super::exit::OK)
        }
        Bench::Storage(args) => {
            let dir = tempfile::Builder::new()
                .prefix("arqonbus-bench-")
                .tempdir_in(&args.dir)?;
            let f = storage::run(dir.path(), args.count).await?;
            if args.output == "json" {
                println!("{}", serde_json::to_string_pretty(&f)?);
            } else {
                println!("operations per figure:          {}", f.count);
                println!(
                    "raw fdatasync (the floor):      {:>10.0} /s",
                    f.fdatasync_per_sec
                );
                println!(
                    "log appends, 1 command/entry:   {:>10.0} /s",
                    f.appends_per_sec
                );
                println!(
                    "log appends, {} commands/entry: {:>10.0} /s ({:.0} commands/s)",
                    storage::BATCH,
                    f.batched_appends_per_sec,
                    f.batched_commands_per_sec
                );
            }
            Ok(super::exit::OK)
        }
    }
}
