//! The end-of-run proposal check. Every proposal id the workload sent is
//! looked up on **each node's own replica** (`ShowProposal` with
//! `stale: true`, through that node only), and then:
//!
//! - every answer the clients got for one id is the same decision (a
//!   re-sent id returns the recorded decision; no id is decided twice
//!   differently), and no send of an id got `conflict` (each id is only
//!   ever sent with one content);
//! - every id that got an `ok` is on every node, with exactly the decision
//!   the client was given (the whole `approval`);
//! - an id whose outcome stayed unknown is on every node or on none, with
//!   one decision;
//! - every decision is the one the constraints call for.
//!
//! Any of these failing is a violation. The figures for the summary come
//! from the same inputs and the history.

use crate::history::{Event, EventType, Function};
use crate::proposals::{decision_name, Submissions};
use arqonbus_client::Client;
use arqonbus_proto::operator::{OperatorReply, OperatorRequest};
use arqonbus_proto::reply::Approval;
use arqonbus_proto::{Reply, Request};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Deadline for one look-up.
const SHOW_DEADLINE: Duration = Duration::from_secs(10);

/// One node's replica: id -> its decision there (`None`: unknown there).
pub type NodeView = BTreeMap<String, Option<Approval>>;

/// Looks every id up on node `node` alone.
pub async fn fetch_node(
    client: &Client,
    node: u64,
    endpoint: &str,
    ids: &[String],
) -> Result<NodeView, String> {
    let mut view = NodeView::new();
    for id in ids {
        let request = Request::Operate(OperatorRequest::ShowProposal {
            proposal_id: id.clone(),
            stale: true,
        });
        let reply = tokio::time::timeout(SHOW_DEADLINE, client.call_node(endpoint, &request))
            .await
            .map_err(|_| format!("node {node}: no answer about {id} within {SHOW_DEADLINE:?}"))?
            .map_err(|e| format!("node {node}: looking up {id}: {e}"))?;
        let found = match reply {
            Reply::Operated(OperatorReply::Proposal { approval, .. }) => Some(approval),
            // The node's answer for an id it has no decision for.
            Reply::Operated(OperatorReply::Refused { .. }) => None,
            other => {
                return Err(format!(
                    "node {node}: unexpected answer to ShowProposal {id}: {other:?}"
                ))
            }
        };
        view.insert(id.clone(), found);
    }
    Ok(view)
}

/// Every node's view, asked one node after another; the nodes that could
/// not be read are violations (the cluster has converged by now).
pub async fn fetch_all(
    client: &Client,
    nodes: &[(u64, String)],
    ids: &[String],
) -> (Vec<(u64, NodeView)>, Vec<String>) {
    let (mut views, mut violations) = (Vec::new(), Vec::new());
    for (node, endpoint) in nodes {
        match fetch_node(client, *node, endpoint, ids).await {
            Ok(view) => views.push((*node, view)),
            Err(e) => violations.push(e),
        }
    }
    (views, violations)
}

/// Fetches every node's view of the ids submitted and checks them.
pub async fn verify(
    client: &Client,
    nodes: &[(u64, String)],
    submitted: &Submissions,
) -> Vec<String> {
    let ids: Vec<String> = submitted.keys().cloned().collect();
    let (views, mut violations) = fetch_all(client, nodes, &ids).await;
    violations.extend(check(submitted, &views));
    violations
}

fn brief(a: &Approval) -> String {
    format!(
        "{} (approved {}, rejected {}, decided at {} ms)",
        decision_name(a.decision),
        a.approved_changes.len(),
        a.rejected_changes.len(),
        a.timestamp.0
    )
}

/// The violations (empty: all good).
pub fn check(submitted: &Submissions, views: &[(u64, NodeView)]) -> Vec<String> {
    let mut out = Vec::new();
    for (id, s) in submitted {
        for c in &s.conflicts {
            out.push(format!(
                "proposal {id}: a re-send of the same content got {c}"
            ));
        }
        for a in &s.answers {
            if a.proposal_id != *id {
                out.push(format!("proposal {id}: answered for {}", a.proposal_id));
            }
            if a.decision != s.expected {
                out.push(format!(
                    "proposal {id}: decided {}, the constraints call for {}",
                    brief(a),
                    decision_name(s.expected)
                ));
            }
        }
        let given = s.answers.first();
        if let Some(first) = given {
            for other in &s.answers[1..] {
                if other != first {
                    out.push(format!(
                        "proposal {id} was decided twice differently: {} then {}",
                        brief(first),
                        brief(other)
                    ));
                }
            }
        }
        // What the replicas must hold: the client's decision if it got
        // one, else whatever the first node holds (all or none).
        let mut reference = given.map(|a| (Some(a), "the client was given".to_string()));
        for (node, view) in views {
            let held = view.get(id).and_then(Option::as_ref);
            match &reference {
                None => reference = Some((held, format!("node {node} holds"))),
                Some((want, from)) if *want != held => {
                    let show = |a: Option<&Approval>| a.map_or("nothing".into(), brief);
                    out.push(format!(
                        "proposal {id}: node {node} holds {}, but {from} {}",
                        show(held),
                        show(*want)
                    ));
                }
                Some(_) => {}
            }
        }
    }
    out
}

/// The proposal figures of the summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProposalFigures {
    /// Proposal ids made.
    pub ids: u64,
    /// Sends (events) by completion.
    pub invoked: u64,
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
    pub open: u64,
    /// Ids by the decision the clients got.
    pub decisions: BTreeMap<&'static str, u64>,
    /// Ids refused for good, and ids given up with an unknown outcome.
    pub refused: u64,
    pub unknown: u64,
    /// Sends after an unknown outcome, and deliberate duplicate sends.
    pub resends: u64,
    pub duplicates: u64,
    /// Ids that needed at least one re-send and then got a decision.
    pub decided_after_resend: u64,
}

/// Counts sends from the history's `propose` events, and ids from what
/// the workload kept.
pub fn figures(events: &[Event], submitted: &Submissions) -> ProposalFigures {
    let mut f = ProposalFigures::default();
    let mut open = 0i64;
    for e in events.iter().filter(|e| e.f == Function::Propose) {
        match e.kind {
            EventType::Invoke => f.invoked += 1,
            EventType::Ok => f.ok += 1,
            EventType::Fail => f.fail += 1,
            EventType::Info => f.info += 1,
        }
        open += if e.kind == EventType::Invoke { 1 } else { -1 };
    }
    f.open = open.max(0) as u64;
    for s in submitted.values() {
        f.ids += 1;
        f.resends += s.resends;
        f.duplicates += s.duplicates;
        match s.answers.first() {
            Some(a) => {
                *f.decisions.entry(decision_name(a.decision)).or_insert(0) += 1;
                f.decided_after_resend += u64::from(s.resends > 0);
            }
            None if s.last == crate::recorder::Kind::Fail => f.refused += 1,
            None => f.unknown += 1,
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proposals::Submitted;
    use crate::recorder::Kind;
    use arqonbus_proto::reply::{Decision, EnforcementMode, RejectedChange};
    use arqonbus_proto::UnixMillis;

    fn approval(id: &str, decision: Decision, rejected: usize) -> Approval {
        Approval {
            proposal_id: id.into(),
            target_system: "chaos-proposals".into(),
            source: "arqonbus".into(),
            timestamp: UnixMillis(1000),
            decision,
            approved_changes: Vec::new(),
            rejected_changes: (0..rejected)
                .map(|i| RejectedChange {
                    parameter: format!("k{i}"),
                    reason: "above".into(),
                    constraint_violated: Some(format!("max_k{i}")),
                    allowed: None,
                })
                .collect(),
            enforcement_mode: EnforcementMode::Shadow,
            rollback_timeout: 60,
        }
    }

    fn submitted(expected: Decision, answers: Vec<Approval>, last: Kind) -> Submitted {
        Submitted {
            expected,
            answers,
            conflicts: Vec::new(),
            resends: 0,
            duplicates: 0,
            last,
        }
    }

    /// p-1 rejected (ok), p-2 unknown to the client and decided on every
    /// node, p-3 unknown and decided nowhere.
    fn consistent() -> (Submissions, Vec<(u64, NodeView)>) {
        let p1 = approval("p-1", Decision::Rejected, 1);
        let p2 = approval("p-2", Decision::Rejected, 2);
        let subs = Submissions::from([
            (
                "p-1".to_string(),
                submitted(Decision::Rejected, vec![p1.clone(), p1.clone()], Kind::Ok),
            ),
            (
                "p-2".to_string(),
                submitted(Decision::Rejected, vec![], Kind::Info),
            ),
            (
                "p-3".to_string(),
                submitted(Decision::Rejected, vec![], Kind::Info),
            ),
        ]);
        let view = NodeView::from([
            ("p-1".to_string(), Some(p1)),
            ("p-2".to_string(), Some(p2)),
            ("p-3".to_string(), None),
        ]);
        let views = (1..=3).map(|n| (n, view.clone())).collect();
        (subs, views)
    }

    #[test]
    fn a_consistent_set_passes() {
        let (subs, views) = consistent();
        assert_eq!(check(&subs, &views), Vec::<String>::new());
    }

    #[test]
    fn a_proposal_missing_on_one_node_is_a_violation() {
        let (subs, mut views) = consistent();
        views[2].1.insert("p-1".into(), None);
        let v = check(&subs, &views);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].contains("node 3 holds nothing"), "{v:?}");
        // An unknown outcome decided on some nodes only is caught too.
        let (subs, mut views) = consistent();
        views[1]
            .1
            .insert("p-3".into(), Some(approval("p-3", Decision::Rejected, 1)));
        let v = check(&subs, &views);
        assert!(v.len() == 1 && v[0].contains("p-3: node 2"), "{v:?}");
    }

    #[test]
    fn a_different_decision_on_a_node_is_a_violation() {
        let (subs, mut views) = consistent();
        views[0]
            .1
            .insert("p-1".into(), Some(approval("p-1", Decision::Rejected, 2)));
        let v = check(&subs, &views);
        assert!(v.len() == 1 && v[0].contains("p-1: node 1 holds"), "{v:?}");
    }

    #[test]
    fn an_id_decided_twice_differently_is_a_violation() {
        let (mut subs, views) = consistent();
        if let Some(s) = subs.get_mut("p-1") {
            s.answers.push(approval("p-1", Decision::Approved, 0));
        }
        let v = check(&subs, &views);
        assert!(v.iter().any(|v| v.contains("decided twice")), "{v:?}");
        assert!(
            v.iter().any(|v| v.contains("constraints call for")),
            "{v:?}"
        );
    }

    #[test]
    fn a_conflict_on_a_resend_is_a_violation() {
        let (mut subs, views) = consistent();
        if let Some(s) = subs.get_mut("p-2") {
            s.conflicts.push("conflict".into());
        }
        assert_eq!(check(&subs, &views).len(), 1);
    }

    #[test]
    fn figures_count_sends_and_decisions() {
        let (mut subs, _) = consistent();
        if let Some(s) = subs.get_mut("p-1") {
            s.resends = 2;
        }
        let text = r#"{"process":1000000,"type":"invoke","f":"propose","key":"p-1","value":{},"time_ns":1}
{"process":1000000,"type":"info","f":"propose","key":"p-1","value":{},"time_ns":2}
{"process":1000001,"type":"invoke","f":"propose","key":"p-1","value":{},"time_ns":3}
{"process":1000001,"type":"ok","f":"propose","key":"p-1","value":{},"time_ns":4}
{"process":1000001,"type":"invoke","f":"propose","key":"p-2","value":{},"time_ns":5}
"#;
        let events = crate::history::read_history(text.as_bytes()).expect("valid");
        let f = figures(&events, &subs);
        assert_eq!((f.invoked, f.ok, f.info, f.open), (3, 1, 1, 1));
        assert_eq!((f.ids, f.unknown, f.resends), (3, 2, 2));
        assert_eq!(f.decisions.get("rejected"), Some(&1));
        assert_eq!(f.decided_after_resend, 1);
    }
}
