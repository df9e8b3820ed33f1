//! What the flood measures beside the attack: a well-behaved proposer's
//! decisions and their latency, `node_status` answered on a connection of
//! its own, each node's term and peak resident memory, and the audit
//! entries the flood left.

use crate::error::Result;
use crate::frames::node_status;
use crate::raw::RawClient;
use crate::LocalCluster;
use arqonbus_client::Client;
use arqonbus_core::ParamValue;
use arqonbus_proto::message::{Proposal, ProposedChange};
use arqonbus_proto::operator::{OperatorReply, OperatorRequest};
use arqonbus_proto::{Reply, Request, UnixMillis};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// What the well-behaved proposer got.
#[derive(Debug, Clone, Default)]
pub struct Proposals {
    pub sent: usize,
    pub decided: usize,
    /// The first few failures, as the client reported them.
    pub failures: Vec<String>,
    /// Milliseconds from sending to the decision, per proposal.
    pub latency_ms: Vec<f64>,
}

/// A proposal of `target`'s integer `parameter`, the `n`th.
fn proposal(target: &str, parameter: &str, n: usize) -> Proposal {
    let value = ParamValue::Int(1 + (n % 200) as i64);
    Proposal {
        proposal_id: format!("flood-good-{n}"),
        source: "flood".into(),
        target_system: target.into(),
        timestamp: UnixMillis::now(),
        changes: vec![ProposedChange {
            parameter: parameter.into(),
            current_value: value.clone(),
            proposed_value: value,
            reason: "well-behaved".into(),
        }],
        expected_impact: Default::default(),
        confidence: 0.5,
        duration_seconds: 60,
    }
}

/// Proposes one at a time until stopped; each must be decided.
pub(super) async fn proposer(
    client: Client,
    target: String,
    parameter: String,
    mut stop: watch::Receiver<bool>,
) -> Proposals {
    let mut out = Proposals::default();
    while !*stop.borrow() {
        let asked = Instant::now();
        out.sent += 1;
        match client
            .propose(proposal(&target, &parameter, out.sent))
            .await
        {
            Ok(_) => {
                out.decided += 1;
                out.latency_ms.push(asked.elapsed().as_secs_f64() * 1000.0);
            }
            Err(e) if out.failures.len() < 5 => out.failures.push(e.to_string()),
            Err(_) => {}
        }
        let _ = tokio::time::timeout(Duration::from_millis(20), stop.changed()).await;
    }
    out
}

/// Asks `node_status` every 100 ms on a connection of its own; returns the
/// milliseconds of each answer (a failed ask counts as the time it took,
/// and is counted in the second value).
pub(super) async fn status_pings(
    certs: PathBuf,
    addr: String,
    mut stop: watch::Receiver<bool>,
) -> (Vec<f64>, usize) {
    let (mut ms, mut failed) = (Vec::new(), 0);
    let Ok(conn) = RawClient::connect(&certs, "operator", &addr).await else {
        return (ms, 1);
    };
    while !*stop.borrow() {
        // A new message each time: the same bytes again are a replay.
        let frame = node_status();
        let asked = Instant::now();
        let ok = matches!(
            conn.exchange(&frame).await,
            Ok(Reply::Operated(OperatorReply::NodeStatus(_)))
        );
        ms.push(asked.elapsed().as_secs_f64() * 1000.0);
        failed += usize::from(!ok);
        let _ = tokio::time::timeout(Duration::from_millis(100), stop.changed()).await;
    }
    (ms, failed)
}

/// Each node's term, by its own word (0 for one that does not answer).
pub(super) async fn terms(c: &LocalCluster, admin: &Client) -> BTreeMap<u64, u64> {
    let mut out = BTreeMap::new();
    for id in c.ids() {
        let term = c.status(admin, id).await.map_or(0, |s| s.term);
        out.insert(id, term);
    }
    out
}

/// The newest audit index on node `id`.
pub(super) async fn audit_head(c: &LocalCluster, admin: &Client, id: u64) -> Result<u64> {
    Ok(audit_after(c, admin, id, u64::MAX).await?.1)
}

/// Audit entries on node `id` after index `from`, counted by action, and
/// the newest index.
pub(super) async fn audit_after(
    c: &LocalCluster,
    admin: &Client,
    id: u64,
    from: u64,
) -> Result<(BTreeMap<String, u64>, u64)> {
    let endpoint = c.endpoint(id)?;
    let (mut counts, mut next) = (BTreeMap::new(), from.saturating_add(1));
    loop {
        let request = Request::Operate(OperatorRequest::AuditRange {
            from_index: next,
            limit: 1000,
            stale: true,
        });
        let Reply::Operated(OperatorReply::AuditEntries {
            entries,
            head_index,
        }) = admin.call_node(&endpoint, &request).await?
        else {
            return Ok((counts, 0));
        };
        for e in &entries {
            *counts.entry(e.action.clone()).or_insert(0) += 1;
        }
        match entries.last() {
            Some(last) if last.index < head_index => next = last.index + 1,
            _ => return Ok((counts, head_index)),
        }
    }
}
