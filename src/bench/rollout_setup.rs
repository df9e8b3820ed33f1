//! What the rollout benches (`bench rollback`) set up on a target: a
//! format-2 constraint file with a plan and one guardrail, an
//! auto-approved proposal, and tagged samples as an agent sends them.

use super::cluster::ClusterBenchError;
use arqonbus_client::{Client, Retry};
use arqonbus_core::ParamValue;
use arqonbus_proto::message::{
    Cohort, Proposal, ProposedChange, TelemetryContext, TelemetrySample,
};
use arqonbus_proto::reply::Decision;
use arqonbus_proto::rollout::TaggedSample;
use arqonbus_proto::workflow::{WorkflowReply, WorkflowRequest};
use arqonbus_proto::{Reply, Request, UnixMillis};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The one parameter every rollout bench target has (default 32).
pub const PARAMETER: &str = "batch_size";
/// The metric the guardrail watches, and its limit.
pub const METRIC: &str = "latency_p99";
pub const LIMIT: f64 = 100.0;
/// A value well within the guardrail, and one that breaches it.
pub const HEALTHY: f64 = 50.0;
pub const BREACHING: f64 = 10_000.0;

/// One phase of a plan: name, share (%), min_seconds, min_samples.
pub type Phase = (&'static str, u8, u64, u64);

/// A format-2 file: `batch_size` (int 1..=256, default 32); the guardrail
/// `max_latency` (the max of `latency_p99` over 60 s at most 100, judged
/// from one sample, one breach rolls back); the plan `phases`; no
/// missing-telemetry rollback for an hour; no cooldown nor quarantine, so
/// a target can roll out again at once after a rollback.
pub fn constraints(phases: &[Phase]) -> String {
    let mut t = format!(
        "format = 2\n\
         [parameters.{PARAMETER}]\nkind = \"int\"\nmin = 1\nmax = 256\ndefault = 32\n\n\
         [[guardrails]]\nname = \"max_latency\"\nmetric = \"{METRIC}\"\naggregate = \"max\"\n\
         window_s = 60\nop = \"<=\"\nvalue = {LIMIT:.1}\nmin_samples = 1\nfailure_limit = 1\n\n\
         [rollout]\nphases = [\n"
    );
    for (name, share, min_seconds, min_samples) in phases {
        let _ = writeln!(
            t,
            "  {{ name = \"{name}\", share = {share}, min_seconds = {min_seconds}, min_samples = {min_samples} }},"
        );
    }
    t.push_str(
        "]\nrollback_timeout_s = 3600\nmarginal_needs_operator = false\n\
         inconclusive_needs_operator = false\n\n\
         [anti_flapping]\ncooldown_s = 0\nquarantine_s = 0\n",
    );
    t
}

/// Sets `target`'s constraints to `text` (through `operator`).
pub async fn configure(
    operator: &Client,
    target: &str,
    text: &str,
) -> Result<(), ClusterBenchError> {
    // Setting the same text again is harmless: an outcome left unknown
    // (a connection to a node killed meanwhile) is tried again.
    let mut tries = 0;
    loop {
        let set = WorkflowRequest::SetConstraints {
            target_system: target.into(),
            text: text.into(),
            force: true,
        };
        match operator.workflow(set).await {
            Ok(WorkflowReply::ConstraintsSet { .. }) => return Ok(()),
            Ok(other) => {
                return Err(ClusterBenchError::Setup(format!(
                    "{target}'s constraints were not set: {other:?}"
                )))
            }
            Err(_) if tries < 3 => tries += 1,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Proposes `batch_size = value` on `target` as `id`; it must be approved
/// (a rollout starts).
pub async fn propose(
    proposer: &Client,
    target: &str,
    id: &str,
    value: i64,
) -> Result<(), ClusterBenchError> {
    let proposal = Proposal {
        proposal_id: id.into(),
        source: "bench-rollback".into(),
        target_system: target.into(),
        timestamp: UnixMillis::now(),
        changes: vec![ProposedChange {
            parameter: PARAMETER.into(),
            current_value: ParamValue::Int(32),
            proposed_value: ParamValue::Int(value),
            reason: "bench".into(),
        }],
        expected_impact: BTreeMap::new(),
        confidence: 0.5,
        duration_seconds: 60,
    };
    match proposer
        .call(Request::Proposal(proposal), Retry::Safe)
        .await?
    {
        Reply::Approval(a) if a.decision == Decision::Approved => Ok(()),
        other => Err(ClusterBenchError::Setup(format!(
            "proposal {id} on {target} was not approved: {other:?}"
        ))),
    }
}

/// A sample of `target` measured under `epoch` by `cohort`.
pub fn tagged(target: &str, epoch: u64, cohort: Cohort, latency: f64) -> TaggedSample {
    TaggedSample {
        epoch,
        sample: TelemetrySample {
            timestamp: UnixMillis::now(),
            source: "bench-agent".into(),
            target_system: target.into(),
            metrics: BTreeMap::from([(METRIC.to_string(), latency)]),
            parameters: BTreeMap::new(),
            context: TelemetryContext {
                request_class: None,
                hardware: None,
                load_factor: None,
            },
            cohort,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bench_constraint_file_parses_with_its_plan_and_guardrail() {
        let text = constraints(&[("shadow", 0, 3600, 1_000_000), ("full", 100, 1, 5)]);
        let file = arqonbus_core::constraint_file::parse_file("bench.toml", &text)
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let g = &file.policy.guardrails;
        assert_eq!(g.len(), 1, "{text}");
        assert_eq!((g[0].min_samples, g[0].failure_limit), (1, 1));
    }
}
