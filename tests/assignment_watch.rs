//! The agent's assignment watch on real node processes: a format-2
//! constraint file with a short rollout plan, a small auto-approved change
//! seen as the shadow assignment with its candidate, the SIGKILL of the
//! node serving the watch and the watch going on elsewhere (a promote then
//! reaches it), tagged telemetry under the current epoch, a manual
//! rollback forwarded before the steady assignment it made, and the
//! last-known-good file serving an agent that cannot reach the cluster.

mod common;

use arqonbus_client::proto::message::{Cohort, TelemetryContext, TelemetrySample};
use arqonbus_client::proto::rollout::{Assignment, RolloutRequest, STEADY};
use arqonbus_client::{
    AssignmentUpdate, AssignmentWatch, Client, ClientOptions, CohortSplit, TlsCredentials,
    WatchOptions,
};
use arqonbus_core::ParamValue;
use arqonbus_proto::reply::Decision;
use arqonbus_proto::workflow::{WorkflowReply, WorkflowRequest};
use arqonbus_proto::UnixMillis;
use common::sessions::proposal;
use common::{one_cluster_at_a_time, within, Cluster, TARGET};
use std::time::Duration;
use tokio::sync::watch;

const WAIT: Duration = Duration::from_secs(30);

/// One parameter, one guardrail, three one-second phases; no telemetry
/// for ten minutes before a missing-telemetry rollback.
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
min_samples = 5

[rollout]
phases = [
  { name = "shadow", share = 0, min_seconds = 1, min_samples = 1000 },
  { name = "canary", share = 50, min_seconds = 1, min_samples = 1000 },
  { name = "full", share = 100, min_seconds = 1, min_samples = 1000 },
]
rollback_timeout_s = 600
"#;

async fn set_plan(operator: &Client) {
    // Format 2 (the plan, the guardrails) goes through the workflow
    // request, which takes the file's text.
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
}

/// Waits until the watch's assignment satisfies `cond`; returns it.
async fn wait_assignment(
    rx: &mut watch::Receiver<Option<Assignment>>,
    what: &str,
    cond: impl Fn(&Assignment) -> bool,
) -> Assignment {
    within(what, WAIT, rx.wait_for(|a| a.as_ref().is_some_and(&cond)))
        .await
        .expect("the watch is alive")
        .clone()
        .expect("an assignment")
}

fn batch_size(a: &arqonbus_client::proto::message::Parameters) -> Option<&ParamValue> {
    a.get("batch_size")
}

fn sample(cohort: Cohort) -> TelemetrySample {
    TelemetrySample {
        timestamp: UnixMillis::now(),
        source: "assignment-watch-test".into(),
        target_system: TARGET.into(),
        metrics: [("latency_p99".to_string(), 150.0)].into(),
        parameters: Default::default(),
        context: TelemetryContext {
            request_class: None,
            hardware: None,
            load_factor: None,
        },
        cohort,
    }
}

#[test]
fn the_assignment_watch_follows_a_rollout_across_a_node_kill() {
    one_cluster_at_a_time(async {
        let mut cluster = Cluster::start().await;
        let operator = cluster.client("operator");
        set_plan(&operator).await;
        let lkg_dir = tempfile::tempdir().expect("tempdir");
        let lkg = lkg_dir.path().join("lkg.json");

        // A plain stream answers at once with the current assignment.
        let mut raw = within(
            "the raw watch",
            WAIT,
            cluster.client("agent").watch_assignment(TARGET),
        )
        .await
        .expect("the stream opens");
        let first = within("the first frame", WAIT, raw.next()).await;
        assert!(
            matches!(first, Ok(Some(AssignmentUpdate::Assignment(_)))),
            "{first:?}"
        );
        drop(raw);

        let mut options = WatchOptions::new(TARGET);
        options.last_known_good = Some(lkg.clone());
        let watch = AssignmentWatch::start(cluster.client("agent"), options).expect("watch");
        let mut updates = watch.updates();
        let mut latest = watch.subscribe();
        let steady =
            wait_assignment(&mut latest, "the steady assignment", |a| a.phase == STEADY).await;
        assert_eq!(batch_size(&steady.baseline), Some(&ParamValue::Int(32)));

        let approval = cluster
            .client("proposer")
            .propose(proposal("aw-1", &[("batch_size", ParamValue::Int(34))]))
            .await
            .expect("proposal answered");
        assert_eq!(approval.decision, Decision::Approved, "{approval:?}");

        let shadow = wait_assignment(&mut latest, "the shadow assignment", |a| {
            a.phase == "shadow"
        })
        .await;
        assert!(shadow.epoch > steady.epoch);
        assert_eq!(shadow.proposal_id.as_deref(), Some("aw-1"));
        assert_eq!(shadow.share, 0);
        let candidate = shadow.candidate.as_ref().expect("a candidate");
        assert_eq!(batch_size(candidate), Some(&ParamValue::Int(34)));
        for i in 0..100 {
            assert_eq!(shadow.cohort_for(format!("user-{i}")), Cohort::Baseline);
        }
        assert_eq!(shadow.parameters_for(Cohort::Candidate), candidate);

        // Kill the node serving the watch; the watch goes on elsewhere.
        let mut serving = watch.serving();
        let endpoint = within("the serving node", WAIT, serving.wait_for(|s| s.is_some()))
            .await
            .expect("the watch is alive")
            .clone()
            .expect("an endpoint");
        let idx = cluster
            .endpoints
            .iter()
            .position(|e| *e == endpoint)
            .expect("a cluster endpoint");
        cluster.kill(idx).await;
        let moved = within(
            "the watch on another node after the SIGKILL",
            WAIT,
            serving.wait_for(|s| s.as_ref().is_some_and(|s| *s != endpoint)),
        )
        .await
        .expect("the watch is alive")
        .clone()
        .expect("an endpoint");
        assert_ne!(moved, endpoint);
        // The last assignment was kept meanwhile.
        assert_eq!(watch.current().map(|a| a.epoch), Some(shadow.epoch));

        let status = within(
            "the promote",
            WAIT,
            operator.rollout(RolloutRequest::Promote {
                target_system: TARGET.into(),
                full: false,
                reason: "test".into(),
            }),
        )
        .await
        .expect("promoted");
        let view = status.rollout.expect("a rollout");
        assert_eq!((view.phase.as_str(), view.share), ("canary", 50));
        let canary = wait_assignment(&mut latest, "the canary assignment", |a| {
            a.phase == "canary"
        })
        .await;
        assert!(canary.epoch > shadow.epoch);
        assert_eq!(canary.share, 50);
        let candidates = (0..10_000)
            .filter(|i| canary.cohort_for(format!("user-{i}")) == Cohort::Candidate)
            .count();
        assert!((4_500..5_500).contains(&candidates), "{candidates}");

        // Telemetry tagged with the current epoch is taken.
        let ack = within(
            "tagged telemetry",
            WAIT,
            watch.send_telemetry(vec![sample(Cohort::Baseline), sample(Cohort::Candidate)]),
        )
        .await
        .expect("telemetry sent");
        assert_eq!((ack.accepted, ack.rejected), (2, 0));
        // One tagged with an epoch that no longer holds is not.
        let stale = shadow.tag(sample(Cohort::Baseline));
        let ack = cluster
            .client("agent")
            .send_tagged(vec![stale])
            .await
            .expect("telemetry sent");
        assert_eq!((ack.accepted, ack.rejected), (0, 1));

        // A manual rollback: the rollback, then the steady assignment.
        let reply = within(
            "the rollback",
            WAIT,
            operator.workflow(WorkflowRequest::Rollback {
                target_system: TARGET.into(),
                reason: "test rollback".into(),
            }),
        )
        .await
        .expect("rolled back");
        assert!(
            matches!(reply, WorkflowReply::RolledBack { .. }),
            "{reply:?}"
        );
        let mut rollback_seen = false;
        let back = loop {
            let u = within("the rollback's updates", WAIT, updates.recv())
                .await
                .expect("updates flow");
            match u {
                AssignmentUpdate::Rollback(r) => {
                    assert_eq!(r.proposal_id, "aw-1");
                    rollback_seen = true;
                }
                AssignmentUpdate::Assignment(a) if a.epoch > canary.epoch => break a,
                AssignmentUpdate::Assignment(_) => {}
            }
        };
        assert!(rollback_seen, "the rollback comes before its assignment");
        assert_eq!(back.phase, STEADY);
        assert_eq!(batch_size(&back.baseline), Some(&ParamValue::Int(32)));
        drop(watch);

        // An agent that cannot reach the cluster starts on last-known-good.
        let creds = TlsCredentials::from_dir(&cluster.certs(), "agent").expect("certificate");
        let nowhere =
            Client::new(ClientOptions::new(vec!["127.0.0.1:9".into()], creds)).expect("client");
        let mut options = WatchOptions::new(TARGET);
        options.last_known_good = Some(lkg);
        let offline = AssignmentWatch::start(nowhere, options).expect("watch");
        let a = offline.current().expect("the last-known-good assignment");
        assert_eq!((a.epoch, a.phase.as_str()), (0, STEADY));
        assert_eq!(batch_size(&a.baseline), Some(&ParamValue::Int(32)));
    });
}
