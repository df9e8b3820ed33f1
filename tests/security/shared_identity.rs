//! Two processes sharing one identity (one certificate), each numbering
//! its messages from 1 in a session of its own: both are served.

use super::*;

#[test]
fn two_processes_sharing_an_identity_are_both_served() {
    security_test(async {
        let s = Suite::start(&[]).await;
        // Two clients: two sessions of `proposer`, both counting from 1.
        let other = s.cluster.client("proposer").expect("second process");
        for n in 0..10 {
            s.good_is_served(&format!("shared-a-{n}")).await;
            let p = common::sessions::proposal(
                &format!("shared-b-{n}"),
                &[("batch_size", ParamValue::Int(8))],
            );
            let a = tokio::time::timeout(WAIT, other.propose(p)).await;
            assert!(
                matches!(a, Ok(Ok(_))),
                "the second process is served: {a:?}"
            );
        }
        // Raw: the same seq in two sessions, at once.
        let proposer = s.signer("proposer");
        let raw = s.raw("proposer").await;
        for session in [11, 12] {
            let p = common::sessions::proposal(
                &format!("shared-raw-{session}"),
                &[("batch_size", ParamValue::Int(8))],
            );
            let frame = signed(
                &proposer,
                envelope(session, 1, UnixMillis::now()),
                &Request::Proposal(p),
            );
            let reply = raw.exchange(&frame).await.expect("answered");
            assert!(matches!(reply, Reply::Approval(_)), "{reply:?}");
        }
    });
}
