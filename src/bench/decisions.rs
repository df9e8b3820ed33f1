//! The `decisions` workload: what the constraint engine costs.
//!
//! - In `apply` on the leader: the time `decide` takes for one proposal of
//!   10 changes against a target of 60 parameters and 50 rules (linear,
//!   products, implications), measured in this process over many runs.
//! - End to end: 64 (by default) concurrent proposers in closed loops
//!   against three local nodes, each proposal 10 changes with a fresh id;
//!   proposals decided per second and their round-trip latency.

use super::cluster::TailSummary;
use super::window::{measure, Tally, Window};
use arqonbus_client::{Client, ClientError, Retry};
use arqonbus_core::constraint_file::parse_file;
use arqonbus_core::decide::decide;
use arqonbus_core::proposal::{Change, ProposalSpec};
use arqonbus_core::{ParamValue, Target};
use arqonbus_proto::message::{Proposal, ProposedChange};
use arqonbus_proto::workflow::WorkflowRequest;
use arqonbus_proto::{Reply, Request, UnixMillis};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// The benchmark target's name.
pub const TARGET: &str = "decisions-bench";
/// Parameters and rules of the benchmark's constraints.
const PARAMETERS: usize = 60;
const RULES: usize = 50;
/// Changes per proposal.
const CHANGES: usize = 10;

/// A format-2 file: `p0`..`p59` (int 0..=1000, default 100, steps of 50),
/// and 50 rules cycling through linear sums, products and implications.
/// The benchmark's constraint file; `signed` says whether the target
/// requires signed proposals (`[security] signing_required`).
pub fn constraints_text(signed: bool) -> String {
    let mut t = String::from("format = 2\n");
    if !signed {
        t.push_str("[security]\nsigning_required = false\n");
    }
    for i in 0..PARAMETERS {
        let _ = write!(
            t,
            "[parameters.p{i}]\nkind = \"int\"\nmin = 0\nmax = 1000\ndefault = 100\nmax_step_abs = 50\n"
        );
    }
    for r in 0..RULES {
        let (a, b, c) = (r % PARAMETERS, (r + 7) % PARAMETERS, (r + 13) % PARAMETERS);
        let expr = match r % 3 {
            0 => format!("p{a} + 2 * p{b} - p{c} <= 2500"),
            1 => format!("p{a} * p{b} <= 1000000"),
            _ => format!("p{a} >= 900 => p{b} <= 500"),
        };
        let _ = write!(t, "[[rules]]\nname = \"rule_{r}\"\nexpr = \"{expr}\"\n");
    }
    t
}

/// The `k`-th proposal's changes: 10 parameters, each moved by 1..=40.
fn changes(k: u64) -> Vec<(String, i64)> {
    (0..CHANGES as u64)
        .map(|j| {
            let p = (k * 7 + j * 5) % PARAMETERS as u64;
            (format!("p{p}"), 100 + 1 + ((k + j) % 40) as i64)
        })
        .collect()
}

/// Decision latency in `apply`, microseconds.
#[derive(Debug, Clone, Serialize)]
pub struct InApply {
    pub runs: usize,
    pub parameters: usize,
    pub rules: usize,
    pub changes: usize,
    pub p50_us: f64,
    pub p99_us: f64,
}

/// Times `decide` for `runs` proposals of 10 changes under 50 rules.
pub fn in_apply(runs: usize) -> Result<InApply, String> {
    let file =
        parse_file("decisions-bench.toml", &constraints_text(true)).map_err(|e| e.to_string())?;
    let target = Target {
        live: file.constraints.defaults(),
        last_known_good: file.constraints.defaults(),
        constraints: file.constraints,
        policy: file.policy,
        constraints_version: 1,
        ..Default::default()
    };
    let mut us = Vec::with_capacity(runs);
    for k in 0..runs as u64 {
        let spec = ProposalSpec {
            proposal_id: format!("bench-{k}"),
            source: "bench".into(),
            target: TARGET.into(),
            timestamp_ms: 1,
            changes: changes(k)
                .into_iter()
                .map(|(p, v)| Change {
                    parameter: p,
                    current_value: ParamValue::Int(100),
                    proposed_value: ParamValue::Int(v),
                    reason: String::new(),
                })
                .collect(),
            expected_impact: BTreeMap::new(),
            confidence: 0.5,
            duration_seconds: 60,
        };
        let t = Instant::now();
        let d = decide(&spec, &target, "bench", 1);
        us.push(t.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(d);
    }
    us.sort_by(f64::total_cmp);
    let q = |x: f64| us[((us.len() as f64 - 1.0) * x).round() as usize];
    Ok(InApply {
        runs,
        parameters: PARAMETERS,
        rules: RULES,
        changes: CHANGES,
        p50_us: q(0.5),
        p99_us: q(0.99),
    })
}

/// End-to-end figures at one concurrency.
#[derive(Debug, Clone, Serialize)]
pub struct Decided {
    pub proposers: usize,
    pub seconds: f64,
    pub decided: usize,
    pub decided_per_sec: f64,
    pub latency: TailSummary,
    pub errors: usize,
}

/// Loads the benchmark constraints through `operator`.
pub async fn load(operator: &Client, signed: bool) -> Result<(), ClientError> {
    let request = WorkflowRequest::SetConstraints {
        target_system: TARGET.into(),
        text: constraints_text(signed),
        force: true,
    };
    operator.workflow(request).await.map(|_| ())
}

/// `proposers` closed loops for `duration` after `warmup`.
pub async fn decided(
    connect: &dyn Fn() -> Result<Client, ClientError>,
    proposers: usize,
    warmup: Duration,
    duration: Duration,
) -> Result<Decided, ClientError> {
    let connections = proposers.div_ceil(16).max(1);
    let pool = (0..connections)
        .map(|_| connect())
        .collect::<Result<Vec<_>, _>>()?;
    let run = UnixMillis::now().0;
    let m = measure(proposers, warmup, duration, |k, window| {
        let client = pool[k % connections].clone();
        async move { proposer(client, run, k, &window).await }
    })
    .await;
    Ok(Decided {
        proposers,
        seconds: m.seconds,
        decided: m.done,
        decided_per_sec: m.per_sec,
        latency: m.latency,
        errors: m.errors,
    })
}

/// One proposer: proposes until the window ends.
async fn proposer(client: Client, run: i64, k: usize, window: &Window) -> Tally {
    let (mut ms, mut errors, mut n) = (Vec::new(), 0usize, 0u64);
    while !window.ended() {
        let counted = window.measuring();
        n += 1;
        let seq = k as u64 * 1_000_000 + n;
        let proposal = Proposal {
            proposal_id: format!("bench-{run}-{seq}"),
            source: "bench".into(),
            target_system: TARGET.into(),
            timestamp: UnixMillis::now(),
            changes: changes(seq)
                .into_iter()
                .map(|(p, v)| ProposedChange {
                    parameter: p,
                    current_value: ParamValue::Int(100),
                    proposed_value: ParamValue::Int(v),
                    reason: "bench".into(),
                })
                .collect(),
            expected_impact: BTreeMap::new(),
            confidence: 0.5,
            duration_seconds: 60,
        };
        let t = Instant::now();
        let r = client.call(Request::Proposal(proposal), Retry::Safe).await;
        if !window.counts(counted) {
            continue;
        }
        match r {
            Ok(Reply::Approval(_)) => ms.push(t.elapsed().as_secs_f64() * 1000.0),
            _ => errors += 1,
        }
    }
    (ms, errors)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_benchmark_constraints_load_and_every_proposal_is_decided() {
        let figures = super::in_apply(200).expect("constraints load");
        assert_eq!((figures.rules, figures.changes), (50, 10));
    }
}
