//! The end-of-run audit check: every node's own copy of the audit chain is
//! fetched from that node alone (`AuditRange` with `stale: true`, page by
//! page through `call_node`), every hash and link is recomputed here with
//! `arqonbus_core::audit::verify::Verifier`, and all heads must be equal.

use crate::rollout_check::RolloutEntry;
use arqonbus_client::Client;
use arqonbus_core::audit::verify::Verifier;
use arqonbus_proto::limits::MAX_AUDIT_ENTRIES;
use arqonbus_proto::operator::{OperatorReply, OperatorRequest};
use arqonbus_proto::{Reply, Request};
use serde::Serialize;
use std::time::Duration;

/// Deadline for one page.
const PAGE_DEADLINE: Duration = Duration::from_secs(10);

/// One node's verified chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeChain {
    pub node: u64,
    pub count: u64,
    pub head_index: u64,
    pub head_hash: String,
    /// Its `rollback` and `rollout_advance` entries, for the rollout check.
    #[serde(skip)]
    pub rollout_entries: Vec<RolloutEntry>,
}

/// Fetches and verifies node `node`'s chain at `endpoint`.
pub async fn verify_node(client: &Client, node: u64, endpoint: &str) -> Result<NodeChain, String> {
    let mut verifier = Verifier::new();
    let mut rollout_entries = Vec::new();
    let mut from = 1;
    let head_index = loop {
        let request = Request::Operate(OperatorRequest::AuditRange {
            from_index: from,
            limit: MAX_AUDIT_ENTRIES as u32,
            stale: true,
        });
        let reply = tokio::time::timeout(PAGE_DEADLINE, client.call_node(endpoint, &request))
            .await
            .map_err(|_| {
                format!("node {node}: no audit page from {from} within {PAGE_DEADLINE:?}")
            })?
            .map_err(|e| format!("node {node}: audit page from {from}: {e}"))?;
        let (entries, head) = match reply {
            Reply::Operated(OperatorReply::AuditEntries {
                entries,
                head_index,
            }) => (entries, head_index),
            other => {
                return Err(format!(
                    "node {node}: unexpected answer to AuditRange: {other:?}"
                ))
            }
        };
        for entry in &entries {
            verifier
                .push(entry)
                .map_err(|e| format!("node {node}: audit chain broken: {e}"))?;
            if matches!(entry.action.as_str(), "rollback" | "rollout_advance") {
                rollout_entries.push(RolloutEntry {
                    index: entry.index,
                    action: entry.action.clone(),
                    target: entry.target.clone(),
                    details: entry.details.clone(),
                });
            }
        }
        match entries.last() {
            Some(last) if last.index < head => from = last.index + 1,
            _ => break head,
        }
    };
    let report = verifier.finish();
    if report.head.index != head_index {
        return Err(format!(
            "node {node}: the chain it sent ends at {} but it reports head {head_index}",
            report.head.index
        ));
    }
    if report.first_index > 1 {
        return Err(format!(
            "node {node}: the chain starts at {}, not 1",
            report.first_index
        ));
    }
    Ok(NodeChain {
        node,
        count: report.count,
        head_index,
        head_hash: hex::encode(report.head.hash),
        rollout_entries,
    })
}

/// Verifies every node's chain; the violations found (empty: all good).
pub async fn verify_all(client: &Client, nodes: &[(u64, String)]) -> (Vec<NodeChain>, Vec<String>) {
    let mut chains = Vec::new();
    let mut violations = Vec::new();
    for (node, endpoint) in nodes {
        match verify_node(client, *node, endpoint).await {
            Ok(chain) => chains.push(chain),
            Err(e) => violations.push(e),
        }
    }
    if let Some(first) = chains.first() {
        for other in &chains[1..] {
            if (other.head_index, &other.head_hash) != (first.head_index, &first.head_hash) {
                violations.push(format!(
                    "audit heads differ: node {} has {} {}, node {} has {} {}",
                    first.node,
                    first.head_index,
                    first.head_hash,
                    other.node,
                    other.head_index,
                    other.head_hash
                ));
            }
        }
    }
    (chains, violations)
}
