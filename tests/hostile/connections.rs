//! Item 2, connections and streams: concurrent connections per identity
//! are capped (one over is closed with a reason, another identity still
//! gets in, a freed slot is reusable), and concurrent streams per
//! connection are capped by the QUIC stream limit.

use super::{hostile_test, Hostile};
use crate::common::{wait_for, WAIT};
use arqonbus_proto::operator::OperatorReply;
use arqonbus_proto::Reply;
use arqonbus_testkit::frames::node_status;
use std::time::Duration;

const PER_IDENTITY: usize = 4;
const STREAMS: usize = 64;

fn served(reply: &Result<Reply, arqonbus_testkit::RawError>) -> bool {
    matches!(reply, Ok(Reply::Operated(OperatorReply::NodeStatus(_))))
}

#[test]
fn connections_per_identity_are_capped() {
    hostile_test(async {
        let cap = PER_IDENTITY.to_string();
        let h = Hostile::start(&["--max-connections-per-identity", &cap]).await;
        let mut held = Vec::new();
        for i in 0..PER_IDENTITY {
            let conn = h.raw("viewer", h.leader).await;
            assert!(
                served(&conn.exchange(&node_status()).await),
                "connection {i}"
            );
            held.push(conn);
        }
        let over = h.raw("viewer", h.leader).await;
        let refused = over.exchange(&node_status()).await;
        assert!(!served(&refused), "one connection over the cap was served");
        let reason = tokio::time::timeout(WAIT, over.conn.closed())
            .await
            .expect("the server closes the connection over the cap");
        eprintln!("figure: the connection over the cap was closed: {reason}");
        assert!(
            matches!(reason, quinn::ConnectionError::ApplicationClosed(_)),
            "{reason}"
        );

        let other = h.raw("operator", h.leader).await;
        assert!(
            served(&other.exchange(&node_status()).await),
            "another identity gets in"
        );

        held.pop().expect("held").conn.close(0u32.into(), b"done");
        wait_for("a freed slot to be reusable", WAIT, || async {
            let again = h.raw("viewer", h.leader).await;
            served(&again.exchange(&node_status()).await).then_some(())
        })
        .await;
    });
}

#[test]
fn streams_per_connection_are_capped_by_quic() {
    hostile_test(async {
        let h = Hostile::start(&[]).await;
        let conn = h.raw("viewer", h.leader).await;
        let mut open = Vec::new();
        for _ in 0..STREAMS {
            let (mut send, recv) = conn.open().await.expect("a stream within the cap");
            send.write_all(&[1]).await.expect("a byte");
            open.push((send, recv));
        }
        // The peer's limit is known from the handshake: a stream over it
        // cannot open until one ends (a slow machine only delays it more).
        let over = tokio::time::timeout(Duration::from_millis(500), conn.open()).await;
        assert!(over.is_err(), "stream {} opened", STREAMS + 1);
        drop(open);
        let other = h.raw("viewer", h.leader).await;
        assert!(served(&other.exchange(&node_status()).await));
    });
}
