//! The end-of-run rollout checks, on the history's `rollout` events
//! (`rollouts.rs`), every node's audit chain (its `rollback` and
//! `rollout_advance` entries, fetched by `audit_check.rs`) and each rollout
//! target's `rollout` status from the leader:
//!
//! 1. **Every lasting breach was rolled back**: a proposal whose agent had
//!    breaching candidate samples accepted over a span longer than the
//!    bound (gathering the guardrail's minimum samples plus elections and a
//!    partition) must have a rollback recorded, in some node's audit chain
//!    or in its target's `recent_rollbacks`.
//! 2. **Nothing was rolled back twice**: at most one `rollback` audit entry
//!    per proposal id on each node, and at most one `recent_rollbacks`
//!    entry per proposal id on each target.
//! 3. **No agent ran parameters outside the hard ranges**: every
//!    assignment an agent applied (baseline and candidate) holds only the
//!    target's parameter, an int in its range.
//!
//! The figures of the summary come from the same inputs.

use crate::history::{Event, EventType, Function};
use crate::rollouts::{MAX, MIN, PARAMETER};
use arqonbus_client::Client;
use arqonbus_proto::reply::RollbackReason;
use arqonbus_proto::rollout::{RolloutRequest, RolloutStatus};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// A `rollback` or `rollout_advance` entry of one node's audit chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutEntry {
    pub index: u64,
    pub action: String,
    pub target: String,
    pub details: String,
}

impl RolloutEntry {
    /// The proposal id in the details (`id=P ...`).
    pub fn proposal(&self) -> Option<&str> {
        field(&self.details, "id")
    }
}

/// `name=value` in audit details (up to the next space).
fn field<'a>(details: &'a str, name: &str) -> Option<&'a str> {
    details
        .split_whitespace()
        .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
}

/// A rollback reason as the audit entries name it (`cause=`).
fn cause_name(reason: RollbackReason) -> &'static str {
    match reason {
        RollbackReason::ConstraintViolation => "breach",
        RollbackReason::BaselineRegression => "regression",
        RollbackReason::Operator => "operator",
        RollbackReason::MissingTelemetry => "no_telemetry",
    }
}

/// The cause of the manual rollbacks (the harness's own, at the end): they
/// do not count as caught.
const OPERATOR: &str = "operator";

/// What the run left, for the checks.
#[derive(Debug, Clone, Default)]
pub struct EndState {
    /// Per node, its audit chain's rollout entries.
    pub audit: Vec<(u64, Vec<RolloutEntry>)>,
    /// Per rollout target, its status from the leader.
    pub statuses: BTreeMap<String, RolloutStatus>,
}

/// The rollout figures of the summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RolloutFigures {
    pub targets: u64,
    /// Proposal ids, by the decision the proposer got.
    pub proposals: u64,
    pub decisions: BTreeMap<String, u64>,
    /// Ids proposed outside the hard range (all must be rejected).
    pub out_of_range: u64,
    pub unknown: u64,
    /// Approved proposals: each starts a rollout.
    pub rollouts_started: u64,
    pub reached_steady: u64,
    pub rolled_back: u64,
    /// Rollbacks by cause (the audit entry's `cause`).
    pub rollback_causes: BTreeMap<String, u64>,
    /// Approved proposals with a breach in their plan; those whose agent
    /// got breaching samples accepted; those of them rolled back.
    pub breaches_planned: u64,
    pub breaches_sent: u64,
    pub breaches_caught: u64,
    /// Rollouts without breaching samples that were rolled back anyway.
    pub healthy_rolled_back: u64,
    /// The longest span of accepted breaching samples of one proposal.
    pub longest_breach_ms: u64,
    pub breach_bound_ms: u64,
    /// Assignments the agents applied, rollback frames they saw.
    pub assignments_applied: u64,
    pub rollbacks_seen_by_agents: u64,
}

/// Fetches each target's status from the leader.
pub async fn fetch_statuses(
    client: &Client,
    targets: &[String],
) -> (BTreeMap<String, RolloutStatus>, Vec<String>) {
    let (mut out, mut errors) = (BTreeMap::new(), Vec::new());
    for target in targets {
        let request = RolloutRequest::Status {
            target_system: target.clone(),
            stale: false,
        };
        match tokio::time::timeout(Duration::from_secs(10), client.rollout(request)).await {
            Ok(Ok(s)) => {
                out.insert(target.clone(), s);
            }
            Ok(Err(e)) => errors.push(format!("the rollout status of {target}: {e}")),
            Err(_) => errors.push(format!("the rollout status of {target}: no answer")),
        }
    }
    (out, errors)
}

#[derive(Debug, Default)]
struct Proposed {
    in_range: bool,
    breach_planned: bool,
    decision: Option<String>,
    last: Option<EventType>,
    /// First and last time (ns) breaching samples were accepted.
    breach: Option<(u64, u64)>,
}

/// Violations of the hard range in one applied assignment's parameters.
fn out_of_range(side: &str, params: &Value) -> Vec<String> {
    let Some(map) = params.as_object() else {
        return vec![format!("its {side} is not a parameter map: {params}")];
    };
    let mut out = Vec::new();
    for (name, value) in map {
        if name != PARAMETER {
            out.push(format!(
                "its {side} has {name}={value}, not a parameter of the target"
            ));
        } else if !value.as_i64().is_some_and(|v| (MIN..=MAX).contains(&v)) {
            out.push(format!(
                "its {side} has {name}={value}, outside the hard range {MIN}..={MAX}"
            ));
        }
    }
    out
}

/// The figures and the violations (empty: all good).
pub fn check(
    events: &[Event],
    end: &EndState,
    targets: u64,
    bound: Duration,
) -> (RolloutFigures, Vec<String>) {
    let mut f = RolloutFigures {
        targets,
        breach_bound_ms: bound.as_millis() as u64,
        ..RolloutFigures::default()
    };
    let mut violations = Vec::new();
    let mut proposed: BTreeMap<String, Proposed> = BTreeMap::new();
    for e in events.iter().filter(|e| e.f == Function::Rollout) {
        let v = &e.value;
        let key = e.key.clone().unwrap_or_default();
        match v.get("event").and_then(Value::as_str) {
            Some("propose") => {
                let p = proposed.entry(key).or_default();
                if e.kind == EventType::Invoke {
                    p.in_range = v["value"]
                        .as_i64()
                        .is_some_and(|x| (MIN..=MAX).contains(&x));
                    p.breach_planned = !v["breach_phase"].is_null();
                }
                if let Some(d) = v.get("decision").and_then(Value::as_str) {
                    p.decision.get_or_insert_with(|| d.to_string());
                }
                p.last = Some(e.kind);
            }
            Some("applied") => {
                f.assignments_applied += 1;
                let mut bad = out_of_range("baseline", &v["baseline"]);
                if !v["candidate"].is_null() {
                    bad.extend(out_of_range("candidate", &v["candidate"]));
                }
                for b in bad {
                    violations.push(format!(
                        "the agent of {key} applied epoch {} (proposal {}, phase {}): {b} (history line {})",
                        v["epoch"], v["proposal"], v["phase"], e.line
                    ));
                }
            }
            Some("rollback_seen") => f.rollbacks_seen_by_agents += 1,
            Some("breach") => {
                let id = v["proposal"].as_str().unwrap_or_default().to_string();
                let p = proposed.entry(id).or_default();
                let span = p.breach.get_or_insert((e.time_ns, e.time_ns));
                span.1 = e.time_ns;
            }
            _ => {}
        }
    }

    // Rollbacks and completions as the nodes recorded them.
    let mut rolled_back: BTreeMap<String, String> = BTreeMap::new();
    let mut steady: BTreeSet<String> = BTreeSet::new();
    for (node, entries) in &end.audit {
        let mut per_id: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
        for entry in entries {
            let Some(id) = entry.proposal() else { continue };
            match entry.action.as_str() {
                "rollback" => {
                    per_id.entry(id).or_default().push(entry.index);
                    let cause = field(&entry.details, "cause").unwrap_or("unknown");
                    rolled_back
                        .entry(id.to_string())
                        .or_insert_with(|| cause.to_string());
                }
                "rollout_advance" if field(&entry.details, "phase") == Some("steady") => {
                    steady.insert(id.to_string());
                }
                _ => {}
            }
        }
        for (id, indexes) in per_id.iter().filter(|(_, i)| i.len() > 1) {
            violations.push(format!(
                "proposal {id} was rolled back {} times in node {node}'s audit chain (entries {indexes:?})",
                indexes.len()
            ));
        }
    }
    for (target, status) in &end.statuses {
        let mut per_id: BTreeMap<&str, u64> = BTreeMap::new();
        for r in &status.recent_rollbacks {
            *per_id.entry(r.proposal_id.as_str()).or_default() += 1;
            rolled_back
                .entry(r.proposal_id.clone())
                .or_insert_with(|| cause_name(r.reason).to_string());
        }
        for (id, n) in per_id.iter().filter(|(_, n)| **n > 1) {
            violations.push(format!(
                "proposal {id} is in {target}'s recent_rollbacks {n} times"
            ));
        }
    }

    for (id, p) in &proposed {
        f.proposals += 1;
        f.out_of_range += u64::from(!p.in_range);
        match &p.decision {
            Some(d) => *f.decisions.entry(d.clone()).or_default() += 1,
            None if p.last == Some(EventType::Fail) => {
                *f.decisions.entry("refused".into()).or_default() += 1
            }
            None => f.unknown += 1,
        }
        let approved = p.decision.as_deref() == Some("approved");
        // A proposal whose answer was lost may still have rolled out.
        let started = approved || steady.contains(id) || rolled_back.contains_key(id);
        f.rollouts_started += u64::from(started);
        f.reached_steady += u64::from(steady.contains(id));
        f.breaches_planned += u64::from(started && p.breach_planned);
        let rollback = rolled_back.get(id);
        if let Some(cause) = rollback {
            f.rolled_back += 1;
            *f.rollback_causes.entry(cause.clone()).or_default() += 1;
        }
        // Rolled back by the cluster itself (not by the harness at the end).
        let caught = rollback.is_some_and(|c| c != OPERATOR);
        if !p.breach_planned && caught {
            f.healthy_rolled_back += 1;
        }
        if let Some((first, last)) = p.breach {
            f.breaches_sent += 1;
            f.breaches_caught += u64::from(caught);
            let span = Duration::from_nanos(last - first);
            f.longest_breach_ms = f.longest_breach_ms.max(span.as_millis() as u64);
            if span > bound && !caught {
                violations.push(format!(
                    "proposal {id}: its agent's breaching samples were accepted for {:.1} s \
                     (from {:.1} s to {:.1} s; bound {:.1} s), and the cluster never rolled it back",
                    span.as_secs_f64(),
                    first as f64 / 1e9,
                    last as f64 / 1e9,
                    bound.as_secs_f64()
                ));
            }
        }
        if steady.contains(id) && rollback.is_some() {
            violations.push(format!(
                "proposal {id} both reached steady and was rolled back"
            ));
        }
    }
    (f, violations)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arqonbus_proto::rollout::RecentRollback;
    use arqonbus_proto::UnixMillis;

    const S: u64 = 1_000_000_000;

    fn ev(kind: &str, key: &str, value: Value, t: u64) -> String {
        serde_json::json!({
            "process": 2_000_000, "type": kind, "f": "rollout", "key": key,
            "value": value, "time_ns": t,
        })
        .to_string()
    }

    fn history(lines: &[String]) -> Vec<Event> {
        crate::history::read_history(lines.join("\n").as_bytes()).expect("valid history")
    }

    /// p1 breaches from canary for 3 s and is rolled back; p2 reaches
    /// steady; p3 (out of range) is rejected.
    fn good() -> (Vec<String>, EndState) {
        use serde_json::json;
        let t = "chaos-rollout-0";
        let lines = vec![
            ev(
                "invoke",
                "p1",
                json!({"event":"propose","target":t,"value":40,"breach_phase":"canary"}),
                1,
            ),
            ev(
                "ok",
                "p1",
                json!({"event":"propose","target":t,"value":40,"breach_phase":"canary","decision":"approved"}),
                2,
            ),
            ev(
                "ok",
                t,
                json!({"event":"applied","target":t,"epoch":2,"proposal":"p1","phase":"shadow","share":0,"baseline":{"batch_size":32},"candidate":{"batch_size":40}}),
                3,
            ),
            ev(
                "ok",
                t,
                json!({"event":"breach","target":t,"proposal":"p1","phase":"canary","epoch":3,"accepted":10}),
                10 * S,
            ),
            ev(
                "ok",
                t,
                json!({"event":"breach","target":t,"proposal":"p1","phase":"canary","epoch":3,"accepted":10}),
                13 * S,
            ),
            ev(
                "ok",
                t,
                json!({"event":"rollback_seen","target":t,"proposal":"p1"}),
                14 * S,
            ),
            ev(
                "invoke",
                "p2",
                json!({"event":"propose","target":t,"value":50,"breach_phase":null}),
                15 * S,
            ),
            ev(
                "ok",
                "p2",
                json!({"event":"propose","target":t,"value":50,"breach_phase":null,"decision":"approved"}),
                15 * S + 1,
            ),
            ev(
                "invoke",
                "p3",
                json!({"event":"propose","target":t,"value":900,"breach_phase":null}),
                20 * S,
            ),
            ev(
                "ok",
                "p3",
                json!({"event":"propose","target":t,"value":900,"breach_phase":null,"decision":"rejected"}),
                20 * S + 1,
            ),
        ];
        let entries = vec![
            RolloutEntry {
                index: 7,
                action: "rollback".into(),
                target: t.into(),
                details: "id=p1 cause=breach (max_latency) quarantined=[batch_size=40] until=5"
                    .into(),
            },
            RolloutEntry {
                index: 9,
                action: "rollout_advance".into(),
                target: t.into(),
                details: "id=p2 phase=steady epoch=9".into(),
            },
        ];
        let status = RolloutStatus {
            target_system: t.into(),
            epoch: 9,
            rollout: None,
            recent_rollbacks: vec![RecentRollback {
                proposal_id: "p1".into(),
                reason: RollbackReason::ConstraintViolation,
                triggered_constraint: Some("max_latency".into()),
                at_ms: UnixMillis(5),
            }],
            recent_verdicts: Vec::new(),
        };
        let end = EndState {
            audit: (1..=3).map(|n| (n, entries.clone())).collect(),
            statuses: BTreeMap::from([(t.to_string(), status)]),
        };
        (lines, end)
    }

    const BOUND: Duration = Duration::from_secs(15);

    #[test]
    fn a_good_history_passes_with_its_figures() {
        let (lines, end) = good();
        let (f, v) = check(&history(&lines), &end, 1, BOUND);
        assert!(v.is_empty(), "{v:?}");
        assert_eq!(
            (
                f.proposals,
                f.rollouts_started,
                f.reached_steady,
                f.rolled_back
            ),
            (3, 2, 1, 1)
        );
        assert_eq!(
            (f.breaches_planned, f.breaches_sent, f.breaches_caught),
            (1, 1, 1)
        );
        assert_eq!((f.out_of_range, f.healthy_rolled_back), (1, 0));
        assert_eq!(f.longest_breach_ms, 3000);
        assert_eq!(f.rollback_causes.get("breach"), Some(&1));
        assert_eq!(f.decisions.get("rejected"), Some(&1));
    }

    #[test]
    fn a_lasting_breach_never_rolled_back_is_a_violation() {
        let (mut lines, mut end) = good();
        // Nothing recorded the rollback of p1 ...
        for (_, entries) in &mut end.audit {
            entries.retain(|e| e.action != "rollback");
        }
        for s in end.statuses.values_mut() {
            s.recent_rollbacks.clear();
        }
        // ... which breached for 3 s: within the bound, no violation.
        let (_, v) = check(&history(&lines), &end, 1, BOUND);
        assert!(v.is_empty(), "{v:?}");
        // Breaching samples accepted for 20 s: a violation.
        lines.push(ev("ok",
            "chaos-rollout-0",
            serde_json::json!({"event":"breach","proposal":"p1","phase":"canary","epoch":3,"accepted":10}),
            30 * S,
        ));
        let (f, v) = check(&history(&lines), &end, 1, BOUND);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(
            v[0].contains("proposal p1") && v[0].contains("never rolled it back"),
            "{v:?}"
        );
        assert_eq!((f.breaches_sent, f.breaches_caught), (1, 0));
        // The harness's own rollback at the end does not count ...
        for s in end.statuses.values_mut() {
            s.recent_rollbacks.push(RecentRollback {
                proposal_id: "p1".into(),
                reason: RollbackReason::Operator,
                triggered_constraint: None,
                at_ms: UnixMillis(9),
            });
        }
        assert_eq!(check(&history(&lines), &end, 1, BOUND).1.len(), 1);
        // ... the cluster's, even only in the status, does.
        let (_, with_status) = good();
        end.statuses = with_status.statuses;
        assert!(check(&history(&lines), &end, 1, BOUND).1.is_empty());
    }

    #[test]
    fn a_proposal_rolled_back_twice_is_a_violation() {
        let (lines, mut end) = good();
        let again = RolloutEntry {
            index: 8,
            ..end.audit[1].1[0].clone()
        };
        end.audit[1].1.push(again);
        let (_, v) = check(&history(&lines), &end, 1, BOUND);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(
            v[0].contains("p1 was rolled back 2 times in node 2's"),
            "{v:?}"
        );

        let (lines, mut end) = good();
        for s in end.statuses.values_mut() {
            let first = s.recent_rollbacks[0].clone();
            s.recent_rollbacks.push(first);
        }
        let (_, v) = check(&history(&lines), &end, 1, BOUND);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].contains("recent_rollbacks 2 times"), "{v:?}");
    }

    #[test]
    fn an_agent_running_values_outside_the_range_is_a_violation() {
        let t = "chaos-rollout-0";
        for (baseline, candidate, what) in [
            (
                serde_json::json!({"batch_size":32}),
                serde_json::json!({"batch_size":900}),
                "candidate has batch_size=900",
            ),
            (
                serde_json::json!({"batch_size":0}),
                Value::Null,
                "baseline has batch_size=0",
            ),
            (
                serde_json::json!({"batch_size":32}),
                serde_json::json!({"batch_size":1.5}),
                "candidate has batch_size=1.5",
            ),
            (
                serde_json::json!({"other":1}),
                Value::Null,
                "not a parameter",
            ),
        ] {
            let (mut lines, end) = good();
            lines.push(ev("ok",
                t,
                serde_json::json!({"event":"applied","target":t,"epoch":12,"proposal":"p3","phase":"canary","share":20,"baseline":baseline,"candidate":candidate}),
                21 * S,
            ));
            let (_, v) = check(&history(&lines), &end, 1, BOUND);
            assert_eq!(v.len(), 1, "{v:?}");
            assert!(v[0].contains(what) && v[0].contains("line 11"), "{v:?}");
        }
    }

    #[test]
    fn audit_details_name_the_proposal() {
        let e = RolloutEntry {
            index: 1,
            action: "rollback".into(),
            target: "t".into(),
            details: "id=t-p3 cause=no_telemetry quarantined=[] until=1".into(),
        };
        assert_eq!(e.proposal(), Some("t-p3"));
        assert_eq!(field(&e.details, "cause"), Some("no_telemetry"));
        assert_eq!(field("phase=steady", "id"), None);
    }
}
