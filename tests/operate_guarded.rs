//! The older operator door (`operate` 0x10 `set_parameters` and
//! `set_constraints`) against three real nodes: a client written from
//! PROTOCOL.md that sends it instead of `workflow` (0x20) meets the same
//! guards: `frozen`, the cross-parameter rules, the pending proposal
//! (`active_proposal`, 21) and live values the new constraints would make
//! illegal (`live_out_of_bounds`, 22). Nothing changes on any refusal.

mod common;

use arqonbus_client::{Client, ClientError, Retry};
use arqonbus_core::{constraint_file, ParamValue};
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::operator::{OperatorReply, OperatorRequest};
use arqonbus_proto::reply::Decision;
use arqonbus_proto::workflow::{WorkflowReply, WorkflowRequest};
use arqonbus_proto::{Reply, Request};
use common::sessions::proposal;
use common::{one_cluster_at_a_time, three_nodes, TARGET};
use std::collections::BTreeMap;

const EXAMPLE: &str = include_str!("../examples/constraints.toml");

fn values(pairs: &[(&str, ParamValue)]) -> BTreeMap<String, ParamValue> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

async fn set_parameters(
    client: &Client,
    pairs: &[(&str, ParamValue)],
) -> Result<OperatorReply, ClientError> {
    let request = OperatorRequest::SetParameters {
        target_system: TARGET.into(),
        values: values(pairs),
        expected: None,
    };
    client.operate(request).await
}

async fn set_constraints(client: &Client, text: &str) -> Result<OperatorReply, ClientError> {
    let request = OperatorRequest::SetConstraints {
        target_system: TARGET.into(),
        constraints: constraint_file::parse("c.toml", text).expect("parses"),
    };
    client.operate(request).await
}

async fn live(client: &Client) -> BTreeMap<String, ParamValue> {
    let request = OperatorRequest::GetParameters {
        target_system: TARGET.into(),
        stale: false,
    };
    match client.operate(request).await {
        Ok(OperatorReply::Parameters { live, .. }) => live,
        other => panic!("get parameters: {other:?}"),
    }
}

/// The constraint names of an `operated` / `refused`.
fn violated(r: Result<OperatorReply, ClientError>) -> Vec<String> {
    match r {
        Ok(OperatorReply::Refused { violations, .. }) => {
            violations.into_iter().map(|v| v.constraint).collect()
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn code(r: Result<OperatorReply, ClientError>) -> ErrorCode {
    match r {
        Err(ClientError::Server { error, .. }) => error.code,
        other => panic!("expected a typed error, got {other:?}"),
    }
}

#[test]
fn the_older_operator_door_meets_the_constraint_engine() {
    one_cluster_at_a_time(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut c = three_nodes(dir.path(), &[]).await;
        let operator = c.client("operator").expect("operator");
        let set = WorkflowRequest::SetConstraints {
            target_system: TARGET.into(),
            text: EXAMPLE.into(),
            force: false,
        };
        let r = operator.workflow(set).await.expect("format 2 set");
        assert!(matches!(r, WorkflowReply::ConstraintsSet { .. }), "{r:?}");
        let before = live(&operator).await;

        // Frozen, a product rule and an implication, as `workflow` refuses them.
        let frozen = [(
            "request_class_routing",
            ParamValue::Enum("completion".into()),
        )];
        assert_eq!(
            violated(set_parameters(&operator, &frozen).await),
            ["frozen_request_class_routing"]
        );
        let budget = [("max_tokens", ParamValue::Int(8192))];
        assert_eq!(
            violated(set_parameters(&operator, &budget).await),
            ["token_budget"]
        );
        let hot = [
            ("speculative_decoding", ParamValue::Bool(true)),
            ("temperature", ParamValue::Float(1.5)),
        ];
        assert!(violated(set_parameters(&operator, &hot).await)
            .iter()
            .all(|c| c == "speculative_needs_low_temperature"));

        // A format-1 set through the old door keeps the policy: the frozen
        // parameter stays frozen afterwards.
        let r = set_constraints(&operator, EXAMPLE).await;
        assert!(
            matches!(r, Ok(OperatorReply::ConstraintsSet { .. })),
            "{r:?}"
        );
        assert_eq!(
            violated(set_parameters(&operator, &frozen).await),
            ["frozen_request_class_routing"]
        );

        // A pending proposal is the target's active rollout.
        let proposer = c.client("proposer").expect("proposer");
        let p = proposal("pending-1", &[("batch_size", ParamValue::Int(48))]);
        match proposer.call(Request::Proposal(p), Retry::Safe).await {
            Ok(Reply::Approval(a)) => assert_eq!(a.decision, Decision::PendingApproval),
            other => panic!("propose: {other:?}"),
        }
        let small = [("batch_size", ParamValue::Int(16))];
        assert!(matches!(
            code(set_parameters(&operator, &small).await),
            ErrorCode::ActiveProposal { ref proposal_id } if proposal_id == "pending-1"
        ));
        assert!(matches!(
            code(set_constraints(&operator, EXAMPLE).await),
            ErrorCode::ActiveProposal { .. }
        ));
        let reject = WorkflowRequest::Reject {
            proposal_id: "pending-1".into(),
            reason: "test over".into(),
        };
        operator.workflow(reject).await.expect("rejected");

        // Constraints that would make the live values illegal.
        let tight = EXAMPLE.replace("max = 256\ndefault = 32", "max = 16\ndefault = 8");
        assert!(matches!(
            code(set_constraints(&operator, &tight).await),
            ErrorCode::LiveOutOfBounds { ref parameters } if parameters == &["batch_size"]
        ));

        assert_eq!(live(&operator).await, before, "no refusal changed anything");
        c.stop_all().await.expect("stopped");
    });
}
