//! The approval workflow against three real nodes: a pending proposal
//! approved 2-of-2 by two operators, self-approval refused, expiry across
//! a leader kill, and a quarantined value refused after a manual rollback.

mod common;

use arqonbus_client::{Client, ClientError, Retry};
use arqonbus_core::ParamValue;
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::reply::{Decision, ProposalStatus};
use arqonbus_proto::rollout::RolloutRequest;
use arqonbus_proto::workflow::{ProposalDetail, WorkflowReply, WorkflowRequest};
use arqonbus_proto::{Reply, Request};
use common::sessions::proposal;
use common::{exe, one_cluster_at_a_time, three_nodes, TARGET};
use std::time::{Duration, Instant};

/// The example with a short expiry, no cooldown, and admins as approvers
/// too (so an admin's own proposal shows the self-approval refusal).
fn constraints() -> String {
    include_str!("../examples/constraints.toml")
        .replace("expiry_s = 3600", "expiry_s = 3")
        .replace("cooldown_s = 300", "cooldown_s = 0")
        .replace(
            "roles = [\"operator\"]",
            "roles = [\"operator\", \"admin\"]",
        )
}

async fn workflow(client: &Client, request: WorkflowRequest) -> Result<WorkflowReply, ClientError> {
    client.workflow(request).await
}

async fn show(client: &Client, id: &str) -> ProposalDetail {
    let request = WorkflowRequest::ShowProposal {
        proposal_id: id.into(),
        stale: false,
    };
    match workflow(client, request).await {
        Ok(WorkflowReply::Proposal(d)) => d,
        other => panic!("show {id}: {other:?}"),
    }
}

async fn propose(client: &Client, id: &str, value: i64) -> Decision {
    let p = proposal(id, &[("batch_size", ParamValue::Int(value))]);
    match client.call(Request::Proposal(p), Retry::Safe).await {
        Ok(Reply::Approval(a)) => a.decision,
        other => panic!("propose {id}: {other:?}"),
    }
}

async fn approve(client: &Client, id: &str) -> Result<WorkflowReply, ClientError> {
    let request = WorkflowRequest::Approve {
        proposal_id: id.into(),
        reason: "load test passed".into(),
    };
    workflow(client, request).await
}

fn code(r: Result<WorkflowReply, ClientError>) -> ErrorCode {
    match r {
        Err(ClientError::Server { error, .. }) => error.code,
        other => panic!("expected a typed error, got {other:?}"),
    }
}

fn issue(c: &arqonbus_testkit::LocalCluster, spec: &str) {
    let out = std::process::Command::new(exe())
        .args(["certs", "issue", "--ca-dir"])
        .arg(c.cert_dir())
        .args(["--client", spec])
        .output()
        .expect("certs issue runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn approvals_expiry_and_quarantine_on_three_nodes() {
    one_cluster_at_a_time(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut c = three_nodes(dir.path(), &[]).await;
        issue(&c, "alice:operator");
        issue(&c, "bob:operator");
        let operator = c.client("operator").expect("operator");
        let set = WorkflowRequest::SetConstraints {
            target_system: TARGET.into(),
            text: constraints(),
            force: false,
        };
        let r = workflow(&operator, set).await.expect("constraints set");
        assert!(matches!(r, WorkflowReply::ConstraintsSet { .. }), "{r:?}");
        let proposer = c.client("proposer").expect("proposer");
        let (alice, bob) = (
            c.client("alice").expect("alice"),
            c.client("bob").expect("bob"),
        );
        let admin = c.client("admin").expect("admin");

        // 2-of-2: a step of 32 from 32 is beyond large_step_rel 0.5.
        assert_eq!(
            propose(&proposer, "big-1", 64).await,
            Decision::PendingApproval
        );
        let d = show(&operator, "big-1").await;
        assert_eq!((d.required_approvals, d.approvals.len()), (2, 0));
        let r = approve(&alice, "big-1").await.expect("alice approves");
        assert!(
            matches!(r, WorkflowReply::Proposal(ref d) if d.decision == Decision::PendingApproval)
        );
        assert!(matches!(
            code(approve(&alice, "big-1").await),
            ErrorCode::AlreadyApproved { .. }
        ));
        assert!(matches!(
            code(approve(&proposer, "big-1").await),
            ErrorCode::Forbidden
        ));
        let r = approve(&bob, "big-1").await.expect("bob approves");
        let WorkflowReply::Proposal(d) = r else {
            panic!("{r:?}")
        };
        assert_eq!(d.decision, Decision::Approved);
        assert_eq!(
            d.approvals
                .iter()
                .map(|a| a.identity.as_str())
                .collect::<Vec<_>>(),
            ["alice", "bob"]
        );
        // The approval started big-1's rollout, which holds the target:
        // promote it to steady, then set batch_size back for what follows.
        let promote = RolloutRequest::Promote {
            target_system: TARGET.into(),
            full: true,
            reason: "checked by hand".into(),
        };
        let r = operator
            .call(Request::Rollout(promote), Retry::OnlyIfNotSent)
            .await;
        assert!(
            matches!(r, Ok(Reply::RolloutStatus(ref s)) if s.rollout.is_none()),
            "{r:?}"
        );
        let reset = WorkflowRequest::SetParameters {
            target_system: TARGET.into(),
            values: [("batch_size".to_string(), ParamValue::Int(32))].into(),
            expected: Some([("batch_size".to_string(), ParamValue::Int(64))].into()),
            force: false,
        };
        workflow(&operator, reset)
            .await
            .expect("batch_size back to 32");

        // Self-approval: the admin proposes, then tries to approve its own.
        let own = proposal("own-1", &[("batch_size", ParamValue::Int(48))]);
        let r = admin.call(Request::Proposal(own), Retry::Safe).await;
        assert!(
            matches!(r, Ok(Reply::Approval(ref a)) if a.decision == Decision::PendingApproval),
            "{r:?}"
        );
        assert!(matches!(
            code(approve(&admin, "own-1").await),
            ErrorCode::SelfApproval { .. }
        ));
        let reject = WorkflowRequest::Reject {
            proposal_id: "own-1".into(),
            reason: "not today".into(),
        };
        workflow(&alice, reject).await.expect("rejected");
        assert_eq!(
            show(&operator, "own-1").await.status,
            ProposalStatus::Rejected
        );

        // Expiry across a leader kill: the new leader expires it.
        assert_eq!(
            propose(&proposer, "slow-1", 48).await,
            Decision::PendingApproval
        );
        let (leader, _) = c.leader(&operator, &c.ids()).await.expect("a leader");
        c.kill(leader).await.expect("leader killed");
        let started = Instant::now();
        loop {
            let request = WorkflowRequest::ShowProposal {
                proposal_id: "slow-1".into(),
                stale: false,
            };
            if let Ok(WorkflowReply::Proposal(d)) = workflow(&operator, request).await {
                if d.status == ProposalStatus::Expired {
                    assert!(d
                        .closed_by
                        .as_deref()
                        .is_some_and(|b| b.starts_with("expire")));
                    break;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "slow-1 did not expire within 60 s of a leader kill"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        c.start(leader).expect("old leader restarts");

        // Quarantine after a manual rollback of an approved candidate.
        assert_eq!(propose(&proposer, "small-1", 36).await, Decision::Approved);
        let rollback = WorkflowRequest::Rollback {
            target_system: TARGET.into(),
            reason: "latency regressed".into(),
        };
        let r = workflow(&operator, rollback).await.expect("rolled back");
        assert!(matches!(r, WorkflowReply::RolledBack { .. }), "{r:?}");
        let again = proposal("small-2", &[("batch_size", ParamValue::Int(36))]);
        let Ok(Reply::Approval(a)) = proposer.call(Request::Proposal(again), Retry::Safe).await
        else {
            panic!("no approval")
        };
        assert_eq!(a.decision, Decision::Rejected);
        assert_eq!(
            a.rejected_changes[0].constraint_violated.as_deref(),
            Some("quarantine_batch_size")
        );
        let d = show(&operator, "small-2").await;
        assert!(
            d.rejected[0].allowed.is_some(),
            "the quarantine's end is machine-readable"
        );
        c.stop_all().await.expect("stopped");
    });
}
