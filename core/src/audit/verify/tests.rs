use super::*;
use crate::testing::audit_chain as chain;

#[test]
fn a_good_chain_verifies_from_genesis_and_reports_its_head() {
    let c = chain(5);
    let r = verify(&c).expect("verifies");
    assert_eq!(r.count, 5);
    assert_eq!(r.first_index, 1);
    assert_eq!(r.head, c[4].head());
}

#[test]
fn missing_early_entries_are_a_gap_never_taken_on_trust() {
    let c = chain(5);
    assert_eq!(
        verify(&c[2..]),
        Err(VerifyError::Missing { from: 1, to: 2 })
    );
    assert_eq!(
        VerifyError::Missing { from: 1, to: 2 }.to_string(),
        "gap 1..2: these entries are not there to check"
    );
}

#[test]
fn a_checkpoint_starts_the_check_after_it() {
    let c = chain(6);
    let mut v = Verifier::from_checkpoint(c[2].head());
    for e in &c[3..] {
        v.push(e).expect("follows the checkpoint");
    }
    let r = v.finish();
    assert_eq!((r.first_index, r.count, r.head), (4, 3, c[5].head()));

    // Entries before it are passed over; the checkpoint's own must match.
    let mut v = Verifier::from_checkpoint(c[2].head());
    for e in &c {
        v.push(e).expect("the whole chain, from a checkpoint on it");
    }
    let mut wrong = c[2].head();
    wrong.hash[0] ^= 1;
    let mut v = Verifier::from_checkpoint(wrong);
    assert_eq!(v.push(&c[0]), Ok(()));
    assert_eq!(
        v.push(&c[2]),
        Err(VerifyError::NotTheCheckpoint { index: 3 })
    );
    let mut v = Verifier::from_checkpoint(wrong);
    assert_eq!(v.push(&c[3]), Err(VerifyError::BrokenLink { index: 4 }));

    let mut v = Verifier::from_checkpoint(c[1].head());
    assert_eq!(v.push(&c[4]), Err(VerifyError::Missing { from: 3, to: 4 }));
}

#[test]
fn each_kind_of_damage_names_its_index() {
    let mut c = chain(5);
    c[2].details = "edited".into();
    assert_eq!(verify(&c), Err(VerifyError::BadHash { index: 3 }));

    let mut c = chain(5);
    c[2].details = "edited".into();
    c[2].hash = c[2].compute_hash();
    assert_eq!(verify(&c), Err(VerifyError::BrokenLink { index: 4 }));

    let mut c = chain(5);
    c.remove(1);
    assert_eq!(
        verify(&c),
        Err(VerifyError::Gap {
            index: 3,
            expected: 2
        })
    );

    let mut c = chain(2);
    c[0].prev_hash = [1; 32];
    c[0].hash = c[0].compute_hash();
    assert_eq!(verify(&c), Err(VerifyError::BadGenesis));
}

#[test]
fn checkpoints_parse_as_index_and_hash() {
    let c = chain(3);
    let text = format!("3:{}", hex::encode(c[2].hash));
    assert_eq!(parse_checkpoint(&text), Ok(c[2].head()));
    for bad in ["3", "x:00", "3:abc", &format!("3:{}zz", "0".repeat(62))] {
        assert!(parse_checkpoint(bad).is_err(), "{bad}");
    }
}
