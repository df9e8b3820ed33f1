//! Attack: a field changed after signing, the original signature kept.

use super::*;

#[test]
fn a_tampered_field_with_the_original_signature_is_refused_and_changes_nothing() {
    security_test(async {
        let s = Suite::start(&[]).await;
        let before = s.live().await;
        let operator = s.signer("operator");
        let raw = s.raw("operator").await;
        // Signed for batch_size 64, sent as 128 under the same signature.
        let honest = signed(
            &operator,
            envelope(Envelope::random_session(), 1, UnixMillis::now()),
            &set_batch(64),
        );
        let Ok(Message::Request(env, _)) = arqonbus_proto::decode(&honest) else {
            panic!("our own frame decodes")
        };
        let tampered =
            arqonbus_proto::encode(&Message::Request(env, set_batch(128))).expect("encodes");
        for n in 0..3 {
            let reply = raw.exchange(&tampered).await.expect("answered");
            assert_eq!(code(&reply), Ok(&ErrorCode::Unauthenticated), "try {n}");
            s.good_is_served(&format!("good-tampered-{n}")).await;
        }
        // Unsigned is refused too: state changes must be signed.
        let unsigned = arqonbus_proto::encode(&Message::Request(
            envelope(Envelope::random_session(), 1, UnixMillis::now()),
            set_batch(128),
        ))
        .expect("encodes");
        let reply = raw.exchange(&unsigned).await.expect("answered");
        assert_eq!(code(&reply), Ok(&ErrorCode::Unauthenticated));
        assert_eq!(s.live().await, before, "nothing changed");
        s.summarised("operator", "bad_signature", 4).await;
    });
}
