//! Attack, and its exception: an unsigned proposal is refused
//! `unauthenticated` for a target whose constraint file keeps the default
//! `[security] signing_required = true`, and accepted for one whose file
//! says `false`. The target's replicated policy decides, not the node.

use super::*;
use arqonbus_proto::workflow::{WorkflowReply, WorkflowRequest};

/// A target that does not require signed changes.
const OPEN: &str = "unsigned-ok-service";

fn open_constraints() -> String {
    include_str!("../../examples/constraints.toml")
        .replace("signing_required = true", "signing_required = false")
}

#[test]
fn a_targets_signing_required_decides_whether_an_unsigned_proposal_is_taken() {
    security_test(async {
        let s = Suite::start(&[]).await;
        let set = WorkflowRequest::SetConstraints {
            target_system: OPEN.into(),
            text: open_constraints(),
            force: false,
        };
        let r = s.admin.workflow(set).await.expect("constraints set");
        assert!(matches!(r, WorkflowReply::ConstraintsSet { .. }), "{r:?}");
        let raw = s.raw("proposer").await;
        let unsigned = |target: &str, id: &str| {
            let mut p = common::sessions::proposal(id, &[("batch_size", ParamValue::Int(36))]);
            p.target_system = target.into();
            arqonbus_proto::encode(&Message::Request(
                envelope(Envelope::random_session(), 1, UnixMillis::now()),
                Request::Proposal(p),
            ))
            .expect("encodes")
        };
        let reply = raw
            .exchange(&unsigned(OPEN, "unsigned-open-1"))
            .await
            .expect("answered");
        match reply {
            Reply::Approval(a) => assert_eq!(a.proposal_id, "unsigned-open-1"),
            other => panic!("an unsigned proposal to {OPEN} was not decided: {other:?}"),
        }
        let before = s.live().await;
        let reply = raw
            .exchange(&unsigned(TARGET, "unsigned-closed-1"))
            .await
            .expect("answered");
        assert_eq!(code(&reply), Ok(&ErrorCode::Unauthenticated), "{reply:?}");
        assert_eq!(s.live().await, before, "nothing changed on {TARGET}");
        s.good_is_served("good-signing-policy").await;
        s.summarised("proposer", "bad_signature", 1).await;
    });
}
