//! Signatures verified again in `apply`, kept in the audit chain as
//! format-2 entries, and re-checked by the chain's verification.

use super::*;
use crate::audit::verify::{verify, VerifyError};
use crate::command::CommandError;
use crate::constraint_file;
use crate::machine::State;
use crate::role::Role;
use crate::testing::{cmd, numbered, sample_override, signed, with_target, EXAMPLE, SVC};
use crate::{Op, ParamValue};

#[test]
fn the_origin_is_read_from_the_signed_bytes_and_a_changed_byte_does_not_verify() {
    let c = signed(sample_override(7), 3, 11, 1);
    let seal = c.seal.clone().expect("sealed");
    assert_eq!(seal.verify(), Ok(()));
    assert_eq!(seal.origin().ok(), c.origin);
    assert_eq!(seal.check(c.origin.as_ref()), Ok(()));
    let other = numbered(sample_override(7), 3, 12).origin;
    assert_eq!(seal.check(other.as_ref()), Err(SealError::OtherOrigin));
    let mut bad = seal.clone();
    let last = bad.signed.len() - 1;
    bad.signed[last] ^= 1;
    assert_eq!(bad.verify(), Err(SealError::BadSignature));
    let short = Seal {
        signed: b"arqonbus".to_vec(),
        ..seal
    };
    assert!(matches!(short.origin(), Err(SealError::Malformed(_))));
}

#[test]
fn apply_verifies_again_and_the_entry_keeps_the_seal_on_every_replica() {
    let good = signed(sample_override(48), 5, 1, 1);
    let mut forged = signed(sample_override(96), 5, 2, 1);
    if let Some(seal) = forged.seal.as_mut() {
        // Signed for one request, proposed with another origin's bytes.
        seal.signed = good.seal.as_ref().expect("sealed").signed.clone();
    }
    let unsigned = numbered(sample_override(120), 5, 3);
    let (mut a, mut b) = (with_target(), with_target());
    let mut results = Vec::new();
    let mut entries = Vec::new();
    for c in [&good, &forged, &unsigned] {
        let applied = a.apply(c);
        results.push(applied.result);
        entries.extend(applied.audit);
        b.apply(c);
    }
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert!(matches!(results[1], Err(CommandError::Unauthenticated(_))));
    assert!(
        matches!(results[2], Err(CommandError::Unauthenticated(_))),
        "unsigned, and the example target requires signing"
    );
    assert_eq!(
        a.targets[SVC].live.get("batch_size"),
        Some(&ParamValue::Int(49))
    );
    assert_eq!(entries[0].seal, good.seal, "the signed override's entry");
    assert_eq!(entries[0].hash_input()[0], 2, "format 2");
    assert_eq!(entries[1].seal, None, "a refused seal is not kept");
    let bytes =
        |s: &State| bincode::serde::encode_to_vec(s, bincode::config::standard()).expect("encodes");
    assert_eq!(bytes(&a), bytes(&b), "both replicas byte for byte");
}

#[test]
fn a_target_that_does_not_require_signing_takes_an_unsigned_change() {
    let mut s = State::default();
    let file = constraint_file::parse_file(
        "open.toml",
        &EXAMPLE.replace("signing_required = true", "signing_required = false"),
    )
    .expect("parses");
    let configure = Op::Configure {
        target: SVC.into(),
        constraints: file.constraints,
        policy: file.policy,
        force: false,
    };
    assert!(s.apply(&cmd(Role::Operator, 1, configure)).result.is_ok());
    let unsigned = numbered(sample_override(48), 1, 1);
    assert!(s.apply(&unsigned).result.is_ok());
}

#[test]
fn the_chains_verification_names_an_entry_whose_signature_was_rewritten() {
    let mut s = with_target();
    let mut chain = Vec::new();
    for (n, c) in [
        signed(sample_override(10), 8, 1, 2),
        signed(sample_override(20), 8, 2, 2),
    ]
    .iter()
    .enumerate()
    {
        let applied = s.apply(c);
        assert!(applied.result.is_ok(), "command {n}: {:?}", applied.result);
        chain.extend(applied.audit);
    }
    // The first entry (the constraints) came from `with_target`: rebuild
    // the chain from genesis with it.
    let mut full = with_target_chain();
    full.extend(chain);
    assert!(verify(&full).is_ok());
    // Whoever rewrites the last entry's signed bytes and its hash still
    // cannot make the signature verify.
    let last = full.len() - 1;
    if let Some(seal) = full[last].seal.as_mut() {
        seal.signed.push(b'!');
    }
    full[last].hash = full[last].compute_hash();
    assert_eq!(verify(&full).map_err(|e| e.index()), Err(full[last].index));
    assert!(matches!(
        verify(&full),
        Err(VerifyError::BadSignature { .. })
    ));
}

/// The audit entries `with_target` wrote.
fn with_target_chain() -> Vec<crate::audit::AuditEntry> {
    let mut s = State::default();
    let c = cmd(
        Role::Operator,
        1,
        Op::SetConstraints {
            target: SVC.into(),
            constraints: crate::testing::example(),
        },
    );
    s.apply(&c).audit
}
