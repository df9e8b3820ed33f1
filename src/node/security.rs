//! Security events on this node: refused and forbidden attempts, counted
//! per identity and kind in a bounded table, and reported at most once
//! per interval to the leader as one `security_summary` command (the
//! core's `security` module says what it holds; `apply` audits it).
//!
//! The table holds at most `MAX_SUMMARY_ROWS` rows; attempts by further
//! identities or of further kinds are summed in one `other` row. A node
//! that finds no leader, or whose report the leader does not take, drops
//! the table and counts the loss; the next summary that reaches the log
//! says how many attempts were lost. Nothing is logged per attempt above
//! `debug`; each report logs one line. New kinds are a variant of
//! [`Kind`] and need nothing else.

use super::submit::{submit, Sender};
use super::Node;
use crate::raft::peer::{PeerRequest, PeerResponse};
use arqonbus_core::security::{
    SecuritySummary, SummaryRow, MAX_ROW_TEXT, MAX_SUMMARY_ROWS, OVERFLOW,
};
use arqonbus_core::{Op, Outcome};
use arqonbus_proto::limits::clip;
use arqonbus_transport::Identity;
use openraft::network::RaftNetworkFactory;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

/// How long a report to the leader may take.
const REPORT_DEADLINE: Duration = Duration::from_secs(3);

/// What was attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The role may not do this (checked from a frame's type, then from
    /// the decoded request).
    Forbidden,
    /// A frame that does not decode, or breaks a limit of the protocol.
    Malformed,
    /// Over a cap: connections, subscriptions, frame memory, decoding.
    OverLimit,
    /// A frame that did not arrive whole within the frame deadline.
    Deadline,
    /// A signature that does not verify, or a missing one where required.
    BadSignature,
    /// A session's sequence number accepted before.
    Replay,
    /// A `sent_at` outside the allowed skew.
    Stale,
    /// Over a rate limit of the identity.
    RateLimited,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Forbidden => "forbidden",
            Kind::Malformed => "malformed",
            Kind::OverLimit => "over_limit",
            Kind::Deadline => "deadline",
            Kind::BadSignature => "bad_signature",
            Kind::Replay => "replay",
            Kind::Stale => "stale_timestamp",
            Kind::RateLimited => "rate_limited",
        }
    }
}

/// Count and first remote address of one row.
type Tally = (u64, String);

#[derive(Debug, Default)]
struct Table {
    rows: BTreeMap<(String, &'static str), Tally>,
    other: Option<Tally>,
    lost: u64,
}

/// This node's attempts since its last report.
#[derive(Debug, Default)]
pub struct SecurityTable {
    table: Mutex<Table>,
}

fn count(tally: &mut Option<Tally>, remote: SocketAddr) {
    match tally {
        Some((n, _)) => *n += 1,
        None => *tally = Some((1, remote.to_string())),
    }
}

impl SecurityTable {
    /// Counts one attempt.
    pub fn record(&self, identity: &str, kind: Kind, remote: SocketAddr) {
        tracing::debug!(target: "arqonbus::security", identity = clip(identity, 64), kind = kind.name(), %remote, "attempt refused");
        let mut t = self.table.lock().unwrap_or_else(|p| p.into_inner());
        let key = (clip(identity, MAX_ROW_TEXT).to_string(), kind.name());
        if let Some((n, _)) = t.rows.get_mut(&key) {
            *n += 1;
        } else if t.rows.len() < MAX_SUMMARY_ROWS {
            t.rows.insert(key, (1, remote.to_string()));
        } else {
            count(&mut t.other, remote);
        }
    }

    /// Empties the table into a summary (none if nothing happened).
    pub fn take(&self) -> Option<SecuritySummary> {
        let mut t = self.table.lock().unwrap_or_else(|p| p.into_inner());
        let Table { rows, other, lost } = std::mem::take(&mut *t);
        let row = |identity: String, kind: &str, (count, first_remote): Tally| SummaryRow {
            identity,
            kind: kind.to_string(),
            count,
            first_remote,
        };
        let mut out: Vec<SummaryRow> = rows.into_iter().map(|((i, k), t)| row(i, k, t)).collect();
        out.extend(other.map(|t| row(OVERFLOW.to_string(), OVERFLOW, t)));
        let summary = SecuritySummary { rows: out, lost };
        summary.problem().is_none().then_some(summary)
    }

    /// Counts a summary that could not be reported as lost.
    pub fn lose(&self, summary: &SecuritySummary) {
        let mut t = self.table.lock().unwrap_or_else(|p| p.into_inner());
        t.lost += summary.attempts() + summary.lost;
    }
}

/// Reports this node's table once per interval, for as long as it runs.
pub(super) async fn report(node: Node) {
    let mut tick = tokio::time::interval(node.admission.limits().summary_interval());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(summary) = node.security.take() else {
            continue;
        };
        match tokio::time::timeout(REPORT_DEADLINE, send(&node, summary.clone())).await {
            Ok(Ok(())) => {
                tracing::info!(target: "arqonbus::security", node = node.id, rows = summary.rows.len(), attempts = summary.attempts(), lost = summary.lost, "refused attempts reported")
            }
            outcome => {
                let why = outcome.map_or_else(
                    |_| "no answer in time".to_string(),
                    |r| r.err().unwrap_or_default(),
                );
                tracing::warn!(target: "arqonbus::security", node = node.id, attempts = summary.attempts(), reason = %why, "refused attempts not reported; counted as lost");
                node.security.lose(&summary);
            }
        }
    }
}

/// Proposes the summary on the leader: directly here, or over the peer
/// connection to the leader.
async fn send(node: &Node, summary: SecuritySummary) -> Result<(), String> {
    let leader = node.raft.metrics().borrow().current_leader;
    match leader {
        None => Err("no leader is known".into()),
        Some(id) if id == node.id => record(node, &Identity::node(node.id), summary).await,
        Some(id) => {
            let member = node
                .raft
                .metrics()
                .borrow()
                .membership_config
                .membership()
                .get_node(&id)
                .cloned();
            let member = member.ok_or_else(|| format!("leader {id} is not in the membership"))?;
            let mut peer = node.peers.clone().new_client(id, &member).await;
            match peer
                .call(PeerRequest::SecuritySummary(summary), REPORT_DEADLINE)
                .await
            {
                Ok(PeerResponse::SecuritySummary(result)) => result,
                Ok(_) => Err("the leader answered another request".into()),
                Err(e) => Err(e.to_string()),
            }
        }
    }
}

/// Proposes `summary` as `reporter`'s (this leader's own, or a peer's that
/// reached it over the peer connection).
pub(super) async fn record(
    node: &Node,
    reporter: &Identity,
    summary: SecuritySummary,
) -> Result<(), String> {
    match submit(node, &Sender::node(reporter), Op::SecuritySummary(summary)).await {
        Ok(Ok(Outcome::Recorded)) => Ok(()),
        Ok(other) => Err(format!("refused: {other:?}")),
        Err((code, message)) => Err(format!("{}: {message}", code.name())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn attempts_are_counted_per_identity_and_kind_with_the_first_address() {
        let t = SecurityTable::default();
        assert!(t.take().is_none(), "nothing to report");
        for port in 1..=300 {
            t.record("viewer", Kind::Forbidden, at(port));
        }
        t.record("viewer", Kind::Deadline, at(7));
        let s = t.take().expect("a summary");
        assert_eq!(s.rows.len(), 2);
        assert_eq!((s.rows[0].kind.as_str(), s.rows[0].count), ("deadline", 1));
        assert_eq!(
            (s.rows[1].count, s.rows[1].first_remote.as_str()),
            (300, "127.0.0.1:1")
        );
        assert!(t.take().is_none(), "taking empties the table");
    }

    #[test]
    fn the_table_is_bounded_and_the_overflow_is_one_row() {
        let t = SecurityTable::default();
        for i in 0..MAX_SUMMARY_ROWS + 50 {
            t.record(&format!("user-{i:04}"), Kind::Malformed, at(1));
            t.record(&format!("user-{i:04}"), Kind::Malformed, at(1));
        }
        let s = t.take().expect("a summary");
        assert_eq!(s.rows.len(), MAX_SUMMARY_ROWS + 1);
        let other = s.rows.last().expect("rows");
        assert_eq!((other.identity.as_str(), other.count), (OVERFLOW, 100));
        assert_eq!(s.attempts(), 2 * (MAX_SUMMARY_ROWS as u64 + 50));
        assert_eq!(s.problem(), None, "the summary is one apply will take");
    }

    #[test]
    fn a_lost_summary_is_counted_in_the_next() {
        let t = SecurityTable::default();
        t.record("viewer", Kind::Forbidden, at(1));
        let first = t.take().expect("a summary");
        t.lose(&first);
        let next = t.take().expect("the loss alone is reported");
        assert_eq!((next.rows.len(), next.lost), (0, 1));
    }
}
