//! Bursts of compressed frames (issue 13, item 5), for the decompression
//! test and `arqonbus bench bursts`. Each burst sends, all at once, 64
//! LZ4 frames from each of a viewer and a proposer at a follower and a
//! viewer at the leader: every request type as large as it may be once
//! decompressed, and the frames that expand to 16 MiB. Meanwhile
//! `node_status` is asked of the follower on a connection of its own, one
//! question after another, until the burst is answered.

use super::measure;
use crate::error::{Result, TestkitError};
use crate::frames::{node_status, sample_bomb, zero_bomb};
use crate::raw::RawClient;
use crate::LocalCluster;
use arqonbus_proto::limits::{max_body_len, MAX_BODY_LEN};
use arqonbus_proto::msg_type as t;
use arqonbus_proto::operator::OperatorReply;
use arqonbus_proto::Reply;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;
use tokio::task::JoinSet;

/// What the bursts did.
#[derive(Debug, Default)]
pub struct BurstOutcome {
    pub terms_before: BTreeMap<u64, u64>,
    pub terms_after: BTreeMap<u64, u64>,
    pub leader_before: Option<u64>,
    pub leader_after: Option<u64>,
    /// Milliseconds of each `node_status` answer during the bursts.
    pub node_status_ms: Vec<f64>,
    pub node_status_failed: usize,
    /// The frames answered with an error, by its code.
    pub refused: BTreeMap<String, u64>,
    /// Frames answered otherwise, or not at all (the first few).
    pub unexpected: Vec<String>,
}

/// The frames of one burst from one sender.
fn burst_frames(per_burst: usize) -> Vec<Vec<u8>> {
    let mut kinds = vec![
        sample_bomb(MAX_BODY_LEN),
        sample_bomb(max_body_len(t::TELEMETRY_BATCH)),
    ];
    for ty in [
        t::TELEMETRY_BATCH,
        t::PROPOSAL,
        t::OPERATE,
        t::SUBSCRIBE,
        t::STATUS_QUERY,
    ] {
        kinds.push(zero_bomb(ty, max_body_len(ty)));
        kinds.push(zero_bomb(ty, MAX_BODY_LEN));
    }
    kinds.into_iter().cycle().take(per_burst).collect()
}

async fn connect(c: &LocalCluster, user: &str, id: u64) -> Result<RawClient> {
    RawClient::connect(&c.cert_dir(), user, &c.endpoint(id)?)
        .await
        .map_err(|e| TestkitError::Command {
            command: format!("connecting as {user} to node {id}"),
            detail: e.to_string(),
        })
}

/// Asks `node_status` on `conn` one question after another until `done`.
async fn ask_until(conn: Arc<RawClient>, done: Arc<AtomicBool>) -> (Vec<f64>, usize) {
    let (mut ms, mut failed) = (Vec::new(), 0);
    while !done.load(Relaxed) {
        // A new message each time: the same bytes again are a replay.
        let frame = node_status();
        let asked = Instant::now();
        let answer = conn.exchange(&frame).await;
        ms.push(asked.elapsed().as_secs_f64() * 1000.0);
        let ok = matches!(answer, Ok(Reply::Operated(OperatorReply::NodeStatus(_))));
        failed += usize::from(!ok);
    }
    (ms, failed)
}

/// Sends `bursts` bursts of `per_burst` frames per sender.
pub async fn run(c: &LocalCluster, bursts: usize, per_burst: usize) -> Result<BurstOutcome> {
    let admin = c.client("admin")?;
    let mut out = BurstOutcome {
        leader_before: c.leader(&admin, &c.ids()).await.map(|l| l.0),
        terms_before: measure::terms(c, &admin).await,
        ..BurstOutcome::default()
    };
    let leader = out.leader_before.ok_or_else(|| TestkitError::Command {
        command: "bursts".into(),
        detail: "no leader to aim at".into(),
    })?;
    let follower = c
        .ids()
        .into_iter()
        .find(|&id| id != leader)
        .unwrap_or(leader);
    let senders = [
        Arc::new(connect(c, "viewer", follower).await?),
        Arc::new(connect(c, "proposer", follower).await?),
        Arc::new(connect(c, "viewer", leader).await?),
    ];
    let watcher = Arc::new(connect(c, "operator", follower).await?);
    let frames = Arc::new(burst_frames(per_burst));
    for _ in 0..bursts {
        let done = Arc::new(AtomicBool::new(false));
        let asking = tokio::spawn(ask_until(watcher.clone(), done.clone()));
        let mut burst = JoinSet::new();
        for sender in &senders {
            for i in 0..frames.len() {
                let (sender, frames) = (sender.clone(), frames.clone());
                burst.spawn(async move { sender.exchange(&frames[i]).await });
            }
        }
        while let Some(answer) = burst.join_next().await {
            match answer {
                Ok(Ok(Reply::Error(e))) => {
                    *out.refused.entry(e.code.name().into()).or_insert(0) += 1
                }
                other if out.unexpected.len() < 5 => out.unexpected.push(format!("{other:?}")),
                _ => {}
            }
        }
        done.store(true, Relaxed);
        let (ms, failed) = asking.await.unwrap_or_default();
        out.node_status_ms.extend(ms);
        out.node_status_failed += failed;
    }
    out.terms_after = measure::terms(c, &admin).await;
    out.leader_after = c.leader(&admin, &c.ids()).await.map(|l| l.0);
    Ok(out)
}
