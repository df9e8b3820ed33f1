//! Item 4: subscriptions are capped per connection and per identity; one
//! over either cap is answered `rate_limited`, another identity still
//! subscribes, and a slot freed by a stopped stream is reusable.

use super::{code, hostile_test, Hostile};
use crate::common::{wait_for, TARGET, WAIT};
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::message::{Subscribe, SubscribeTarget};
use arqonbus_proto::{Reply, Request};
use arqonbus_testkit::frames::request;
use arqonbus_testkit::raw::{answer, ANSWER_DEADLINE};
use arqonbus_testkit::RawClient;

fn subscribe() -> Vec<u8> {
    request(Request::Subscribe(Subscribe {
        targets: vec![SubscribeTarget {
            target_system: TARGET.into(),
            from_seq: None,
        }],
    }))
}

/// Opens a push stream; returns its first answer and the stream.
async fn open(conn: &RawClient) -> (Reply, quinn::SendStream, quinn::RecvStream) {
    let (mut send, mut recv) = conn.open().await.expect("stream");
    send.write_all(&subscribe()).await.expect("written");
    let reply = answer(&mut recv, ANSWER_DEADLINE).await.expect("an answer");
    (reply, send, recv)
}

fn subscribed(reply: &Reply) -> bool {
    matches!(reply, Reply::Subscribed(_))
}

#[test]
fn subscriptions_are_capped_per_connection_and_per_identity() {
    hostile_test(async {
        let h = Hostile::start(&[
            "--max-subscriptions-per-connection",
            "2",
            "--max-subscriptions-per-identity",
            "3",
        ])
        .await;
        let (a, b) = (
            h.raw("viewer", h.follower).await,
            h.raw("viewer", h.follower).await,
        );
        let mut held = Vec::new();
        for _ in 0..2 {
            let (reply, send, recv) = open(&a).await;
            assert!(subscribed(&reply), "{reply:?}");
            held.push((send, recv));
        }
        let (third, ..) = open(&a).await;
        assert!(
            matches!(code(&third), Ok(ErrorCode::RateLimited { .. })),
            "{third:?}"
        );

        let (on_b, send, recv) = open(&b).await;
        assert!(subscribed(&on_b), "{on_b:?}");
        held.push((send, recv));
        let (fourth, ..) = open(&b).await;
        assert!(
            matches!(code(&fourth), Ok(ErrorCode::RateLimited { .. })),
            "{fourth:?}"
        );

        let agent = h.raw("agent", h.follower).await;
        let (other, ..) = open(&agent).await;
        assert!(subscribed(&other), "another identity subscribes: {other:?}");

        let (_send, mut recv) = held.remove(0);
        recv.stop(0u32.into()).expect("stopped");
        wait_for("a stopped subscription's slot to be free", WAIT, || async {
            let (reply, send, recv) = open(&b).await;
            subscribed(&reply).then_some((send, recv))
        })
        .await;
    });
}
