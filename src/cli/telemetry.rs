//! `arqonbus telemetry send`: one telemetry sample, for trying things out
//! by hand. Exit code 3 when the sample was refused (an unknown target).

use super::connect::GlobalArgs;
use super::output;
use arqonbus_proto::message::{Cohort, TelemetryContext, TelemetrySample};
use arqonbus_proto::{Reply, UnixMillis};
use clap::{Args, Subcommand, ValueEnum};

#[derive(Debug, Subcommand)]
pub enum Telemetry {
    /// Send one sample to the leader.
    Send(SendArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CohortArg {
    Baseline,
    Candidate,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    #[arg(long)]
    pub target: String,
    /// `name=value` (repeatable), a finite number.
    #[arg(long = "metric", required = true, value_parser = parse_metric)]
    pub metrics: Vec<(String, f64)>,
    #[arg(long, value_enum, default_value_t = CohortArg::Baseline)]
    pub cohort: CohortArg,
    /// The sender's label.
    #[arg(long, default_value = "arqonbus-cli")]
    pub source: String,
}

fn parse_metric(text: &str) -> Result<(String, f64), String> {
    let (k, v) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not name=value"))?;
    let value: f64 = v
        .parse()
        .map_err(|_| format!("`{text}`: `{v}` is not a number"))?;
    if !value.is_finite() {
        return Err(format!("`{text}`: the value must be a finite number"));
    }
    Ok((k.to_string(), value))
}

pub async fn run(g: &GlobalArgs, t: Telemetry) -> anyhow::Result<i32> {
    let Telemetry::Send(a) = t;
    let sample = TelemetrySample {
        timestamp: UnixMillis::now(),
        source: a.source,
        target_system: a.target,
        metrics: a.metrics.into_iter().collect(),
        parameters: Default::default(),
        context: TelemetryContext {
            request_class: None,
            hardware: None,
            load_factor: None,
        },
        cohort: match a.cohort {
            CohortArg::Baseline => Cohort::Baseline,
            CohortArg::Candidate => Cohort::Candidate,
        },
    };
    let ack = g.client()?.send_telemetry(vec![sample]).await?;
    if g.json() {
        output::json(&arqonbus_proto::json::reply_json(&Reply::TelemetryAck(
            ack,
        ))?)?;
    } else {
        println!("accepted {}, rejected {}", ack.accepted, ack.rejected);
    }
    Ok(if ack.rejected > 0 {
        super::exit::REFUSED
    } else {
        super::exit::OK
    })
}
