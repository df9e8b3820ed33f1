//! Proposals, telemetry and the event stream on three real node processes
//! over QUIC with mutual TLS: decisions deduplicated by id, a watcher on a
//! follower that sees every decision once and in order, a leader SIGKILL
//! with re-sent proposals and a watch resumed on another node, and bad
//! input answered with typed errors while a good client keeps being served.

mod common;

use arqonbus_core::ParamValue;
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::limits::MAX_FRAME_LEN;
use arqonbus_proto::message::{Proposal, SubscribeTarget};
use arqonbus_proto::operator::{OperatorReply, OperatorRequest};
use arqonbus_proto::reply::{Approval, Decision, Event, ProposalStatus};
use arqonbus_proto::{Message, Reply, Request};
use common::sessions::*;
use common::{within, Cluster, Raw, CLUSTER_LOCK};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Rounds of bad frames sent while a good proposer runs.
const ROUNDS: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_are_deduplicated_streamed_once_and_survive_a_leader_kill() {
    let _one_cluster = CLUSTER_LOCK.lock().await;
    let mut cluster = Cluster::start().await;
    set_constraints(&cluster).await;
    let proposer = cluster.client("proposer");
    let agent = cluster.client("agent");
    let leader = cluster.leader(WAIT).await;
    let follower = (leader + 1) % 3;
    let mut events = watch(&agent, &cluster.endpoints[follower], 0).await;

    // Ten proposals at once (the batcher packs them), then a retry and a conflict.
    let first: Vec<Approval> = propose_all(&proposer, (0..10).map(|n| nth("a", n)).collect())
        .await
        .into_iter()
        .map(|r| r.expect("decided"))
        .collect();
    let decisions: Vec<Decision> = first.iter().map(|a| a.decision).collect();
    assert!(decisions.contains(&Decision::Approved));
    assert!(decisions.contains(&Decision::PartiallyApproved));
    assert!(decisions.contains(&Decision::Rejected));
    let retry = within("retry", WAIT, proposer.propose(nth("a", 4))).await;
    assert_eq!(
        retry.expect("retry decided"),
        first[4],
        "same id, same decision"
    );
    let conflict = within(
        "conflict",
        WAIT,
        proposer.propose(nth("a", 5).clone_with(7)),
    )
    .await;
    assert!(
        matches!(conflict.as_ref().map_err(|e| e.code()), Err(Some(ErrorCode::Conflict { proposal_id })) if proposal_id == "a-5"),
        "{conflict:?}"
    );
    let status = within("status", WAIT, proposer.status("a-0"))
        .await
        .expect("status");
    // A format-1 target has no rollout plan: approved is live at once.
    assert_eq!(status.status, ProposalStatus::Steady);

    // The follower's stream: each decision once, numbered in order.
    let seen = receive(&mut events, 10).await;
    let seqs: Vec<u64> = seen.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (0..10).collect::<Vec<_>>());
    for e in &seen {
        let a = approval_of(e);
        let mine = first.iter().find(|f| f.proposal_id == a.proposal_id);
        assert_eq!(Some(a), mine, "the event is the approval the proposer got");
    }

    // Proposals in flight while the leader is killed, then re-sent by id.
    let pending: Vec<Proposal> = (0..5).map(|n| nth("b", n)).collect();
    let in_flight = {
        let (client, pending) = (proposer.clone(), pending.clone());
        tokio::spawn(async move { propose_all(&client, pending).await })
    };
    let killed = std::time::Instant::now();
    cluster.kill(leader).await;
    let new_leader = cluster.leader(WAIT).await;
    eprintln!(
        "figure: node {} leads {:?} after the SIGKILL of node {}",
        new_leader + 1,
        killed.elapsed(),
        leader + 1
    );
    let before_kill = within("in-flight proposals", WAIT * 3, in_flight)
        .await
        .expect("task");
    eprintln!(
        "figure: in-flight proposals answered {:?} after the SIGKILL (bounded by the client's request timeout)",
        killed.elapsed()
    );
    let resend_started = std::time::Instant::now();
    let resent = propose_all(&proposer, pending.clone()).await;
    eprintln!(
        "figure: 5 proposals re-sent to the new leader in {:?}",
        resend_started.elapsed()
    );
    for (i, r) in resent.iter().enumerate() {
        let a = r.as_ref().expect("a re-sent proposal is decided");
        if let Ok(earlier) = &before_kill[i] {
            assert_eq!(a, earlier, "one decision per id across the failover");
        }
    }

    // Resume the watch on the other survivor from the last position + 1.
    let last = seen.last().map_or(0, |e| e.seq);
    let mut more = Vec::new();
    while let Ok(e) = events.try_recv() {
        more.push(e);
    }
    let next = more.last().map_or(last + 1, |e| e.seq + 1);
    let other = (0..3)
        .find(|&i| i != follower && cluster.is_alive(i))
        .expect("a third node");
    let mut resumed = watch(&agent, &cluster.endpoints[other], next).await;
    let missing = 15 - (next as usize);
    more.extend(receive(&mut resumed, missing).await);
    let all: Vec<Event> = seen.into_iter().chain(more).collect();
    let seqs: Vec<u64> = all.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (0..15).collect::<Vec<_>>(),
        "nothing twice, nothing missed"
    );
    let ids: BTreeSet<&str> = all
        .iter()
        .map(|e| approval_of(e).proposal_id.as_str())
        .collect();
    assert_eq!(ids.len(), 15, "one decision per proposal id");
    let quiet = tokio::time::timeout(Duration::from_millis(500), resumed.recv()).await;
    assert!(quiet.is_err(), "no further event: {quiet:?}");

    // The decided table, as operators list and show it.
    let operator = cluster.client("operator");
    let listed = operator
        .operate(OperatorRequest::ListProposals {
            target_system: Some(SVC.into()),
            limit: 100,
            stale: false,
        })
        .await;
    match listed {
        Ok(OperatorReply::Proposals { proposals }) => assert_eq!(proposals.len(), 15),
        other => panic!("{other:?}"),
    }
    let shown = operator
        .operate(OperatorRequest::ShowProposal {
            proposal_id: "a-4".into(),
            stale: false,
        })
        .await;
    match shown {
        Ok(OperatorReply::Proposal { approval, .. }) => assert_eq!(approval, first[4]),
        other => panic!("{other:?}"),
    }

    // The CLI: a rejected proposal exits 3 and prints the approval as JSON.
    let cli = |id: &'static str| {
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_arqonbus"));
        c.args(["propose", "--target", SVC, "--set", "max_tokens=999999"])
            .args(["--id", id, "--output", "json"])
            .env("ARQONBUS_ENDPOINTS", cluster.endpoints.join(","))
            .env("ARQONBUS_CERTS", cluster.certs())
            .env("ARQONBUS_USER", "proposer");
        c
    };
    let out = within("arqonbus propose", WAIT, cli("cli-1").output())
        .await
        .expect("run the cli");
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    assert_eq!(json["decision"], "rejected");
    assert_eq!(
        json["rejected_changes"][0]["constraint_violated"],
        "max_max_tokens"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_typed_errors_and_changes_nothing_while_good_clients_are_served() {
    let _one_cluster = CLUSTER_LOCK.lock().await;
    let cluster = Cluster::start().await;
    set_constraints(&cluster).await;
    let leader = cluster.leader(WAIT).await;

    // Telemetry: the leader takes known targets, refuses unknown ones;
    // a follower sends the client to the leader.
    let agent = cluster.client("agent");
    let ack = within(
        "telemetry",
        WAIT,
        agent.send_telemetry(vec![sample(SVC, 120.0), sample("nowhere", 1.0)]),
    )
    .await
    .expect("ack");
    assert_eq!((ack.accepted, ack.rejected), (1, 1));
    let follower = cluster.endpoints[(leader + 1) % 3].clone();
    let batch = Request::TelemetryBatch(arqonbus_proto::message::TelemetryBatch {
        samples: vec![sample(SVC, 1.0)],
    });
    let r = agent.call_node(&follower, &batch).await;
    assert!(
        matches!(
            r.as_ref().map_err(|e| e.code()),
            Err(Some(ErrorCode::NotLeader { .. }))
        ),
        "{r:?}"
    );
    let viewer = cluster.client("viewer");
    let r = viewer
        .propose(proposal("v-1", &[("batch_size", ParamValue::Int(8))]))
        .await;
    assert!(
        matches!(
            r.as_ref().map_err(|e| e.code()),
            Err(Some(ErrorCode::Forbidden))
        ),
        "{r:?}"
    );

    // A well-behaved proposer keeps going through everything below.
    let stop = Arc::new(AtomicBool::new(false));
    let good_started = std::time::Instant::now();
    let progress = Arc::new(AtomicUsize::new(0));
    let good = {
        let (client, stop, progress) = (cluster.client("proposer"), stop.clone(), progress.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                // A format-1 target makes an approved change live at once:
                // each good proposal moves batch_size (8, 10, 8, ...) so
                // none is refused as changing nothing.
                let value = if n % 2 == 0 { 8 } else { 10 };
                let p = proposal(
                    &format!("good-{n}"),
                    &[("batch_size", ParamValue::Int(value))],
                );
                let a = client.propose(p).await.expect("a good proposal is served");
                assert_eq!(a.decision, Decision::Approved);
                n += 1;
                progress.store(n, Ordering::Relaxed);
            }
            n
        })
    };

    let raw = Raw::connect(&cluster.certs(), "proposer", &cluster.endpoints[leader]).await;
    // Signed with the proposer's certificate key, as state changes must be.
    let raw_ok = Request::Proposal(proposal("raw-ok", &[("batch_size", ParamValue::Int(9))]));
    let mut good_envelope = envelope();
    let signer = arqonbus_transport::TlsCredentials::from_dir(&cluster.certs(), "proposer")
        .expect("proposer credentials")
        .message_signer()
        .expect("an Ed25519 key");
    good_envelope.signature = Some(arqonbus_proto::Signature {
        scheme: arqonbus_proto::SigScheme::Ed25519,
        bytes: signer.sign(&raw_ok.signed_bytes(&good_envelope).expect("signed bytes")),
    });
    let good_frame =
        arqonbus_proto::encode(&Message::Request(good_envelope, raw_ok)).expect("encode");

    for round in 0..ROUNDS {
        let served_before = progress.load(Ordering::Relaxed);
        let truncated = raw.exchange(&good_frame[..good_frame.len() / 2]).await;
        assert_eq!(invalid_field(&truncated), "frame", "{truncated:?}");

        let garbage = raw
            .exchange(b"\x09\x00\x00\x00\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7")
            .await;
        assert!(matches!(garbage, Reply::Error(_)), "{garbage:?}");

        let mut reply_code = good_frame.clone();
        reply_code[6] = 0x80;
        let r = raw.exchange(&reply_code).await;
        assert_eq!(invalid_field(&r), "type", "{r:?}");

        let mut huge = ((MAX_FRAME_LEN + 1) as u32).to_le_bytes().to_vec();
        huge.extend([arqonbus_proto::FRAME_VERSION, 0, 2]);
        match raw.exchange(&huge).await {
            Reply::Error(e) => assert!(matches!(e.code, ErrorCode::TooLarge { .. }), "{e:?}"),
            other => panic!("{other:?}"),
        }

        const SENTINEL: f64 = 12345.678;
        let telemetry = arqonbus_proto::encode(&Message::Request(
            envelope(),
            Request::TelemetryBatch(arqonbus_proto::message::TelemetryBatch {
                samples: vec![sample(SVC, SENTINEL)],
            }),
        ))
        .expect("encode");
        let at = telemetry
            .windows(8)
            .position(|w| w == SENTINEL.to_le_bytes())
            .expect("the sentinel is in the frame");
        let mut nan = telemetry.clone();
        nan[at..at + 8].copy_from_slice(&f64::NAN.to_le_bytes());
        let r = raw.exchange(&nan).await;
        assert!(invalid_field(&r).contains("latency_p99"), "{r:?}");

        let many: Vec<(String, ParamValue)> = (0..3000)
            .map(|i| (format!("p{i}"), ParamValue::Int(i)))
            .collect();
        let refs: Vec<(&str, ParamValue)> =
            many.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        let big = proposal("raw-many", &refs);
        let config = bincode::config::standard();
        let mut body = bincode::serde::encode_to_vec(envelope(), config).expect("envelope");
        body.extend(bincode::serde::encode_to_vec(&big, config).expect("proposal"));
        let r = raw.exchange(&raw_frame(0x02, &body)).await;
        assert!(invalid_field(&r).starts_with("changes"), "{r:?}");
        let what = format!("a good proposal decided during round {round} of bad frames");
        common::wait_for(&what, WAIT, || {
            let progress = progress.clone();
            async move { (progress.load(Ordering::Relaxed) > served_before).then_some(()) }
        })
        .await;
    }

    // The same connection still serves a good request.
    match raw.exchange(&good_frame).await {
        Reply::Approval(a) => assert_eq!(a.proposal_id, "raw-ok"),
        other => panic!("{other:?}"),
    }
    stop.store(true, Ordering::Relaxed);
    let served = within("the good proposer", WAIT, good).await.expect("task");
    eprintln!(
        "figure: one sequential proposer got {served} decisions in {:?} while bad frames arrived",
        good_started.elapsed()
    );
    assert!(served > 0, "the good proposer was served");

    // Nothing from the bad frames was decided: the stream holds exactly
    // the good proposals and the one good raw frame.
    let proposer = cluster.client("proposer");
    let r = proposer.status("raw-many").await;
    assert!(
        matches!(
            r.as_ref().map_err(|e| e.code()),
            Err(Some(ErrorCode::InvalidMessage { .. }))
        ),
        "{r:?}"
    );
    let sub = within(
        "subscribe",
        WAIT,
        agent.subscribe_at(
            &cluster.endpoints[leader],
            vec![SubscribeTarget {
                target_system: SVC.into(),
                from_seq: None,
            }],
        ),
    )
    .await
    .expect("subscribed");
    assert_eq!(sub.streams()[0].next_seq, served as u64 + 1);
}
