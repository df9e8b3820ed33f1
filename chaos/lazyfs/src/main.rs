//! `arqonbus-lazyfs`: run the power-loss filesystem in the foreground, or
//! send a command to a running one. See `README.md`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use anyhow::Context;
use arqonbus_lazyfs::mount::DEFAULT_MAX_UNSYNCED;
use arqonbus_lazyfs::{control, Mount, MountConfig};
use clap::{Parser, Subcommand};
use nix::sys::signal::{SigSet, Signal};

#[derive(Parser)]
#[command(
    version,
    about = "A FUSE filesystem that loses every write not fsynced when told to"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Mount in the foreground until SIGTERM or SIGINT (which unmount).
    Mount {
        /// Directory holding the durable state.
        #[arg(long)]
        backing: PathBuf,
        /// Where the filesystem appears.
        #[arg(long)]
        mountpoint: PathBuf,
        /// Path of the control socket.
        #[arg(long)]
        control: PathBuf,
        /// Cap on unsynced bytes held in memory; writes past it fail with ENOSPC.
        #[arg(long, default_value_t = DEFAULT_MAX_UNSYNCED)]
        max_unsynced: u64,
        /// Make everything durable every this many milliseconds, as a
        /// kernel's writeback would (0, the default: only syncs do).
        #[arg(long, default_value_t = 0)]
        writeback_ms: u64,
    },
    /// Send one command (crash, stats, help) to a running daemon.
    Ctl {
        /// The daemon's control socket.
        socket: PathBuf,
        /// crash | stats | help
        command: String,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let result = match Cli::parse().command {
        Command::Mount {
            backing,
            mountpoint,
            control,
            max_unsynced,
            writeback_ms,
        } => {
            let config = MountConfig {
                backing,
                mountpoint,
                control: Some(control),
                max_unsynced,
                writeback: (writeback_ms > 0).then(|| Duration::from_millis(writeback_ms)),
            };
            run(&config)
        }
        Command::Ctl { socket, command } => control::request(&socket, &command)
            .map(|reply| println!("{reply}"))
            .map_err(anyhow::Error::from),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("arqonbus-lazyfs: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Mounts, prints `ready` on stdout, and serves until a signal unmounts.
fn run(config: &MountConfig) -> anyhow::Result<()> {
    // Blocked before any thread starts, so only `sigwait` below sees them.
    let mut signals = SigSet::empty();
    signals.add(Signal::SIGTERM);
    signals.add(Signal::SIGINT);
    signals.thread_block().context("block SIGTERM and SIGINT")?;
    let mount = Mount::start(config).context("mount")?;
    let unmounter = mount.unmounter();
    thread::Builder::new()
        .name("lazyfs-signals".into())
        .spawn(move || match signals.wait() {
            Ok(signal) => {
                tracing::info!(?signal, "unmounting");
                if let Err(e) = unmounter.unmount() {
                    tracing::error!(error = %e, "unmount on signal failed");
                }
            }
            Err(e) => tracing::error!(error = %e, "sigwait failed"),
        })
        .context("spawn the signal thread")?;
    println!(
        "ready mountpoint={} control={}",
        config.mountpoint.display(),
        config.control.as_deref().unwrap_or("-".as_ref()).display()
    );
    mount.wait().context("session")
}
