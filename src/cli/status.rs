//! `arqonbus status --target T`: a target's rollout (phase, share, since
//! when, violations, observed impact), its recent rollbacks and verdicts.
//! `--output json` prints one object with times in Unix milliseconds:
//! `{"target_system", "epoch", "rollout": {…} | null, "recent_rollbacks":
//! […], "recent_verdicts": […]}`. The same printing serves the answers of
//! `arqonbus rollout pause|resume|promote`.

use super::connect::GlobalArgs;
use super::output;
use arqonbus_proto::rollout::{RolloutRequest, RolloutStatus};
use clap::Args;
use serde_json::{json, Value};

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(long)]
    pub target: String,
    /// Read this node's replica instead of a linearizable read.
    #[arg(long)]
    pub stale: bool,
}

pub async fn run(g: &GlobalArgs, a: StatusArgs) -> anyhow::Result<i32> {
    let status = g
        .client()?
        .rollout(RolloutRequest::Status {
            target_system: a.target,
            stale: a.stale,
        })
        .await?;
    print(g.json(), &status)?;
    Ok(super::exit::OK)
}

/// The JSON shape of a rollout status (times in Unix milliseconds).
pub fn to_json(s: &RolloutStatus) -> Value {
    let rollout = s.rollout.as_ref().map(|r| {
        json!({
            "proposal_id": r.proposal_id,
            "phase": r.phase,
            "phase_index": r.phase_index,
            "phases": r.phases,
            "share": r.share,
            "phase_started_ms": r.phase_started_ms.0,
            "paused": r.paused,
            "violations": r.violations,
            "observed_impact": r.observed_impact,
        })
    });
    let rollbacks: Vec<Value> = s
        .recent_rollbacks
        .iter()
        .map(|b| {
            json!({
                "proposal_id": b.proposal_id,
                "reason": b.reason,
                "triggered_constraint": b.triggered_constraint,
                "at_ms": b.at_ms.0,
            })
        })
        .collect();
    let verdicts: Vec<Value> = s
        .recent_verdicts
        .iter()
        .map(|v| {
            json!({
                "proposal_id": v.proposal_id,
                "class": v.class,
                "reason": v.reason,
                "at_ms": v.at_ms.0,
                "metrics": v.metrics,
            })
        })
        .collect();
    json!({
        "target_system": s.target_system,
        "epoch": s.epoch,
        "rollout": rollout,
        "recent_rollbacks": rollbacks,
        "recent_verdicts": verdicts,
    })
}

/// Prints a rollout status as JSON or for people.
pub fn print(as_json: bool, s: &RolloutStatus) -> anyhow::Result<()> {
    if as_json {
        return output::json(&to_json(s));
    }
    let name = |v: Value| v.as_str().unwrap_or("?").to_string();
    println!("{}: assignment epoch {}", s.target_system, s.epoch);
    match &s.rollout {
        None => println!("  no rollout in progress (steady)"),
        Some(r) => {
            println!(
                "  rolling out {}: phase {} ({}/{}), {}% on the candidate, since {}{}",
                r.proposal_id,
                r.phase,
                r.phase_index + 1,
                r.phases,
                r.share,
                r.phase_started_ms.to_rfc3339()?,
                if r.paused { ", paused" } else { "" }
            );
            println!("  constraint violations so far: {}", r.violations);
            for (metric, impact) in &r.observed_impact {
                println!("  observed impact {metric}: {impact:+}");
            }
        }
    }
    for b in &s.recent_rollbacks {
        println!(
            "  rolled back {} at {}: {}{}",
            b.proposal_id,
            b.at_ms.to_rfc3339()?,
            name(serde_json::to_value(b.reason)?),
            b.triggered_constraint
                .as_ref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default()
        );
    }
    for v in &s.recent_verdicts {
        // The reason usually starts with the class already.
        let class = name(serde_json::to_value(v.class)?);
        let reason = match v.reason.starts_with(&class) {
            true => v.reason.clone(),
            false => format!("{class}: {}", v.reason),
        };
        println!(
            "  verdict on {} at {}: {reason}",
            v.proposal_id,
            v.at_ms.to_rfc3339()?
        );
    }
    Ok(())
}
