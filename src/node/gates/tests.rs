//! The gates' order, on requests built in memory: what a request that
//! fails several gates is told is decided by the first.

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

    // A viewer's unsigned change: forbidden (authorization before the signature).
    let e = envelope(1, None);
    assert!(matches!(
        gates.check(&viewer, pk, &e, &r, never),
        Err(GateError::Forbidden(_))
    ));
    // Unsigned, by a role that may: unsigned.
    let e = envelope(1, None);
    assert!(matches!(
        gates.check(&operator, pk, &e, &r, never),
        Err(GateError::Unsigned(_))
    ));
    // Over the limit (1/s per identity, taken above): rate limited before
    // anything costly.
    let e = envelope(2, Some((&key, &r)));
    assert!(matches!(
        gates.check(&operator, pk, &e, &r, never),
        Err(GateError::RateLimited(_))
    ));
    // A read is another class; stale comes before replay and signature.
    let q = Request::StatusQuery(StatusQuery {
        proposal_id: "p".into(),
    });
    let mut old = envelope(3, None);
    old.sent_at = UnixMillis(old.sent_at.0 - 60_000);
    assert!(matches!(
        gates.check(&operator, pk, &old, &q, never),
        Err(GateError::Stale { .. })
    ));
    assert_eq!(
        gates.check(&operator, pk, &envelope(4, None), &q, never),
        Ok(Passed::Fresh)
    );
    assert!(matches!(
        gates.check(&operator, pk, &envelope(4, None), &q, never),
        Err(GateError::Replay { last_seq: 4, .. })
    ));
}
