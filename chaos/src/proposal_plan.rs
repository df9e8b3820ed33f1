//! What a proposal of the chaos workload asks for, and how its events
//! look in the history: a random set of 1 to 3 changes to the target
//! [`PROPOSAL_TARGET`](crate::proposals::PROPOSAL_TARGET), the decision the
//! chaos constraints (int parameters `k0`..`k199`, 0..=10^12) call for, and
//! the `value` every `propose` event carries (see `chaos/README.md`).

use crate::rng::Rng;
use arqonbus_core::value::ParamValue;
use arqonbus_proto::message::{Proposal, ProposedChange};
use arqonbus_proto::reply::{Approval, Decision};
use serde_json::{json, Map, Value};

/// The largest value the chaos constraints allow (`max` of every `kN`).
const MAX_VALUE: i64 = 1_000_000_000_000;

/// Why a proposal was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Send {
    First,
    /// After an unknown outcome.
    Resend,
    /// Once more after a decision, on purpose.
    Duplicate,
}

impl Send {
    fn name(self) -> &'static str {
        match self {
            Send::First => "first",
            Send::Resend => "resend",
            Send::Duplicate => "duplicate",
        }
    }
}

/// The decision as the history and the summary name it.
pub fn decision_name(d: Decision) -> &'static str {
    match d {
        Decision::Approved => "approved",
        Decision::PartiallyApproved => "partially_approved",
        Decision::Rejected => "rejected",
        Decision::PendingApproval => "pending_approval",
    }
}

/// One random change set (1 to 3 changes) and the decision it calls for:
/// a value in 1..=10^12 is approved; above the maximum, below the minimum
/// or on a parameter the target does not have, it is rejected.
pub fn plan_changes(rng: &mut Rng) -> (Vec<ProposedChange>, Decision) {
    let count = 1 + rng.below(3) as usize;
    let (mut changes, mut approved) = (Vec::new(), 0);
    let first = rng.below(crate::workload::PARAMS_PER_TARGET);
    for i in 0..count {
        let param = (first + i as u64) % crate::workload::PARAMS_PER_TARGET;
        let draw = rng.below(100);
        let (parameter, value, reason) = match draw {
            0..=54 => (
                format!("k{param}"),
                1 + rng.below(MAX_VALUE as u64) as i64,
                "inside the bounds",
            ),
            55..=74 => (
                format!("k{param}"),
                MAX_VALUE + 1 + rng.below(1000) as i64,
                "above the maximum",
            ),
            75..=89 => (
                format!("k{param}"),
                -1 - rng.below(1000) as i64,
                "below the minimum",
            ),
            _ => (format!("unknown{i}"), 1, "no such parameter"),
        };
        approved += usize::from(draw < 55);
        changes.push(ProposedChange {
            parameter,
            current_value: ParamValue::Int(0),
            proposed_value: ParamValue::Int(value),
            reason: reason.into(),
        });
    }
    let expected = match approved {
        0 => Decision::Rejected,
        n if n == count => Decision::Approved,
        _ => Decision::PartiallyApproved,
    };
    (changes, expected)
}

/// The `value` of a proposal's events: its changes, the decision expected
/// and why it was sent; an `ok` adds the decision and which changes it
/// approved and rejected.
pub fn event_value(p: &Proposal, expected: Decision, send: Send, got: Option<&Approval>) -> Value {
    let changes: Map<String, Value> = p
        .changes
        .iter()
        .map(|c| (c.parameter.clone(), c.proposed_value.to_json()))
        .collect();
    let mut value = json!({
        "changes": changes,
        "expect": decision_name(expected),
        "send": send.name(),
    });
    if let (Some(a), Some(map)) = (got, value.as_object_mut()) {
        let names = |v: Vec<&String>| json!(v);
        map.insert("decision".into(), json!(decision_name(a.decision)));
        map.insert(
            "approved".into(),
            names(a.approved_changes.iter().map(|c| &c.parameter).collect()),
        );
        map.insert(
            "rejected".into(),
            names(a.rejected_changes.iter().map(|c| &c.parameter).collect()),
        );
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use arqonbus_core::constraint_file;
    use arqonbus_core::proposal::{Decision as Made, ProposalSpec, Verdict};
    use arqonbus_proto::UnixMillis;
    use std::collections::BTreeMap;

    /// The decision planned here is the one the state machine makes.
    #[test]
    fn planned_decisions_match_the_state_machine() {
        let constraints = constraint_file::parse("c.toml", &crate::workload::constraints_toml())
            .expect("valid constraints");
        let mut rng = Rng::new(7);
        let mut seen = BTreeMap::new();
        for n in 0..300 {
            let (changes, expected) = plan_changes(&mut rng);
            let p = Proposal {
                proposal_id: format!("p-{n}"),
                source: "t".into(),
                target_system: crate::proposals::PROPOSAL_TARGET.into(),
                timestamp: UnixMillis(1),
                changes,
                expected_impact: BTreeMap::new(),
                confidence: 0.5,
                duration_seconds: 1,
            };
            let spec = arqonbus_proto::convert::spec(p);
            assert!(spec.shape_problem().is_none());
            let made = Made::make(&spec as &ProposalSpec, &constraints, 1);
            let wire = match made.verdict {
                Verdict::Approved => Decision::Approved,
                Verdict::PartiallyApproved => Decision::PartiallyApproved,
                Verdict::Rejected | Verdict::Expired => Decision::Rejected,
                Verdict::PendingApproval => Decision::PendingApproval,
            };
            assert_eq!(wire, expected, "{spec:?}");
            *seen.entry(decision_name(expected)).or_insert(0) += 1;
        }
        assert_eq!(seen.len(), 3, "every kind of decision occurs: {seen:?}");
    }
}
