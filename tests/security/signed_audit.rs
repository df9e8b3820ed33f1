//! The audit chain keeps who signed what: a signed override's entry holds
//! the signature, the signer's certificate key and the exact bytes
//! signed (format 2), and the chain read back from a node verifies,
//! signatures included.

use super::*;
use arqonbus_core::audit::verify::verify;

#[test]
fn a_signed_changes_entry_keeps_its_signature_and_the_chain_verifies() {
    security_test(async {
        let s = Suite::start(&[]).await;
        let operator = s.signer("operator");
        let env = envelope(Envelope::random_session(), 1, UnixMillis::now());
        let request = set_batch(72);
        let frame = signed(&operator, env.clone(), &request);
        let reply = s.raw("operator").await.exchange(&frame).await;
        let reply = reply.expect("answered");
        assert!(matches!(reply, Reply::Operated(_)), "applied: {reply:?}");
        let entries = s.audit().await;
        let entry = entries
            .iter()
            .rev()
            .find(|e| e.action == "override" && e.actor == "operator")
            .expect("the override's entry");
        let seal = entry.seal.as_ref().expect("the entry keeps the seal");
        assert_eq!(seal.key, operator.public_key(), "the certificate's key");
        assert_eq!(
            seal.signed,
            request.signed_bytes(&env).expect("signed bytes"),
            "exactly the bytes signed"
        );
        let report = verify(&entries).unwrap_or_else(|e| panic!("the chain: {e}"));
        assert_eq!(report.count, entries.len() as u64);
    });
}
