//! `arqonbus bench ...`: prints benchmark figures as text or JSON.

use super::GlobalArgs;
use crate::bench::{
    cluster, decisions, flood, gates, rollback, rollout_failover, rollout_load, sessions, storage,
    writes,
};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

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
    /// Acknowledged writes at steady state: a closed loop per client after
    /// a warm-up, at each concurrency; writes/s and p50/p99/p99.9 latency.
    /// Three local nodes under --dir, or the cluster at --endpoints.
    Writes(WritesArgs),
    /// Three local nodes flooded at once (a viewer's largest frames,
    /// thousands of idle streams, slow-loris streams, forbidden requests)
    /// around a well-behaved proposer: its latency, node_status latency,
    /// elections, each node's peak memory, the audit entries left.
    Flood(FloodArgs),
    /// Three local nodes, bursts of compressed frames from a viewer and a
    /// proposer at a follower and the leader: node_status latency on
    /// another connection during the bursts, elections, what was refused.
    Bursts(BurstsArgs),
    /// The constraint engine: decision latency in apply for a proposal of
    /// 10 changes under 50 rules (p50/p99), and proposals decided per
    /// second by concurrent proposers on three local nodes under --dir.
    Decisions(DecisionsArgs),
    /// Per-message cost of each Security I gate in one thread (signature
    /// verification, replay check, rate limit, staleness, all in order),
    /// and what verifying again in `apply` costs at 5,000 decisions/s.
    Gates(GatesArgs),
    /// Three local nodes and an agent on the assignment stream: breaching
    /// batch at the leader → rollback frame at the agent (p50/p99/max/mean
    /// of --breaches), leader SIGKILL → next phase at the agent (--kills),
    /// and leader CPU with --targets rollouts at --rate tagged samples/s.
    Rollback(RollbackArgs),
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Breaches to time (0: skip).
    #[arg(long, default_value_t = 100)]
    pub breaches: usize,
    /// Leader kills to time (0: skip).
    #[arg(long, default_value_t = 5)]
    pub kills: usize,
    /// Targets in active rollouts for the CPU figure (0: skip).
    #[arg(long, default_value_t = 1000)]
    pub targets: usize,
    /// Tagged samples per second sent for the CPU figure, in total.
    #[arg(long, default_value_t = 100_000.0)]
    pub rate: f64,
    /// Seconds measured for the CPU figure.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Run three local nodes with their data in a fresh directory under DIR.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Also write the figures to FILE as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DecisionsArgs {
    /// Concurrent proposers.
    #[arg(long, default_value_t = 64)]
    pub proposers: usize,
    /// Seconds measured.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds of proposing before the measurement starts.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// Decisions timed in apply.
    #[arg(long, default_value_t = 20_000)]
    pub runs: usize,
    /// Run three local nodes with their data in a fresh directory under DIR.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Proposals unsigned, neither the nodes nor the target requiring
    /// signatures (to compare with the default, signed).
    #[arg(long)]
    pub unsigned: bool,
}

#[derive(Debug, Args)]
pub struct GatesArgs {
    /// Messages per gate.
    #[arg(long, default_value_t = 20_000)]
    pub iterations: u64,
}

#[derive(Debug, Args)]
pub struct WritesArgs {
    /// Concurrency levels, measured one after another.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64,256")]
    pub clients: Vec<usize>,
    /// Seconds measured per level.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds of writing before each level's measurement starts.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// Run three local nodes with their data in a fresh directory under
    /// DIR (the default, with DIR = ., unless --endpoints is given).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Also write the figures to FILE as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// On an existing cluster: the target to write to ...
    #[arg(long, default_value = cluster::TARGET_NAME)]
    pub target: String,
    /// ... and its integer parameter.
    #[arg(long, default_value = cluster::PARAMETER)]
    pub parameter: String,
    /// Local nodes only: writes unsigned, nodes not requiring signatures
    /// (to compare with the default, signed).
    #[arg(long)]
    pub unsigned: bool,
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
}

pub async fn run(g: &GlobalArgs, bench: Bench) -> anyhow::Result<i32> {
    match bench {
        Bench::Writes(args) => run_writes(g, args).await,
        Bench::Decisions(args) => run_decisions(g, args).await,
        Bench::Rollback(args) => run_rollback(args).await,
        Bench::Gates(args) => {
            let figures = gates::run(args.iterations.max(1))?;
            println!("{}", serde_json::to_string_pretty(&figures)?);
            Ok(super::exit::OK)
        }
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
            if g.json() {
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

/// `bench writes`: on three local nodes, or on the cluster at --endpoints.
async fn run_writes(g: &GlobalArgs, args: WritesArgs) -> anyhow::Result<i32> {
    anyhow::ensure!(
        args.duration > 0.0 && args.warmup >= 0.0,
        "--duration must be positive and --warmup not negative"
    );
    let plan = writes::Plan {
        target: args.target.clone(),
        parameter: args.parameter.clone(),
        warmup: Duration::from_secs_f64(args.warmup),
        duration: Duration::from_secs_f64(args.duration),
    };
    let mut levels = Vec::new();
    let cluster_desc;
    if args.dir.is_none() && !g.endpoints.is_empty() {
        cluster_desc = format!("the cluster at {}", g.endpoints.join(","));
        for &n in &args.clients {
            levels.push(writes::level(&|| g.client().map_err(client_setup), n, &plan).await?);
        }
    } else {
        let base = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
        let dir = tempfile::Builder::new()
            .prefix("arqonbus-bench-")
            .tempdir_in(&base)?;
        let exe = std::env::current_exe()?;
        let extra: &[&str] = match args.unsigned {
            true => &["--signing-required", "false"],
            false => &[],
        };
        let (c, _) = cluster::start_with(&exe, dir.path(), extra, !args.unsigned).await?;
        let signing = if args.unsigned { "unsigned" } else { "signed" };
        cluster_desc = format!("three local nodes under {}, {signing}", base.display());
        let connect = || {
            let creds = arqonbus_transport::TlsCredentials::from_dir(&c.cert_dir(), "operator")
                .map_err(|e| client_setup(e.into()))?;
            let mut options = arqonbus_client::ClientOptions::new(c.endpoints(), creds);
            options.sign = !args.unsigned;
            arqonbus_client::Client::new(options).map_err(|e| client_setup(e.into()))
        };
        for &n in &args.clients {
            levels.push(writes::level(&connect, n, &plan).await?);
        }
    }
    let figures =
        serde_json::json!({ "workload": "writes", "cluster": cluster_desc, "levels": levels });
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&figures)?)?;
    }
    println!(
        "writes on {cluster_desc}: {}s per level after {}s of warm-up",
        args.duration, args.warmup
    );
    println!(
        "{:>8} {:>12} {:>9} {:>9} {:>9} {:>7}",
        "clients", "writes/s", "p50 ms", "p99 ms", "p99.9 ms", "errors"
    );
    for l in &levels {
        println!(
            "{:>8} {:>12.0} {:>9.2} {:>9.2} {:>9.2} {:>7}",
            l.clients,
            l.writes_per_sec,
            l.latency.p50_ms,
            l.latency.p99_ms,
            l.latency.p999_ms,
            l.errors
        );
    }
    Ok(super::exit::OK)
}

/// `bench decisions`: in apply, then end to end on three local nodes.
async fn run_decisions(g: &GlobalArgs, args: DecisionsArgs) -> anyhow::Result<i32> {
    anyhow::ensure!(
        args.duration > 0.0 && args.warmup >= 0.0 && args.runs > 0 && args.proposers > 0,
        "--duration, --runs and --proposers must be positive and --warmup not negative"
    );
    let in_apply = decisions::in_apply(args.runs).map_err(anyhow::Error::msg)?;
    let dir = tempfile::Builder::new()
        .prefix("arqonbus-bench-")
        .tempdir_in(&args.dir)?;
    let exe = std::env::current_exe()?;
    let extra: &[&str] = match args.unsigned {
        true => &["--signing-required", "false"],
        false => &[],
    };
    let (c, operator) = cluster::start_with(&exe, dir.path(), extra, !args.unsigned).await?;
    decisions::load(&operator, !args.unsigned).await?;
    let connect = || {
        let creds = arqonbus_transport::TlsCredentials::from_dir(&c.cert_dir(), "proposer")
            .map_err(|e| client_setup(e.into()))?;
        let mut options = arqonbus_client::ClientOptions::new(c.endpoints(), creds);
        options.sign = !args.unsigned;
        arqonbus_client::Client::new(options).map_err(|e| client_setup(e.into()))
    };
    let end_to_end = decisions::decided(
        &connect,
        args.proposers,
        Duration::from_secs_f64(args.warmup),
        Duration::from_secs_f64(args.duration),
    )
    .await?;
    let signing = if args.unsigned { "unsigned" } else { "signed" };
    let figures = serde_json::json!({ "workload": "decisions", "signing": signing, "in_apply": in_apply, "end_to_end": end_to_end });
    if g.json() {
        super::output::json(&figures)?;
    } else {
        println!(
            "decision in apply, {} changes under {} rules ({} parameters), {} runs: p50 {:.1} us, p99 {:.1} us",
            in_apply.changes, in_apply.rules, in_apply.parameters, in_apply.runs, in_apply.p50_us, in_apply.p99_us
        );
        let l = &end_to_end.latency;
        println!(
            "three local nodes, {} proposers ({signing}), {}s: {:.0} proposals decided/s; round trip p50 {:.2} ms, p99 {:.2} ms; {} errors",
            end_to_end.proposers, args.duration, end_to_end.decided_per_sec, l.p50_ms, l.p99_ms, end_to_end.errors
        );
    }
    Ok(super::exit::OK)
}

/// `bench rollback`: breaches, then leader kills, then the CPU load, on
/// three local nodes; each part skipped when its count is 0.
async fn run_rollback(args: RollbackArgs) -> anyhow::Result<i32> {
    anyhow::ensure!(
        args.rate > 0.0 && args.seconds > 0.0,
        "--rate and --seconds must be positive"
    );
    let dir = tempfile::Builder::new()
        .prefix("arqonbus-bench-")
        .tempdir_in(&args.dir)?;
    let exe = std::env::current_exe()?;
    let (mut c, _) = cluster::start(&exe, dir.path()).await?;
    let mut figures = serde_json::Map::new();
    if args.breaches > 0 {
        let b = rollback::breaches(&c, args.breaches).await?;
        println!(
            "breach → rollback frame at the agent, {} breaches: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, mean {:.2} ms",
            b.breaches, b.p50_ms, b.p99_ms, b.max_ms, b.mean_ms
        );
        if let serde_json::Value::Object(m) = serde_json::to_value(&b)? {
            figures.extend(m);
        }
    }
    if args.kills > 0 {
        let f = rollout_failover::failovers(&mut c, args.kills).await?;
        let each: Vec<String> = f.each_ms.iter().map(|ms| format!("{ms:.0}")).collect();
        println!(
            "leader SIGKILL → next phase at the agent ({} s min_seconds included), {} kills: median {:.0} ms; each {} ms",
            f.phase_min_seconds, f.kills, f.median_ms, each.join(", ")
        );
        figures.insert("failover".into(), serde_json::to_value(&f)?);
    }
    if args.targets > 0 {
        let l = rollout_load::load(&mut c, args.targets, args.rate, args.seconds).await?;
        println!(
            "{} targets in rollouts, {} senders asked for {:.0} samples/s: achieved {:.0}/s ({} accepted, {} rejected, {} failed batches) in {:.1} s; leader CPU {:.0}% of one core; {} rollouts still active",
            l.targets, l.senders, l.requested_rate, l.achieved_rate, l.accepted, l.rejected, l.failed_batches, l.seconds, l.leader_cpu_percent, l.rollouts_active_after
        );
        figures.insert("load".into(), serde_json::to_value(&l)?);
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&figures)?)?;
    }
    Ok(super::exit::OK)
}

/// A client that could not be set up, as the bench reports it.
fn client_setup(e: anyhow::Error) -> arqonbus_client::ClientError {
    arqonbus_client::ClientError::Setup(e.to_string())
}
