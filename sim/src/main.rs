//! `arqonbus-sim`: runs one simulated agent of a target against a
//! cluster. Connection flags are the `arqonbus` client commands' (and
//! read the same `ARQONBUS_*` variables); the identity is `agent` by
//! default. Applied assignments and rollbacks go to stdout as JSON lines,
//! logs to stderr.

use anyhow::{bail, Context};
use arqonbus_client::{
    parse_resolve, AssignmentWatch, Client, ClientOptions, TlsCredentials, WatchOptions,
};
use arqonbus_sim::{Agent, AgentOptions, Degrade, Model};
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "arqonbus-sim",
    version,
    about = "A simulated agent of a target system"
)]
struct Args {
    /// Node endpoints, `host:port` separated by commas.
    #[arg(
        long,
        env = "ARQONBUS_ENDPOINTS",
        value_delimiter = ',',
        required = true
    )]
    endpoints: Vec<String>,
    /// Certificate directory (with `ca.pem`, `<user>.pem`, `<user>.key`).
    #[arg(long, env = "ARQONBUS_CERTS")]
    certs: Option<PathBuf>,
    /// Whose certificate to use from `--certs`.
    #[arg(long, env = "ARQONBUS_USER", default_value = "agent")]
    user: String,
    /// CA certificate file (instead of `--certs`/`--user`).
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Client certificate file.
    #[arg(long)]
    cert: Option<PathBuf>,
    /// Client key file.
    #[arg(long)]
    key: Option<PathBuf>,
    /// Dial `host:port` at `ip:port`: `node1:7100=127.0.0.1:17101`.
    #[arg(long, env = "ARQONBUS_RESOLVE", value_delimiter = ',')]
    resolve: Vec<String>,
    /// The target system this agent runs.
    #[arg(long)]
    target: String,
    /// Requests served (samples sent) per second.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// Seed of the model's noise.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Stop after this many seconds (default: run until killed).
    #[arg(long)]
    duration: Option<f64>,
    /// Milliseconds between two telemetry batches.
    #[arg(long, default_value_t = 200)]
    interval_ms: u64,
    /// Keep the baseline values in this last-known-good file.
    #[arg(long)]
    last_known_good: Option<PathBuf>,
    /// Latency at batch size 0, ms.
    #[arg(long, default_value_t = 100.0)]
    base_latency: f64,
    /// Latency added per unit of batch_size, ms.
    #[arg(long, default_value_t = 1.0)]
    latency_per_batch: f64,
    /// Scale of the log-normal latency noise, ms.
    #[arg(long, default_value_t = 5.0)]
    noise_ms: f64,
    /// Sigma of the log-normal noise (0: none).
    #[arg(long, default_value_t = 0.25)]
    noise_sigma: f64,
    /// Median error rate (fraction).
    #[arg(long, default_value_t = 0.001)]
    error_rate: f64,
    /// `PARAM=VALUE:METRIC*FACTOR`: when PARAM is VALUE, multiply METRIC
    /// (repeatable), e.g. `batch_size=40:latency_p99*3`.
    #[arg(long)]
    degrade: Vec<Degrade>,
}

fn credentials(a: &Args) -> anyhow::Result<TlsCredentials> {
    match (&a.ca, &a.cert, &a.key, &a.certs) {
        (Some(ca), Some(cert), Some(key), _) => {
            TlsCredentials::from_files(ca, cert, key).context("loading --ca/--cert/--key")
        }
        (None, None, None, Some(dir)) => {
            TlsCredentials::from_dir(dir, &a.user).with_context(|| {
                format!(
                    "loading the certificate of `{}` from {}",
                    a.user,
                    dir.display()
                )
            })
        }
        _ => bail!("give an identity: --certs DIR [--user NAME], or --ca, --cert and --key"),
    }
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let a = Args::parse();
    if !(a.rate.is_finite() && a.rate >= 0.0) {
        bail!("--rate must be a finite number ≥ 0");
    }
    let mut options = ClientOptions::new(a.endpoints.clone(), credentials(&a)?);
    for entry in a.resolve.iter().filter(|e| !e.trim().is_empty()) {
        let (host, addr) = parse_resolve(entry).map_err(anyhow::Error::msg)?;
        options.resolve.insert(host, addr);
    }
    let client = Client::new(options)?;
    let mut watch_options = WatchOptions::new(&a.target);
    watch_options.last_known_good = a.last_known_good.clone();
    let watch = AssignmentWatch::start(client, watch_options)?;
    let model = Model {
        base_latency_ms: a.base_latency,
        latency_per_batch_ms: a.latency_per_batch,
        noise_ms: a.noise_ms,
        noise_sigma: a.noise_sigma,
        error_rate: a.error_rate,
        degrade: a.degrade.clone(),
    };
    let agent_options = AgentOptions {
        source: format!("arqonbus-sim-{}", a.seed),
        rate: a.rate,
        interval: Duration::from_millis(a.interval_ms.max(1)),
        seed: a.seed,
    };
    let duration = match a.duration {
        Some(s) if s.is_finite() && s >= 0.0 => Some(Duration::from_secs_f64(s)),
        Some(_) => bail!("--duration must be a number of seconds ≥ 0"),
        None => None,
    };
    let mut agent = Agent::new(watch, model, agent_options);
    let stats = agent.run(duration, &mut std::io::stdout()).await?;
    tracing::info!(target: "arqonbus::sim", ?stats, "done");
    Ok(())
}
