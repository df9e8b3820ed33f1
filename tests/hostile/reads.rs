//! Item 2, reads: a frame must arrive whole within 10 s of its stream
//! opening. A slow-loris stream (4 MiB announced, bytes trickled), one
//! that sent a byte and stopped, and a peer stream that stalls the same
//! way are all reset; meanwhile the connection serves other requests.

use super::{hostile_test, Hostile};
use arqonbus_proto::operator::OperatorReply;
use arqonbus_proto::Reply;
use arqonbus_testkit::frames::node_status;
use arqonbus_testkit::raw::ANSWER_DEADLINE;
use arqonbus_testkit::RawClient;
use std::time::{Duration, Instant};

/// The spec's frame deadline.
const DEADLINE: Duration = Duration::from_secs(10);
/// How long the test waits for a reset before it fails.
const GIVE_UP: Duration = Duration::from_secs(30);

/// Waits for the server to end `recv` without answering; returns how long
/// after `opened` that was.
async fn reset_after(mut recv: quinn::RecvStream, opened: Instant, what: &str) -> Duration {
    let mut buf = [0u8; 64];
    match tokio::time::timeout(GIVE_UP, recv.read(&mut buf)).await {
        Err(_) => panic!("{what}: still open after {GIVE_UP:?}"),
        Ok(Ok(Some(n))) => panic!("{what}: answered {n} bytes instead of a reset"),
        Ok(Ok(None)) => panic!("{what}: finished instead of reset"),
        Ok(Err(quinn::ReadError::Reset(_))) => opened.elapsed(),
        Ok(Err(e)) => panic!("{what}: {e} instead of a reset"),
    }
}

async fn open(conn: &RawClient, first: &[u8]) -> (quinn::SendStream, quinn::RecvStream, Instant) {
    let (mut send, recv) = conn.open().await.expect("stream");
    let opened = Instant::now();
    send.write_all(first).await.expect("first bytes");
    (send, recv, opened)
}

#[test]
fn a_frame_that_does_not_arrive_whole_within_10_s_is_reset() {
    hostile_test(async {
        let h = Hostile::start(&[]).await;
        let conn = h.raw("proposer", h.leader).await;
        // A telemetry batch of 4 MiB announced (allowed for a proposer),
        // then a byte every 200 ms.
        let mut loris_head = (4u32 << 20).to_le_bytes().to_vec();
        loris_head.extend([arqonbus_proto::FRAME_VERSION, 0, 0x01]);
        let (mut loris, loris_recv, loris_opened) = open(&conn, &loris_head).await;
        let trickle = tokio::spawn(async move {
            let mut sent = 0usize;
            while loris.write_all(&[0]).await.is_ok() && sent < 1000 {
                sent += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            sent
        });
        // One byte of a length prefix, then nothing.
        let (_idle, idle_recv, idle_opened) = open(&conn, &[7]).await;

        // Meanwhile the same connection answers a good request.
        let reply = conn.exchange(&node_status()).await.expect("served");
        assert!(
            matches!(reply, Reply::Operated(OperatorReply::NodeStatus(_))),
            "{reply:?}"
        );

        let idle = reset_after(idle_recv, idle_opened, "the idle stream").await;
        let slow = reset_after(loris_recv, loris_opened, "the slow-loris stream").await;
        let trickled = trickle.await.expect("trickle task");
        eprintln!("figure: idle stream reset after {idle:?}, slow-loris after {slow:?} ({trickled} bytes trickled)");
        for (what, after) in [("idle", idle), ("slow-loris", slow)] {
            assert!(
                after >= DEADLINE - Duration::from_millis(500),
                "{what} cut at {after:?}, before the deadline"
            );
        }
        assert!(trickled < 1000, "the trickler was stopped too");
        let again = conn.exchange(&node_status()).await.expect("still served");
        assert!(matches!(
            again,
            Reply::Operated(OperatorReply::NodeStatus(_))
        ));
    });
}

#[test]
fn a_stalled_peer_stream_is_reset_too() {
    hostile_test(async {
        let h = Hostile::start(&[]).await;
        let addr = h.cluster.endpoint(h.leader).expect("endpoint");
        let peer = h.follower;
        let name = format!("node-{peer}");
        let conn = RawClient::connect_alpn(
            &h.cluster.cert_dir(),
            &name,
            &addr,
            arqonbus_proto::ALPN_PEER,
        )
        .await
        .expect("a node may connect on the peer ALPN");
        let (_send, recv, opened) = open(&conn, &[1, 2, 3]).await;
        let after = reset_after(recv, opened, "the stalled peer stream").await;
        eprintln!("figure: stalled peer stream reset after {after:?}");
        // A whole, valid request on a stream of its own is still served.
        let (mut send, mut recv) = conn.open().await.expect("stream");
        send.write_all(&[0xff; 8]).await.expect("written");
        send.finish().expect("finished");
        let mut got = Vec::new();
        let read = tokio::time::timeout(ANSWER_DEADLINE, async {
            let mut buf = [0u8; 256];
            while let Ok(Some(n)) = recv.read(&mut buf).await {
                got.extend_from_slice(&buf[..n]);
            }
        });
        read.await.expect("the malformed peer request is answered");
        assert!(!got.is_empty(), "an answer (Malformed) came back");
    });
}
