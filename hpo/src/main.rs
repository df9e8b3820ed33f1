//! The `arqonbus-hpo` binary: the ask-tell protocol on stdin/stdout, and a
//! benchmark of the engine on the test objectives.

use anyhow::{bail, Context, Result};
use arqonbus_hpo::engine::{Algorithm, EngineConfig};
use arqonbus_hpo::{ask_tell, objectives, space, Engine};
use clap::{Args, Parser, Subcommand};
use std::io;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "arqonbus-hpo",
    about = "ArqonHPO: the propose loop's optimizer"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Propose on stdout, one JSON object a line; read answers on stdin.
    AskTell {
        /// The space file (TOML; see hpo/README.md).
        #[arg(long)]
        space: PathBuf,
        /// The most proposals to make.
        #[arg(long)]
        budget: Option<usize>,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Run the engine on a test objective over many seeds; print the best
    /// true value after the budget for each seed, as JSON.
    Bench {
        /// `branin` or `quadratic`.
        #[arg(long)]
        objective: String,
        #[arg(long, default_value_t = 50)]
        budget: usize,
        #[arg(long, default_value_t = 20)]
        seeds: u64,
        #[command(flatten)]
        engine: EngineArgs,
    },
}

#[derive(Args)]
struct EngineArgs {
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// random, local, gp, or auto (random warm-up, then gp).
    #[arg(long, default_value = "auto")]
    algo: String,
    /// Random proposals before the model (auto); default 2(d + 1).
    #[arg(long)]
    warmup: Option<usize>,
    /// Keep proposals in a trust region around the best point.
    #[arg(long)]
    trust_region: bool,
    /// The model keeps only the last this many observations (drift).
    #[arg(long)]
    window: Option<usize>,
    /// Rounds without a significant improvement before slowing down.
    #[arg(long, default_value_t = 20)]
    patience: usize,
    /// Stop once converged (done with reason "converged").
    #[arg(long)]
    stop_when_converged: bool,
}

impl EngineArgs {
    fn config(&self, seed: u64) -> Result<EngineConfig> {
        Ok(EngineConfig {
            seed,
            algorithm: self.algo.parse::<Algorithm>()?,
            warmup: self.warmup,
            trust_region: self.trust_region,
            window: self.window,
            patience: self.patience,
            stop_when_converged: self.stop_when_converged,
            ..EngineConfig::default()
        })
    }
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::AskTell {
            space,
            budget,
            engine,
        } => {
            let space = space::load_space_file(&space)?;
            let mut engine_ = Engine::new(space, &engine.config(engine.seed)?);
            let options = ask_tell::Options { budget };
            ask_tell::run(
                &mut engine_,
                io::stdin().lock(),
                io::stdout().lock(),
                options,
            )
            .context("ask-tell I/O")?;
        }
        Command::Bench {
            objective,
            budget,
            seeds,
            engine,
        } => {
            let Some(objective) = objectives::by_name(&objective) else {
                bail!("unknown objective `{objective}` (branin, quadratic)");
            };
            let mut finals = Vec::new();
            for seed in 0..seeds {
                let curve = objectives::run(&objective, &engine.config(seed)?, budget)?;
                finals.push(curve.last().copied().unwrap_or(f64::NAN));
            }
            println!("{}", serde_json::to_string(&finals)?);
        }
    }
    Ok(())
}
