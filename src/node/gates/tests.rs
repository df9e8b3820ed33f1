//! The gates, on requests built in memory: their order (what a request
//! that fails several gates is told is decided by the first), and whose
//! policy decides whether a change must be signed.

use super::*;
use arqonbus_core::Role;
use arqonbus_proto::message::StatusQuery;
use arqonbus_proto::operator::OperatorRequest;
use arqonbus_proto::{SigScheme, Signature};
use arqonbus_transport::MessageSigner;

fn signer() -> MessageSigner {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).expect("key");
    MessageSigner::from_pkcs8(key.serialized_der()).expect("signer")
}

fn change() -> Request {
    Request::Operate(OperatorRequest::SetParameters {
        target_system: "t".into(),
        values: Default::default(),
        expected: None,
    })
}

fn envelope(seq: u64, sign: Option<(&MessageSigner, &Request)>) -> Envelope {
    let mut e = Envelope {
        session: 5,
        seq,
        sent_at: UnixMillis::now(),
        signature: None,
    };
    if let Some((s, r)) = sign {
        let bytes = r.signed_bytes(&e).expect("bytes");
        e.signature = Some(Signature {
            scheme: SigScheme::Ed25519,
            bytes: s.sign(&bytes),
        });
    }
    e
}

#[test]
fn each_gate_refuses_in_its_turn() {
    let gates = Gates::new(SecuritySettings {
        changes_per_second: 1,
        ..SecuritySettings::default()
    });
    let key = signer();
    let operator = Identity::new("operator", Role::Operator).expect("identity");
    let viewer = Identity::new("viewer", Role::Viewer).expect("identity");
    let pk = Some(key.public_key());
    let r = change();
    let never = |_: &str| false;
    let no_policy = |_: About<'_>| None;

    // A viewer's unsigned change: forbidden (authorization before the signature).
    let e = envelope(1, None);
    assert!(matches!(
        gates.check(&viewer, pk, &e, &r, never, no_policy),
        Err(GateError::Forbidden(_))
    ));
    // Unsigned, by a role that may: unsigned.
    let e = envelope(1, None);
    assert!(matches!(
        gates.check(&operator, pk, &e, &r, never, no_policy),
        Err(GateError::Unsigned(_))
    ));
    // Over the limit (1/s per identity, taken above): rate limited before
    // anything costly.
    let e = envelope(2, Some((&key, &r)));
    assert!(matches!(
        gates.check(&operator, pk, &e, &r, never, no_policy),
        Err(GateError::RateLimited(_))
    ));
    // A read is another class; stale comes before replay and signature.
    let q = Request::StatusQuery(StatusQuery {
        proposal_id: "p".into(),
    });
    let mut old = envelope(3, None);
    old.sent_at = UnixMillis(old.sent_at.0 - 60_000);
    assert!(matches!(
        gates.check(&operator, pk, &old, &q, never, no_policy),
        Err(GateError::Stale { .. })
    ));
    assert_eq!(
        gates.check(&operator, pk, &envelope(4, None), &q, never, no_policy),
        Ok(Passed::Fresh)
    );
    assert!(matches!(
        gates.check(&operator, pk, &envelope(4, None), &q, never, no_policy),
        Err(GateError::Replay { last_seq: 4, .. })
    ));
}

#[test]
fn the_targets_stored_policy_decides_whether_a_change_must_be_signed() {
    let gates = Gates::new(SecuritySettings::default());
    let key = signer();
    let proposer = Identity::new("proposer", Role::Proposer).expect("identity");
    let pk = Some(key.public_key());
    let proposal = |target: &str| {
        Request::Proposal(arqonbus_proto::message::Proposal {
            proposal_id: format!("p-{target}"),
            source: "hpo".into(),
            target_system: target.into(),
            timestamp: UnixMillis::now(),
            changes: Vec::new(),
            expected_impact: Default::default(),
            confidence: 0.5,
            duration_seconds: 60,
        })
    };
    // "open" stores signing_required = false; "closed" the default.
    let stored = |about: About<'_>| match about {
        About::Target("open") => Some(false),
        About::Target(_) => Some(true),
        _ => None,
    };
    let never = |_: &str| false;
    assert_eq!(
        gates.check(
            &proposer,
            pk,
            &envelope(1, None),
            &proposal("open"),
            never,
            stored
        ),
        Ok(Passed::Fresh),
        "an unsigned proposal to a target that does not require signing"
    );
    assert!(matches!(
        gates.check(
            &proposer,
            pk,
            &envelope(2, None),
            &proposal("closed"),
            never,
            stored
        ),
        Err(GateError::Unsigned(_))
    ));
    // A signature that is present is verified even where none is needed.
    let mut forged = envelope(3, Some((&key, &proposal("closed"))));
    forged.seq = 4;
    assert_eq!(
        gates.check(&proposer, pk, &forged, &proposal("open"), never, stored),
        Err(GateError::BadSignature)
    );
    // Membership has no target: the node's setting decides.
    let join = Request::Operate(OperatorRequest::RemoveNode { node_id: 2 });
    let admin = Identity::new("admin", Role::Admin).expect("identity");
    let open_everywhere = |_: About<'_>| Some(false);
    assert!(matches!(
        gates.check(
            &admin,
            pk,
            &envelope(5, None),
            &join,
            never,
            open_everywhere
        ),
        Err(GateError::Unsigned(_))
    ));
}
