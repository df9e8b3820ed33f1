//! `arqonbus bench ...`: prints benchmark figures as text or JSON.

use crate::bench::storage;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum Bench {
    /// Log-store appends per second (flushed), single and batched, against
    /// the raw fdatasync rate of the disk.
    Storage(StorageArgs),
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
