//! Rollouts on three real nodes with test agents: to steady, a breach in
//! canary, a noisy sample under the minimum count, no telemetry, a leader
//! SIGKILLed mid-rollout, a breach seen on both sides of a failover, and
//! twenty targets at once.

mod common;

use arqonbus_client::{Client, Retry};
use arqonbus_core::ParamValue;
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::message::Cohort;
use arqonbus_proto::operator::{OperatorReply, OperatorRequest};
use arqonbus_proto::reply::{Decision, RollbackReason};
use arqonbus_proto::rollout::RolloutStatus;
use arqonbus_proto::workflow::{WorkflowReply, WorkflowRequest};
use arqonbus_proto::{Reply, Request};
use common::agent::{status, Agent, Latency};
use common::{one_cluster_at_a_time, three_nodes, wait_for};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long a rollout of the short plan may take on a loaded machine.
const ROLLOUT_WAIT: Duration = Duration::from_secs(60);

/// A short plan: shadow, canary 10%, full; p90 latency at most 100 over
/// at least 10 samples; no telemetry for `timeout_s` rolls back.
fn constraints(timeout_s: u64) -> String {
    format!(
        r#"format = 2
[parameters.batch_size]
kind = "int"
min = 1
max = 256
default = 32

[[guardrails]]
name = "max_latency"
metric = "latency_p99"
aggregate = "p90"
window_s = 30
op = "<="
value = 100.0
min_samples = 10

[rollout]
phases = [
  {{ name = "shadow", share = 0, min_seconds = 1, min_samples = 20 }},
  {{ name = "canary", share = 10, min_seconds = 1, min_samples = 20 }},
  {{ name = "full", share = 100, min_seconds = 1, min_samples = 20 }},
]
rollback_timeout_s = {timeout_s}
marginal_needs_operator = false
inconclusive_needs_operator = false

[anti_flapping]
cooldown_s = 0
quarantine_s = 60
"#
    )
}

/// Sends `request` again while the answer is `outcome_unknown` (a loaded
/// machine missing the request deadline); `what` names it in a panic.
async fn retried(client: &Client, what: &str, request: Request) -> Reply {
    for _ in 0..5 {
        match client.call(request.clone(), Retry::Safe).await {
            Err(e) if matches!(e.code(), Some(ErrorCode::OutcomeUnknown)) => continue,
            Ok(reply) => return reply,
            Err(e) => panic!("{what}: {e}"),
        }
    }
    panic!("{what}: no outcome after 5 tries")
}

/// Sets the constraints of a new target (the same text again is harmless,
/// so an unknown outcome is retried).
async fn configure(operator: &Client, target: &str, timeout_s: u64) {
    let set = WorkflowRequest::SetConstraints {
        target_system: target.into(),
        text: constraints(timeout_s),
        force: false,
    };
    let r = retried(operator, "constraints set", Request::Workflow(set)).await;
    assert!(
        matches!(r, Reply::Workflowed(WorkflowReply::ConstraintsSet { .. })),
        "{r:?}"
    );
}

async fn propose(proposer: &Client, target: &str, id: &str, value: i64) {
    let mut p = common::sessions::proposal(id, &[("batch_size", ParamValue::Int(value))]);
    p.target_system = target.into();
    match retried(proposer, id, Request::Proposal(p)).await {
        Reply::Approval(a) => assert_eq!(a.decision, Decision::Approved, "{a:?}"),
        other => panic!("propose {id}: {other:?}"),
    }
}

async fn live(client: &Client, target: &str) -> ParamValue {
    let op = OperatorRequest::GetParameters {
        target_system: target.into(),
        stale: false,
    };
    match client.operate(op).await.expect("parameters") {
        OperatorReply::Parameters { live, .. } => live["batch_size"].clone(),
        other => panic!("{other:?}"),
    }
}

/// The whole audit log, from the leader (`stale: false`).
async fn audit(client: &Client) -> Vec<arqonbus_core::audit::AuditEntry> {
    let (mut out, mut next) = (Vec::new(), 1);
    loop {
        let request = OperatorRequest::AuditRange {
            from_index: next,
            limit: 1000,
            stale: false,
        };
        let Ok(OperatorReply::AuditEntries {
            entries,
            head_index,
        }) = client.operate(request).await
        else {
            panic!("the audit log could not be read");
        };
        let last = entries.last().map(|e| e.index);
        out.extend(entries);
        match last {
            Some(l) if l < head_index => next = l + 1,
            _ => return out,
        }
    }
}

/// Waits until the target's rollout is over; returns its status.
async fn finished(client: &Client, target: &str) -> RolloutStatus {
    wait_for(
        &format!("the rollout on {target} to end"),
        ROLLOUT_WAIT,
        || async { status(client, target).await.filter(|s| s.rollout.is_none()) },
    )
    .await
}

/// Waits until the target's rollout is in `phase`.
async fn in_phase(client: &Client, target: &str, phase: &str) {
    wait_for(
        &format!("{target} to reach {phase}"),
        ROLLOUT_WAIT,
        || async {
            let s = status(client, target).await?;
            (s.rollout?.phase == phase).then_some(())
        },
    )
    .await
}

fn healthy() -> Latency {
    Arc::new(|_, _| Some(50.0))
}

/// Healthy, but the candidate breaches once it serves canary traffic.
fn breaching_in_canary() -> Latency {
    Arc::new(|cohort, phase| match (cohort, phase) {
        (Cohort::Candidate, "canary") => Some(500.0),
        _ => Some(50.0),
    })
}

const EVERY: Duration = Duration::from_millis(100);

#[test]
fn rollouts_reach_steady_roll_back_on_breach_and_on_silence() {
    one_cluster_at_a_time(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let c = three_nodes(dir.path(), &[]).await;
        let operator = c.client("operator").expect("operator");
        let proposer = c.client("proposer").expect("proposer");
        let agent = || c.client("agent").expect("agent");
        for t in ["steady-t", "breach-t", "noisy-t"] {
            configure(&operator, t, 30).await;
        }
        configure(&operator, "silent-t", 2).await;

        // To steady: the candidate is live only once every phase passed.
        let a1 = Agent::spawn(agent(), "steady-t", 10, EVERY, healthy());
        // A breach in canary rolls back.
        let a2 = Agent::spawn(agent(), "breach-t", 10, EVERY, breaching_in_canary());
        propose(&proposer, "steady-t", "s-1", 40).await;
        propose(&proposer, "breach-t", "b-1", 40).await;
        // No telemetry at all: rolled back after the 2 s timeout.
        propose(&proposer, "silent-t", "q-1", 40).await;

        in_phase(&operator, "steady-t", "canary").await;
        assert_eq!(
            live(&operator, "steady-t").await,
            ParamValue::Int(32),
            "live waits for steady"
        );
        let s = finished(&operator, "steady-t").await;
        assert!(s.recent_rollbacks.is_empty(), "{s:?}");
        assert_eq!(s.recent_verdicts.len(), 1, "{s:?}");
        assert_eq!(live(&operator, "steady-t").await, ParamValue::Int(40));

        let s = finished(&operator, "breach-t").await;
        let r = s.recent_rollbacks.first().expect("a rollback");
        assert_eq!(
            (r.reason, r.triggered_constraint.as_deref()),
            (RollbackReason::ConstraintViolation, Some("max_latency"))
        );
        assert_eq!(live(&operator, "breach-t").await, ParamValue::Int(32));

        let s = finished(&operator, "silent-t").await;
        let r = s.recent_rollbacks.first().expect("a rollback");
        assert_eq!(r.reason, RollbackReason::MissingTelemetry, "{s:?}");

        // One noisy candidate sample, alone under the minimum count, does
        // not roll back; the rollout then completes.
        let noisy: Latency = Arc::new(|cohort, phase| match (cohort, phase) {
            (Cohort::Candidate, "shadow") => Some(10_000.0),
            _ => None,
        });
        propose(&proposer, "noisy-t", "n-1", 40).await;
        let once = Agent::spawn(agent(), "noisy-t", 1, Duration::from_secs(3600), noisy);
        wait_for("the noisy sample to be taken", ROLLOUT_WAIT, || async {
            (once.acknowledged() > 0).then_some(())
        })
        .await;
        // The sample was evaluated before its ack; a rollback it caused
        // would be proposed at once. Nothing to await for a non-event: give
        // it three scheduler ticks.
        tokio::time::sleep(Duration::from_millis(600)).await;
        once.stop().await;
        let s = status(&operator, "noisy-t").await.expect("status");
        assert!(
            s.recent_rollbacks.is_empty(),
            "one noisy sample rolled back: {s:?}"
        );
        let a3 = Agent::spawn(agent(), "noisy-t", 10, EVERY, healthy());
        let s = finished(&operator, "noisy-t").await;
        assert!(s.recent_rollbacks.is_empty(), "{s:?}");
        assert_eq!(live(&operator, "noisy-t").await, ParamValue::Int(40));
        for a in [a1, a2, a3] {
            a.stop().await;
        }
    });
}

#[test]
fn a_rollout_survives_a_leader_kill_and_a_breach_across_it_rolls_back_once() {
    one_cluster_at_a_time(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut c = three_nodes(dir.path(), &[]).await;
        let operator = c.client("operator").expect("operator");
        let proposer = c.client("proposer").expect("proposer");
        configure(&operator, "kill-t", 30).await;
        configure(&operator, "twice-t", 30).await;
        let a1 = Agent::spawn(
            c.client("agent").expect("agent"),
            "kill-t",
            10,
            EVERY,
            healthy(),
        );
        propose(&proposer, "kill-t", "k-1", 40).await;
        in_phase(&operator, "kill-t", "canary").await;
        let (leader, _) = c.leader(&operator, &c.ids()).await.expect("a leader");
        c.kill(leader).await.expect("leader killed");
        let s = finished(&operator, "kill-t").await;
        assert!(s.recent_rollbacks.is_empty(), "{s:?}");
        assert_eq!(live(&operator, "kill-t").await, ParamValue::Int(40));
        a1.stop().await;
        c.start(leader).expect("restarted");

        // In canary the candidate starts to breach and the leader is
        // killed at once, so both leaders may see the breach: one rollback.
        let breach = Arc::new(AtomicBool::new(false));
        let on = breach.clone();
        let latency: Latency = Arc::new(move |cohort, _| match cohort {
            Cohort::Candidate if on.load(Ordering::Relaxed) => Some(500.0),
            _ => Some(50.0),
        });
        let a2 = Agent::spawn(
            c.client("agent").expect("agent"),
            "twice-t",
            10,
            EVERY,
            latency,
        );
        propose(&proposer, "twice-t", "t-1", 40).await;
        in_phase(&operator, "twice-t", "canary").await;
        let (leader, _) = c.leader(&operator, &c.ids()).await.expect("a leader");
        breach.store(true, Ordering::Relaxed);
        c.kill(leader).await.expect("leader killed");
        let s = finished(&operator, "twice-t").await;
        assert_eq!(s.recent_rollbacks.len(), 1, "{s:?}");
        a2.stop().await;
        let entries = audit(&operator).await;
        let rollbacks = entries
            .iter()
            .filter(|e| e.target == "twice-t" && e.action == "rollback")
            .count();
        assert_eq!(rollbacks, 1, "exactly one rollback in the audit log");
        c.stop_all().await.expect("stopped");
    });
}

#[test]
fn twenty_targets_roll_out_at_once() {
    one_cluster_at_a_time(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let c = three_nodes(dir.path(), &[]).await;
        let operator = c.client("operator").expect("operator");
        let proposer = c.client("proposer").expect("proposer");
        let names: Vec<String> = (0..20).map(|i| format!("many-{i}")).collect();
        let mut agents = Vec::new();
        for (i, t) in names.iter().enumerate() {
            configure(&operator, t, 60).await;
            agents.push(Agent::spawn(
                c.client("agent").expect("agent"),
                t,
                5,
                Duration::from_millis(300),
                healthy(),
            ));
            propose(&proposer, t, &format!("m-{i}"), 40).await;
        }
        for t in &names {
            let s = finished(&operator, t).await;
            assert!(s.recent_rollbacks.is_empty(), "{t}: {s:?}");
            assert_eq!(live(&operator, t).await, ParamValue::Int(40), "{t}");
        }
        for a in agents {
            a.stop().await;
        }
    });
}
