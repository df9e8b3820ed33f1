//! `arqonbus bench flood`: the flood of issue 13 (every node at once: a
//! viewer's largest frames, thousands of idle streams, slow-loris streams,
//! forbidden requests at full speed) around a well-behaved proposer, on
//! three local nodes. Reports the proposer's latency, `node_status`'s on a
//! connection of its own, whether an election happened, each node's peak
//! resident memory and the audit entries the flood left. `bench bursts`
//! is the narrower attack of compressed frames alone, and the latency of
//! `node_status` during it.

use super::cluster::{self, summarise, ClusterBenchError, Summary};
use arqonbus_testkit::flood::{self, Plan};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

const MIB: f64 = 1024.0 * 1024.0;

/// One node's resident memory, in MiB.
#[derive(Debug, Clone, Serialize)]
pub struct Memory {
    pub before_mib: f64,
    pub peak_mib: f64,
}

/// The flood's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub seconds: f64,
    pub elections: bool,
    pub proposals_sent: usize,
    pub proposals_decided: usize,
    pub proposal_latency: Summary,
    pub node_status_latency: Summary,
    pub node_status_failed: usize,
    pub memory: BTreeMap<u64, Memory>,
    pub audit_entries: BTreeMap<String, u64>,
    pub attack: BTreeMap<&'static str, u64>,
    pub unanswered: BTreeMap<String, u64>,
}

/// Floods three fresh nodes under `dir` for `seconds`.
pub async fn run(exe: &Path, dir: &Path, seconds: f64) -> Result<Figures, ClusterBenchError> {
    let (c, _) = cluster::start(exe, dir).await?;
    let plan = Plan::new(Duration::from_secs_f64(seconds), cluster::TARGET, "n");
    let out = flood::run(&c, &plan).await?;
    let memory = out
        .memory
        .iter()
        .map(|(id, m)| {
            let mib = |b: u64| (b as f64 / MIB * 10.0).round() / 10.0;
            (
                *id,
                Memory {
                    before_mib: mib(m.before),
                    peak_mib: mib(m.peak),
                },
            )
        })
        .collect();
    Ok(Figures {
        seconds: out.elapsed.as_secs_f64(),
        elections: out.terms_after != out.terms_before || out.leader_after != out.leader_before,
        proposals_sent: out.proposals.sent,
        proposals_decided: out.proposals.decided,
        proposal_latency: summarise(out.proposals.latency_ms),
        node_status_latency: summarise(out.node_status_ms),
        node_status_failed: out.node_status_failed,
        memory,
        audit_entries: out.audit,
        attack: out.attack,
        unanswered: out.unanswered,
    })
}

/// The figures of `bench bursts`.
#[derive(Debug, Clone, Serialize)]
pub struct BurstFigures {
    pub bursts: usize,
    pub frames_per_burst: usize,
    pub elections: bool,
    pub node_status_latency: Summary,
    pub node_status_failed: usize,
    pub refused: BTreeMap<String, u64>,
}

/// Bursts of compressed frames at three fresh nodes under `dir`.
pub async fn bursts(
    exe: &Path,
    dir: &Path,
    bursts: usize,
    per_burst: usize,
) -> Result<BurstFigures, ClusterBenchError> {
    let (c, _) = cluster::start(exe, dir).await?;
    let out = flood::bursts::run(&c, bursts, per_burst).await?;
    Ok(BurstFigures {
        bursts,
        frames_per_burst: 3 * per_burst,
        elections: out.terms_after != out.terms_before || out.leader_after != out.leader_before,
        node_status_latency: summarise(out.node_status_ms),
        node_status_failed: out.node_status_failed,
        refused: out.refused,
    })
}
