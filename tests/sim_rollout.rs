//! Simulated agents (`arqonbus-sim`'s `Agent`, in process) on real node
//! processes: a better candidate goes through shadow, canary and full to
//! steady on the agents' tagged telemetry alone; a candidate the model
//! makes three times slower breaches the latency guardrail in shadow and
//! is rolled back, and the agent logs the rollback and the steady
//! assignment it returns to.

mod common;

use arqonbus_client::proto::reply::RollbackReason;
use arqonbus_client::proto::rollout::{Assignment, STEADY};
use arqonbus_client::{AssignmentUpdate, AssignmentWatch, ParamValue, WatchOptions};
use arqonbus_proto::reply::Decision;
use arqonbus_proto::workflow::{WorkflowReply, WorkflowRequest};
use arqonbus_sim::{Agent, AgentOptions, AgentStats, Model};
use common::sessions::proposal;
use common::{one_cluster_at_a_time, within, Cluster, TARGET};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

const WAIT: Duration = Duration::from_secs(30);

const PLAN: &str = r#"
format = 2

[parameters.batch_size]
kind = "int"
min = 1
max = 256
default = 32
max_step_abs = 32
auto_approve = 4

[[guardrails]]
name = "max_latency_p99"
metric = "latency_p99"
aggregate = "p99"
window_s = 10
op = "<="
value = 275
min_samples = 20

[rollout]
phases = [
  { name = "shadow", share = 0, min_seconds = 1, min_samples = 20 },
  { name = "canary", share = 50, min_seconds = 1, min_samples = 20 },
  { name = "full", share = 100, min_seconds = 1, min_samples = 20 },
]
rollback_timeout_s = 600
"#;

/// The next assignment (after any rollback) on `updates`, with the
/// rollback that came before it.
async fn next_assignment(
    updates: &mut broadcast::Receiver<AssignmentUpdate>,
    what: &str,
) -> (Option<arqonbus_client::proto::reply::Rollback>, Assignment) {
    let mut rollback = None;
    loop {
        match within(what, WAIT, updates.recv())
            .await
            .expect("updates flow")
        {
            AssignmentUpdate::Rollback(r) => rollback = Some(r),
            AssignmentUpdate::Assignment(a) => return (rollback, a),
        }
    }
}

#[test]
fn simulated_agents_carry_a_rollout_through_and_trigger_a_rollback() {
    one_cluster_at_a_time(async {
        let cluster = Cluster::start().await;
        let operator = cluster.client("operator");
        let reply = operator
            .workflow(WorkflowRequest::SetConstraints {
                target_system: TARGET.into(),
                text: PLAN.into(),
                force: false,
            })
            .await
            .expect("constraints set");
        assert!(
            matches!(reply, WorkflowReply::ConstraintsSet { .. }),
            "{reply:?}"
        );

        // The test's own view of the assignment.
        let observer = AssignmentWatch::start(cluster.client("agent"), WatchOptions::new(TARGET))
            .expect("watch");
        let mut updates = observer.updates();
        let mut latest = observer.subscribe();
        within(
            "the first assignment",
            WAIT,
            latest.wait_for(|a| a.is_some()),
        )
        .await
        .expect("watch alive");

        // A simulated agent whose model makes batch_size 36 better than the
        // baseline (the end-of-rollout verdict compares them) and 40 three
        // times slower.
        let knobs = [
            "batch_size=36:latency_p99*0.8",
            "batch_size=36:error_rate*0.5",
            "batch_size=40:latency_p99*3",
        ];
        let model = Model {
            degrade: knobs.iter().map(|k| k.parse().expect("knob")).collect(),
            ..Model::default()
        };
        let options = AgentOptions {
            rate: 400.0,
            interval: Duration::from_millis(100),
            seed: 7,
            ..AgentOptions::default()
        };
        let watch = AssignmentWatch::start(cluster.client("agent"), WatchOptions::new(TARGET))
            .expect("agent watch");
        let mut agent = Agent::new(watch, model, options);
        let log = SharedLog::default();
        let mut out = log.clone();
        let sim = tokio::spawn(async move {
            let stats: AgentStats = agent
                .run(Some(Duration::from_secs(120)), &mut out)
                .await
                .expect("the agent runs");
            stats
        });

        let proposer = cluster.client("proposer");
        let approval = proposer
            .propose(proposal("sim-1", &[("batch_size", ParamValue::Int(36))]))
            .await
            .expect("proposal answered");
        assert_eq!(approval.decision, Decision::Approved, "{approval:?}");
        let mut phases = Vec::new();
        let done = loop {
            let (rollback, a) = next_assignment(&mut updates, "the healthy rollout").await;
            assert!(
                rollback.is_none(),
                "a healthy candidate rolled back: {rollback:?}"
            );
            if a.phase == STEADY && a.baseline.get("batch_size") == Some(&ParamValue::Int(36)) {
                break a;
            }
            if a.phase != STEADY {
                phases.push((a.phase.clone(), a.share));
            }
        };
        assert_eq!(
            phases,
            [
                ("shadow".to_string(), 0),
                ("canary".to_string(), 50),
                ("full".to_string(), 100)
            ]
        );
        assert!(done.candidate.is_none());

        let approval = proposer
            .propose(proposal("sim-2", &[("batch_size", ParamValue::Int(40))]))
            .await
            .expect("proposal answered");
        assert_eq!(approval.decision, Decision::Approved, "{approval:?}");
        let (_, shadow) = next_assignment(&mut updates, "the degraded candidate's shadow").await;
        assert_eq!((shadow.phase.as_str(), shadow.share), ("shadow", 0));
        let (rollback, back) = next_assignment(&mut updates, "the rollback").await;
        let rollback = rollback.expect("a rollback before the steady assignment");
        assert_eq!(rollback.proposal_id, "sim-2");
        assert_eq!(rollback.reason, RollbackReason::ConstraintViolation);
        assert_eq!(
            rollback.triggered_constraint.as_deref(),
            Some("max_latency_p99")
        );
        assert_eq!(back.phase, STEADY);
        assert_eq!(back.baseline.get("batch_size"), Some(&ParamValue::Int(36)));

        // The agent logged what it applied, the rollback before its steady
        // assignment included.
        let logged = within("the agent's log of the rollback", WAIT, async {
            loop {
                let lines = log.lines();
                let steady_after = lines
                    .iter()
                    .skip_while(|l| l["type"] != "rollback")
                    .any(|l| l["type"] == "assignment" && l["epoch"].as_u64() == Some(back.epoch));
                if steady_after {
                    return lines;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        let rollback_line = logged
            .iter()
            .find(|l| l["type"] == "rollback")
            .expect("a rollback line");
        assert_eq!(rollback_line["proposal_id"], "sim-2");
        assert!(logged
            .iter()
            .any(|l| l["phase"] == "canary" && l["share"] == 50));
        sim.abort();
        let _ = sim.await;
        drop(observer);
    });
}

/// The agent's stdout, kept for the test to read.
#[derive(Clone, Default)]
struct SharedLog(Arc<Mutex<Vec<u8>>>);

impl Write for SharedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl SharedLog {
    fn lines(&self) -> Vec<serde_json::Value> {
        let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("a JSON line ({e}): {l}")))
            .collect()
    }
}
