//! The rollout workload: a few targets `chaos-rollout-N` with a short
//! rollout plan and a latency guardrail ([`constraints_toml`]), and per
//! target two tasks:
//!
//! - a **proposer** (certificate `proposer`) that proposes a new value of
//!   [`PARAMETER`] whenever the target has no rollout in progress (its
//!   `rollout` status from the leader). Most values are inside the hard
//!   range (approved: a rollout starts), some outside it (rejected: no
//!   agent may ever run them). Each approved value has a seeded **plan**:
//!   healthy, or breaching the guardrail from one phase on;
//! - an **agent** (certificate `agent`) that follows the target's
//!   assignment through the client's `AssignmentWatch` (it survives
//!   failovers), records every assignment it applied, and sends tagged
//!   telemetry for both cohorts while a rollout is in progress: healthy
//!   latencies, or for the candidate breaching ones once the rollout reaches
//!   the plan's breach phase.
//!
//! Everything is recorded in the shared history as `rollout` events (by the
//! rules in `chaos/README.md`); `rollout_check.rs` checks them at the end
//! against every node's audit chain and the targets' rollout status.

use crate::outcome::classify_propose;
use crate::recorder::{Event, Kind, Recorder};
use crate::rng::Rng;
use arqonbus_client::{AssignmentUpdate, AssignmentWatch, Client, CohortSplit, WatchOptions};
use arqonbus_core::value::ParamValue;
use arqonbus_proto::message::{
    Cohort, Parameters, Proposal, ProposedChange, TelemetryContext, TelemetrySample,
};
use arqonbus_proto::rollout::{Assignment, RolloutRequest, STEADY};
use arqonbus_proto::workflow::WorkflowRequest;
use arqonbus_proto::UnixMillis;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The one parameter of a rollout target.
pub const PARAMETER: &str = "batch_size";
/// Its hard range and default.
pub const MIN: i64 = 1;
pub const MAX: i64 = 256;
pub const DEFAULT: i64 = 32;
/// The plan's phases, in order.
pub const PHASES: [&str; 3] = ["shadow", "canary", "full"];
/// The guardrail: p90 of `latency_p99` at most [`LIMIT`] over at least
/// [`GUARDRAIL_MIN_SAMPLES`] samples.
pub const GUARDRAIL: &str = "max_latency";
pub const LIMIT: f64 = 100.0;
pub const GUARDRAIL_MIN_SAMPLES: u64 = 10;
/// No telemetry for this long rolls a rollout back: far above elections.
pub const ROLLBACK_TIMEOUT_S: u64 = 30;
/// Rollout proposer process numbers start here, agents' at
/// [`FIRST_AGENT_PROCESS`] (apart from the other workloads').
pub const FIRST_PROCESS: u64 = 2_000_000;
pub const FIRST_AGENT_PROCESS: u64 = 3_000_000;
/// How often an agent sends a batch, and how many samples per cohort.
const AGENT_EVERY: Duration = Duration::from_millis(400);
const SAMPLES_PER_COHORT: u64 = 6;
/// How often a proposer looks whether its target is free.
const PROPOSER_EVERY: Duration = Duration::from_millis(1000);
const RESEND_PAUSE: Duration = Duration::from_millis(500);
/// After the last proposer stopped, how long an agent still waits for an
/// approval's assignment before it stops on a steady one.
const SETTLE_QUIET: Duration = Duration::from_secs(2);
/// Percent of proposals outside the hard range, and of approved ones that
/// breach.
const OUT_OF_RANGE_PERCENT: u64 = 15;
const BREACH_PERCENT: u64 = 50;

/// The name of rollout target number `i`.
pub fn target_name(i: u64) -> String {
    format!("chaos-rollout-{i}")
}

/// The format-2 constraint file of every rollout target: one int
/// parameter, a three-phase plan with short phases, a p90 latency
/// guardrail, no cooldown and no quarantine (so proposals keep coming).
pub fn constraints_toml() -> String {
    format!(
        r#"format = 2
[parameters.{PARAMETER}]
kind = "int"
min = {MIN}
max = {MAX}
default = {DEFAULT}

[[guardrails]]
name = "{GUARDRAIL}"
metric = "latency_p99"
aggregate = "p90"
window_s = 10
op = "<="
value = {LIMIT:.1}
min_samples = {GUARDRAIL_MIN_SAMPLES}

[rollout]
phases = [
  {{ name = "{}", share = 0, min_seconds = 1, min_samples = 10 }},
  {{ name = "{}", share = 20, min_seconds = 2, min_samples = 10 }},
  {{ name = "{}", share = 100, min_seconds = 1, min_samples = 10 }},
]
rollback_timeout_s = {ROLLBACK_TIMEOUT_S}
marginal_needs_operator = false
inconclusive_needs_operator = false

[anti_flapping]
cooldown_s = 0
quarantine_s = 0
"#,
        PHASES[0], PHASES[1], PHASES[2]
    )
}

/// What a proposal asks for and how its rollout's telemetry behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub target: String,
    pub value: i64,
    /// The index in [`PHASES`] from which the candidate breaches.
    pub breach_phase: Option<usize>,
}

impl Plan {
    pub fn in_range(&self) -> bool {
        (MIN..=MAX).contains(&self.value)
    }
}

/// A random plan for `target`.
fn plan(target: &str, rng: &mut Rng) -> Plan {
    let value = if rng.below(100) < OUT_OF_RANGE_PERCENT {
        if rng.below(2) == 0 {
            MAX + 1 + rng.below(1000) as i64
        } else {
            MIN - 1 - rng.below(1000) as i64
        }
    } else {
        MIN + rng.below((MAX - MIN + 1) as u64) as i64
    };
    let breach_phase = ((MIN..=MAX).contains(&value) && rng.below(100) < BREACH_PERCENT)
        .then(|| rng.below(PHASES.len() as u64) as usize);
    Plan {
        target: target.to_string(),
        value,
        breach_phase,
    }
}

/// How the rollout workload runs.
#[derive(Debug, Clone)]
pub struct RolloutOptions {
    pub targets: Vec<String>,
    pub request_timeout: Duration,
    pub retry_budget: Duration,
    /// How long a proposal with an unknown outcome is re-sent.
    pub resend_bound: Duration,
}

struct Shared {
    options: RolloutOptions,
    recorder: Arc<Recorder>,
    stop: Arc<AtomicBool>,
    next_process: AtomicU64,
    /// Proposal id -> its plan, written before the proposal is sent.
    plans: Mutex<BTreeMap<String, Plan>>,
    /// Proposers still running, and when the last one finished.
    proposers: AtomicU64,
    proposers_done: Mutex<Option<Instant>>,
}

impl Shared {
    fn plan(&self, id: &str) -> Option<Plan> {
        self.plans.lock().ok().and_then(|p| p.get(id).cloned())
    }

    fn record(&self, process: u64, kind: Kind, key: &str, value: Value, error: Option<String>) {
        let event = Event {
            process,
            kind,
            f: "rollout",
            key,
            value,
            error,
        };
        if let Err(e) = self.recorder.record(event) {
            eprintln!("arqonbus-chaos: cannot record a rollout event: {e}");
        }
    }
}

/// The running rollout workload.
pub struct RolloutWorkload {
    tasks: Vec<tokio::task::JoinHandle<anyhow::Result<()>>>,
    stop: Arc<AtomicBool>,
}

impl RolloutWorkload {
    /// Starts a proposer and an agent per target.
    pub fn start(
        options: RolloutOptions,
        access: &crate::cluster::Access,
        recorder: Arc<Recorder>,
        rng: &mut Rng,
    ) -> anyhow::Result<RolloutWorkload> {
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Shared {
            options: options.clone(),
            recorder,
            stop: stop.clone(),
            next_process: AtomicU64::new(FIRST_PROCESS),
            plans: Mutex::default(),
            proposers: AtomicU64::new(options.targets.len() as u64),
            proposers_done: Mutex::default(),
        });
        let mut tasks = Vec::new();
        // One client (its connections) shared by the proposers, one by the
        // agents: every connection costs the nodes a handshake after each
        // failover, and they share two cores.
        let proposer = crate::tasks::client(
            access,
            "proposer",
            options.request_timeout,
            options.retry_budget,
        )?;
        let agent = crate::tasks::client(
            access,
            "agent",
            options.request_timeout,
            options.retry_budget,
        )?;
        for (i, target) in options.targets.iter().enumerate() {
            let (proposer, agent) = (proposer.clone(), agent.clone());
            let watch = AssignmentWatch::start(agent, WatchOptions::new(target))?;
            let process = FIRST_AGENT_PROCESS + i as u64;
            tasks.push(tokio::spawn(run_agent(
                shared.clone(),
                watch,
                target.clone(),
                process,
            )));
            tasks.push(tokio::spawn(run_proposer(
                shared.clone(),
                proposer,
                target.clone(),
                rng.fork(),
            )));
        }
        Ok(RolloutWorkload { tasks, stop })
    }

    /// Stops proposing; waits up to `bound` for a proposal being re-sent
    /// and for each agent to drive its target's rollout in progress to its
    /// end. Returns how many tasks had to be abandoned.
    pub async fn stop(self, bound: Duration) -> anyhow::Result<usize> {
        self.stop.store(true, Ordering::SeqCst);
        crate::tasks::join_within(self.tasks, bound, "rollout").await
    }
}

/// Proposes a new value whenever the target has no rollout in progress.
async fn run_proposer(
    shared: Arc<Shared>,
    client: Client,
    target: String,
    mut rng: Rng,
) -> anyhow::Result<()> {
    let mut process = shared.next_process.fetch_add(1, Ordering::Relaxed);
    let mut pace = crate::tasks::pace(1, 1.0 / PROPOSER_EVERY.as_secs_f64());
    let mut n = 0u64;
    while crate::tasks::next_tick(&mut pace, &shared.stop).await {
        // A stale read (no leadership round): if the rollout that just
        // started is not there yet, the proposal is rejected
        // (`active_proposal`), which is recorded and harmless.
        let status = client
            .rollout(RolloutRequest::Status {
                target_system: target.clone(),
                stale: true,
            })
            .await;
        match status {
            Ok(s) if s.rollout.is_none() => {}
            _ => continue,
        }
        n += 1;
        let id = format!("{target}-p{n}");
        let plan = plan(&target, &mut rng);
        if let Ok(mut plans) = shared.plans.lock() {
            plans.insert(id.clone(), plan.clone());
        }
        let proposal = Proposal {
            proposal_id: id.clone(),
            source: "arqonbus-chaos-rollouts".into(),
            target_system: target.clone(),
            timestamp: UnixMillis::now(),
            changes: vec![ProposedChange {
                parameter: PARAMETER.into(),
                current_value: ParamValue::Int(DEFAULT),
                proposed_value: ParamValue::Int(plan.value),
                reason: "chaos rollout".into(),
            }],
            expected_impact: BTreeMap::from([("latency_p99".to_string(), -1.0)]),
            confidence: 0.8,
            duration_seconds: 60,
        };
        submit(&shared, &client, &mut process, &proposal, &plan).await;
    }
    if shared.proposers.fetch_sub(1, Ordering::SeqCst) == 1 {
        if let Ok(mut done) = shared.proposers_done.lock() {
            *done = Some(Instant::now());
        }
    }
    Ok(())
}

/// The `value` of a proposal's events.
fn propose_value(plan: &Plan, send: &str) -> Value {
    json!({
        "event": "propose",
        "target": plan.target,
        "value": plan.value,
        "breach_phase": plan.breach_phase.map(|i| PHASES[i]),
        "expect": if plan.in_range() { "approved" } else { "rejected" },
        "send": send,
    })
}

/// Sends until decided or refused, re-sending the same proposal after an
/// unknown outcome for at most the resend bound.
async fn submit(
    shared: &Shared,
    client: &Client,
    process: &mut u64,
    proposal: &Proposal,
    plan: &Plan,
) {
    let id = &proposal.proposal_id;
    let mut unknown_since: Option<Instant> = None;
    let mut send = "first";
    loop {
        let invoked = propose_value(plan, send);
        shared.record(*process, Kind::Invoke, id, invoked.clone(), None);
        let reply = client.propose(proposal.clone()).await;
        let (kind, error) = classify_propose(&reply);
        let mut value = invoked;
        if let (Ok(a), Some(map)) = (&reply, value.as_object_mut()) {
            map.insert(
                "decision".into(),
                json!(crate::proposals::decision_name(a.decision)),
            );
            let reasons: Vec<&str> = a
                .rejected_changes
                .iter()
                .filter_map(|c| c.constraint_violated.as_deref())
                .collect();
            map.insert("rejected_by".into(), json!(reasons));
        }
        shared.record(*process, kind, id, value, error);
        if kind != Kind::Info {
            return;
        }
        *process = shared.next_process.fetch_add(1, Ordering::Relaxed);
        let since = *unknown_since.get_or_insert_with(Instant::now);
        if since.elapsed() >= shared.options.resend_bound || shared.stop.load(Ordering::SeqCst) {
            return;
        }
        tokio::time::sleep(RESEND_PAUSE).await;
        send = "resend";
    }
}

/// A parameter map as JSON.
fn params_json(p: &Parameters) -> Value {
    Value::Object(p.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
}

/// The `value` of an `applied` event: the whole assignment.
pub fn applied_value(a: &Assignment) -> Value {
    json!({
        "event": "applied",
        "target": a.target_system,
        "epoch": a.epoch,
        "proposal": a.proposal_id,
        "phase": a.phase,
        "share": a.share,
        "baseline": params_json(&a.baseline),
        "candidate": a.candidate.as_ref().map(params_json),
    })
}

fn sample(target: &str, cohort: Cohort, latency: f64) -> TelemetrySample {
    TelemetrySample {
        timestamp: UnixMillis::now(),
        source: "chaos-agent".into(),
        target_system: target.into(),
        metrics: BTreeMap::from([("latency_p99".to_string(), latency)]),
        parameters: BTreeMap::new(),
        context: TelemetryContext {
            request_class: None,
            hardware: None,
            load_factor: None,
        },
        cohort,
    }
}

/// Follows the assignment, records what it applied, and sends telemetry
/// for both cohorts while a rollout is in progress.
async fn run_agent(
    shared: Arc<Shared>,
    watch: AssignmentWatch,
    target: String,
    process: u64,
) -> anyhow::Result<()> {
    let mut pace = crate::tasks::pace(1, 1.0 / AGENT_EVERY.as_secs_f64());
    let mut n = 0u64;
    loop {
        tokio::select! {
            update = watch.next_update() => {
                match update {
                    Some(AssignmentUpdate::Assignment(a)) => {
                        shared.record(process, Kind::Ok, &target, applied_value(&a), None);
                    }
                    Some(AssignmentUpdate::Rollback(r)) => {
                        let value = json!({
                            "event": "rollback_seen",
                            "target": target,
                            "proposal": r.proposal_id,
                        });
                        shared.record(process, Kind::Ok, &target, value, None);
                    }
                    None => anyhow::bail!("the assignment watch of {target} ended"),
                }
                continue;
            }
            _ = pace.tick() => {}
        }
        // After the stop, the rollout in progress is driven to its end
        // (steady or rolled back), so that the cluster settles: once every
        // proposer is done, and its last approval had a moment to arrive.
        let current = watch.current();
        let settled = current.as_ref().is_none_or(|a| a.phase == STEADY);
        let quiet = shared
            .proposers_done
            .lock()
            .ok()
            .and_then(|d| *d)
            .is_some_and(|at| at.elapsed() >= SETTLE_QUIET);
        if shared.stop.load(Ordering::SeqCst) && settled && quiet {
            return Ok(());
        }
        let Some(a) = current else { continue };
        let Some(id) = a.proposal_id.clone().filter(|_| a.phase != STEADY) else {
            continue;
        };
        let phase = PHASES.iter().position(|p| *p == a.phase);
        let plan = shared.plan(&id);
        let breaching = match (plan.and_then(|p| p.breach_phase), phase) {
            (Some(from), Some(now)) => now >= from,
            _ => false,
        };
        let mut samples = Vec::new();
        for _ in 0..SAMPLES_PER_COHORT {
            n += 1;
            let healthy = 40.0 + (n % 20) as f64;
            samples.push(sample(&target, Cohort::Baseline, healthy));
            let candidate = if breaching { healthy + 400.0 } else { healthy };
            samples.push(sample(&target, Cohort::Candidate, candidate));
        }
        // Tagged with the epoch of the assignment they were measured under
        // (a newer one would reject them: never counted for another).
        let tagged = samples.into_iter().map(|s| a.tag(s)).collect();
        if let Ok(ack) = watch.client().send_tagged(tagged).await {
            if breaching && ack.accepted > 0 {
                let value = json!({
                    "event": "breach",
                    "target": target,
                    "proposal": id,
                    "phase": a.phase,
                    "epoch": a.epoch,
                    "accepted": ack.accepted,
                });
                shared.record(process, Kind::Ok, &target, value, None);
            }
        }
    }
}

/// Rolls back, as an operator, every rollout still in progress (one whose
/// agent could not finish it in time), so that the cluster settles before
/// the checks: a rollout in progress keeps the leader proposing. Returns
/// the targets rolled back, or what could not be done.
pub async fn settle(
    access: &crate::cluster::Access,
    targets: &[String],
) -> Result<Vec<String>, String> {
    let operator = crate::tasks::client(
        access,
        "operator",
        Duration::from_secs(5),
        Duration::from_secs(20),
    )
    .map_err(|e| format!("the operator client: {e:#}"))?;
    let mut rolled = Vec::new();
    for target in targets {
        let status = operator
            .rollout(RolloutRequest::Status {
                target_system: target.clone(),
                stale: false,
            })
            .await
            .map_err(|e| format!("the rollout status of {target}: {e}"))?;
        if status.rollout.is_none() {
            continue;
        }
        let request = WorkflowRequest::Rollback {
            target_system: target.clone(),
            reason: "arqonbus-chaos: the run is over".into(),
        };
        match operator.workflow(request).await {
            Ok(_) => rolled.push(target.clone()),
            // It may have ended meanwhile; the next status says.
            Err(e) => {
                let again = operator
                    .rollout(RolloutRequest::Status {
                        target_system: target.clone(),
                        stale: false,
                    })
                    .await
                    .map_err(|e| format!("the rollout status of {target}: {e}"))?;
                if again.rollout.is_some() {
                    return Err(format!("rolling back {target} at the end: {e}"));
                }
            }
        }
    }
    Ok(rolled)
}
