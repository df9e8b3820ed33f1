//! The flood's attackers, each a loop against one node until told to
//! stop: a viewer sending the largest frames it may (and some it may
//! not), thousands of streams that send one byte and wait, slow-loris
//! streams announcing 4 MiB and trickling, and forbidden requests as fast
//! as answers come. Each counts what it sent and what came back.

use super::Counters;
use crate::frames::{framed, request, sample_bomb, zero_bomb};
use crate::raw::{answer, RawClient, ANSWER_DEADLINE};
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::limits::{max_body_len, MAX_BODY_LEN, MAX_FRAME_LEN};
use arqonbus_proto::message::{Proposal, ProposedChange, Subscribe, SubscribeTarget};
use arqonbus_proto::msg_type as t;
use arqonbus_proto::operator::OperatorRequest;
use arqonbus_proto::{Reply, Request, UnixMillis};
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Where an attacker aims, and when to stop.
#[derive(Clone)]
pub(super) struct Aim {
    pub certs: PathBuf,
    pub addr: String,
    pub stop: watch::Receiver<bool>,
    pub counters: Arc<Counters>,
}

impl Aim {
    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    async fn connect(&self, user: &str) -> Option<RawClient> {
        let conn = RawClient::connect(&self.certs, user, &self.addr).await;
        if conn.is_err() {
            self.counters.connect_failures.fetch_add(1, Relaxed);
        }
        conn.ok()
    }

    /// Sleeps `d`, or less if told to stop; false once stopped.
    async fn pause(&mut self, d: Duration) -> bool {
        let _ = tokio::time::timeout(d, self.stop.changed()).await;
        !self.stopped()
    }
}

/// The largest frames a viewer sends: a `subscribe` of 256 targets with
/// the longest names and an `audit_range` of 1000 entries (both valid), a
/// 4 MiB telemetry batch (a type it may not send), and compressed bodies
/// at and over each type's limit.
fn maximal_frames() -> Vec<Vec<u8>> {
    let targets = (0..256)
        .map(|i| SubscribeTarget {
            target_system: format!("{i:0128}"),
            from_seq: Some(0),
        })
        .collect();
    let audit = OperatorRequest::AuditRange {
        from_index: 1,
        limit: 1000,
        stale: true,
    };
    let mut telemetry = crate::frames::envelope();
    telemetry.resize(MAX_FRAME_LEN - 3, 0);
    vec![
        request(Request::Subscribe(Subscribe { targets })),
        request(Request::Operate(audit)),
        framed(0, t::TELEMETRY_BATCH, &telemetry),
        zero_bomb(t::OPERATE, max_body_len(t::OPERATE)),
        zero_bomb(t::PROPOSAL, MAX_BODY_LEN),
        sample_bomb(max_body_len(t::TELEMETRY_BATCH)),
    ]
}

fn count_answer(c: &Counters, reply: &Reply) {
    let counter = match reply {
        Reply::Error(e) => match e.code {
            ErrorCode::Forbidden => &c.forbidden,
            ErrorCode::TooLarge { .. } => &c.too_large,
            ErrorCode::InvalidMessage { .. } => &c.invalid,
            ErrorCode::RateLimited { .. } => &c.rate_limited,
            _ => &c.other_errors,
        },
        _ => &c.served,
    };
    counter.fetch_add(1, Relaxed);
}

/// A viewer sending the largest frames it can, one stream at a time.
pub(super) async fn maximal(mut aim: Aim) {
    let frames = maximal_frames();
    let Some(conn) = aim.connect("viewer").await else {
        return;
    };
    for frame in frames.iter().cycle() {
        if aim.stopped() {
            return;
        }
        aim.counters.maximal_sent.fetch_add(1, Relaxed);
        let Ok((mut send, mut recv)) = conn.open().await else {
            return;
        };
        let _ = send.write_all(frame).await;
        let _ = send.finish();
        match answer(&mut recv, ANSWER_DEADLINE).await {
            Ok(reply) => count_answer(&aim.counters, &reply),
            Err(e) => aim.counters.unanswered("maximal", &e),
        }
        let _ = recv.stop(0u32.into());
        if !aim.pause(Duration::ZERO).await {
            return;
        }
    }
}

fn forbidden_proposal(n: u64) -> Vec<u8> {
    request(Request::Proposal(Proposal {
        proposal_id: format!("forbidden-{n}"),
        source: "flood".into(),
        target_system: "any".into(),
        timestamp: UnixMillis::now(),
        changes: vec![ProposedChange {
            parameter: "p".into(),
            current_value: arqonbus_core::ParamValue::Int(1),
            proposed_value: arqonbus_core::ParamValue::Int(2),
            reason: String::new(),
        }],
        expected_impact: Default::default(),
        confidence: 0.5,
        duration_seconds: 1,
    }))
}

/// A viewer proposing (a type it may not send) and setting parameters (an
/// action it may not take), as fast as the answers come.
pub(super) async fn forbidden(aim: Aim) {
    let Some(conn) = aim.connect("viewer").await else {
        return;
    };
    let set = request(Request::Operate(OperatorRequest::SetParameters {
        target_system: "any".into(),
        values: [("p".to_string(), arqonbus_core::ParamValue::Int(1))].into(),
        expected: None,
    }));
    for n in 0u64.. {
        if aim.stopped() {
            return;
        }
        let frame = match n % 2 {
            0 => forbidden_proposal(n),
            _ => set.clone(),
        };
        aim.counters.forbidden_sent.fetch_add(1, Relaxed);
        match conn.exchange(&frame).await {
            Ok(reply) => count_answer(&aim.counters, &reply),
            Err(e) => aim.counters.unanswered("forbidden", &e),
        }
    }
}

/// Streams that send one byte of a frame and nothing more, `per_conn` on
/// each of this connection; reopened as the server resets them.
pub(super) async fn idle(mut aim: Aim, per_conn: usize) {
    while !aim.stopped() {
        let Some(conn) = aim.connect("agent").await else {
            return;
        };
        let mut streams = Vec::with_capacity(per_conn);
        for _ in 0..per_conn {
            let Ok((mut send, recv)) = conn.open().await else {
                break;
            };
            if send.write_all(&[7]).await.is_ok() {
                aim.counters.idle_opened.fetch_add(1, Relaxed);
                streams.push((send, recv));
            }
        }
        for (_send, mut recv) in streams {
            let mut buf = [0u8; 16];
            let read = tokio::select! {
                r = recv.read(&mut buf) => Some(r),
                _ = aim.stop.changed() => None,
            };
            match read {
                Some(Err(quinn::ReadError::Reset(_))) => {
                    aim.counters.idle_reset.fetch_add(1, Relaxed)
                }
                Some(_) => aim.counters.unanswered.fetch_add(1, Relaxed),
                None => return,
            };
        }
    }
}

/// Slow-loris streams: an agent announces a 4 MiB telemetry batch (which
/// it may send) and trickles a byte every 500 ms.
pub(super) async fn slow_loris(mut aim: Aim, streams: usize) {
    while !aim.stopped() {
        let Some(conn) = aim.connect("agent").await else {
            return;
        };
        let mut head = (4u32 << 20).to_le_bytes().to_vec();
        head.extend([arqonbus_proto::FRAME_VERSION, 0, t::TELEMETRY_BATCH]);
        let mut open = Vec::new();
        for _ in 0..streams {
            let Ok((mut send, recv)) = conn.open().await else {
                break;
            };
            if send.write_all(&head).await.is_ok() {
                aim.counters.loris_opened.fetch_add(1, Relaxed);
                open.push((send, recv));
            }
        }
        while !open.is_empty() {
            if !aim.pause(Duration::from_millis(500)).await {
                return;
            }
            let mut still = Vec::new();
            for (mut send, mut recv) in open {
                if send.write_all(&[0]).await.is_ok() {
                    still.push((send, recv));
                    continue;
                }
                match answer(&mut recv, Duration::from_secs(1)).await {
                    Ok(reply) => count_answer(&aim.counters, &reply),
                    Err(_) => {
                        aim.counters.loris_reset.fetch_add(1, Relaxed);
                    }
                }
            }
            open = still;
        }
    }
}
