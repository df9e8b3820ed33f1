//! Every branch of the decision, one table.

use super::*;
use crate::constraint_file::parse_file;
use crate::machine::{Quarantined, Target};
use crate::testing::{spec as proposal, EXAMPLE};
use std::collections::BTreeMap;

pub(crate) fn target() -> Target {
    let file = parse_file("examples/constraints.toml", EXAMPLE).expect("example parses");
    Target {
        live: file.constraints.defaults(),
        last_known_good: file.constraints.defaults(),
        constraints: file.constraints,
        policy: file.policy,
        constraints_version: 3,
        ..Default::default()
    }
}

use ParamValue::{Bool, Enum, Float, Int};

struct Case {
    name: &'static str,
    setup: fn(&mut Target),
    changes: Vec<(&'static str, ParamValue)>,
    verdict: Verdict,
    /// (parameter, constraint) of each rejection.
    rejected: Vec<(&'static str, &'static str)>,
    pending: Vec<&'static str>,
    allowed: Vec<(&'static str, Allowed)>,
}

fn none(_: &mut Target) {}

#[test]
fn every_branch_of_the_decision() {
    let cases = vec![
        Case {
            name: "inside the envelope: approved at once",
            setup: none,
            changes: vec![("batch_size", Int(36))],
            verdict: Verdict::Approved,
            rejected: vec![],
            pending: vec![],
            allowed: vec![],
        },
        Case {
            name: "beyond the envelope, inside the step: pending",
            setup: none,
            changes: vec![("batch_size", Int(48))],
            verdict: Verdict::PendingApproval,
            rejected: vec![],
            pending: vec!["batch_size"],
            allowed: vec![],
        },
        Case {
            name: "pending takes the approved changes with it",
            setup: none,
            changes: vec![("batch_size", Int(48)), ("temperature", Float(0.75))],
            verdict: Verdict::PendingApproval,
            rejected: vec![],
            pending: vec!["batch_size"],
            allowed: vec![],
        },
        Case {
            name: "above the hard range",
            setup: none,
            changes: vec![("batch_size", Int(512))],
            verdict: Verdict::Rejected,
            rejected: vec![("batch_size", "max_batch_size")],
            pending: vec![],
            allowed: vec![(
                "batch_size",
                Allowed::Range {
                    min: 1.0,
                    max: 256.0,
                },
            )],
        },
        Case {
            name: "not one of the values",
            setup: |t| {
                t.policy
                    .limits
                    .get_mut("request_class_routing")
                    .expect("listed")
                    .frozen = false;
            },
            changes: vec![("request_class_routing", Enum("stream".into()))],
            verdict: Verdict::Rejected,
            rejected: vec![("request_class_routing", "values_request_class_routing")],
            pending: vec![],
            allowed: vec![(
                "request_class_routing",
                Allowed::Values(vec![
                    Enum("chat".into()),
                    Enum("completion".into()),
                    Enum("embedding".into()),
                ]),
            )],
        },
        Case {
            name: "wrong kind",
            setup: none,
            changes: vec![("speculative_decoding", Int(1))],
            verdict: Verdict::Rejected,
            rejected: vec![("speculative_decoding", "kind_speculative_decoding")],
            pending: vec![],
            allowed: vec![(
                "speculative_decoding",
                Allowed::Values(vec![Bool(false), Bool(true)]),
            )],
        },
        Case {
            name: "unknown parameter",
            setup: none,
            changes: vec![("colour", Int(1))],
            verdict: Verdict::Rejected,
            rejected: vec![("colour", "unknown_parameter")],
            pending: vec![],
            allowed: vec![],
        },
        Case {
            name: "frozen",
            setup: none,
            changes: vec![("request_class_routing", Enum("completion".into()))],
            verdict: Verdict::Rejected,
            rejected: vec![("request_class_routing", "frozen_request_class_routing")],
            pending: vec![],
            allowed: vec![(
                "request_class_routing",
                Allowed::Values(vec![Enum("chat".into())]),
            )],
        },
        Case {
            name: "beyond the absolute step",
            setup: none,
            changes: vec![("batch_size", Int(100))],
            verdict: Verdict::Rejected,
            rejected: vec![("batch_size", "max_step_batch_size")],
            pending: vec![],
            allowed: vec![(
                "batch_size",
                Allowed::Step {
                    max_step_abs: Some(32.0),
                    max_step_rel: None,
                },
            )],
        },
        Case {
            name: "beyond the relative step",
            setup: none,
            changes: vec![("max_tokens", Int(4096))],
            verdict: Verdict::Rejected,
            rejected: vec![("max_tokens", "max_step_max_tokens")],
            pending: vec![],
            allowed: vec![(
                "max_tokens",
                Allowed::Step {
                    max_step_abs: None,
                    max_step_rel: Some(0.5),
                },
            )],
        },
        Case {
            name: "partially approved",
            setup: none,
            changes: vec![("batch_size", Int(34)), ("colour", Int(1))],
            verdict: Verdict::PartiallyApproved,
            rejected: vec![("colour", "unknown_parameter")],
            pending: vec![],
            allowed: vec![],
        },
        Case {
            name: "a product rule rejects both of its parameters",
            setup: |t| {
                t.live.insert("max_tokens".into(), Int(4096));
            },
            changes: vec![
                ("batch_size", Int(34)),
                ("max_tokens", Int(4000)),
                ("temperature", Float(0.75)),
            ],
            verdict: Verdict::PartiallyApproved,
            rejected: vec![
                ("batch_size", "token_budget"),
                ("max_tokens", "token_budget"),
            ],
            pending: vec![],
            // Each with the other held at its proposed value.
            allowed: vec![
                (
                    "batch_size",
                    Allowed::Range {
                        min: 1.0,
                        max: 32.0,
                    },
                ),
                (
                    "max_tokens",
                    Allowed::Range {
                        min: 256.0,
                        max: 3855.0,
                    },
                ),
            ],
        },
        Case {
            name: "an implication bounds its consequent's number",
            setup: |t| {
                t.live.insert("speculative_decoding".into(), Bool(true));
                t.live.insert("temperature".into(), Float(0.9));
            },
            changes: vec![("temperature", Float(1.15))],
            verdict: Verdict::Rejected,
            rejected: vec![("temperature", "speculative_needs_low_temperature")],
            pending: vec![],
            allowed: vec![("temperature", Allowed::Range { min: 0.0, max: 1.0 })],
        },
        Case {
            name: "a linear lower bound under an implication",
            setup: |t| {
                t.live
                    .insert("request_class_routing".into(), Enum("embedding".into()));
                t.live.insert("batch_size".into(), Int(10));
            },
            changes: vec![("batch_size", Int(7))],
            verdict: Verdict::Rejected,
            rejected: vec![("batch_size", "embedding_batches")],
            pending: vec![],
            allowed: vec![(
                "batch_size",
                Allowed::Range {
                    min: 8.0,
                    max: 256.0,
                },
            )],
        },
        Case {
            name: "an implication",
            setup: |t| {
                t.live.insert("temperature".into(), Float(1.2));
            },
            changes: vec![("speculative_decoding", Bool(true))],
            verdict: Verdict::Rejected,
            rejected: vec![("speculative_decoding", "speculative_needs_low_temperature")],
            pending: vec![],
            allowed: vec![],
        },
        Case {
            name: "a rule the live values break blames no untouched change",
            setup: |t| {
                t.live.insert("temperature".into(), Float(1.2));
                t.live.insert("speculative_decoding".into(), Bool(true));
            },
            changes: vec![("batch_size", Int(34))],
            verdict: Verdict::Approved,
            rejected: vec![],
            pending: vec![],
            allowed: vec![],
        },
        Case {
            name: "quarantined value",
            setup: |t| {
                t.quarantine.push(Quarantined {
                    parameter: "batch_size".into(),
                    value: Int(34),
                    until_ms: 5_000,
                });
            },
            changes: vec![("batch_size", Int(34))],
            verdict: Verdict::Rejected,
            rejected: vec![("batch_size", "quarantine_batch_size")],
            pending: vec![],
            allowed: vec![(
                "batch_size",
                Allowed::Quarantine {
                    until_ms: 5_000,
                    distance: 0.0,
                },
            )],
        },
        Case {
            name: "a quarantine that ended",
            setup: |t| {
                t.quarantine.push(Quarantined {
                    parameter: "batch_size".into(),
                    value: Int(34),
                    until_ms: 1_000,
                });
            },
            changes: vec![("batch_size", Int(34))],
            verdict: Verdict::Approved,
            rejected: vec![],
            pending: vec![],
            allowed: vec![],
        },
        Case {
            name: "within the quarantine distance",
            setup: |t| {
                t.policy.anti_flapping.quarantine_distance = 2.0;
                t.quarantine.push(Quarantined {
                    parameter: "batch_size".into(),
                    value: Int(34),
                    until_ms: 5_000,
                });
            },
            changes: vec![("batch_size", Int(36))],
            verdict: Verdict::Rejected,
            rejected: vec![("batch_size", "quarantine_batch_size")],
            pending: vec![],
            allowed: vec![(
                "batch_size",
                Allowed::Quarantine {
                    until_ms: 5_000,
                    distance: 2.0,
                },
            )],
        },
        Case {
            name: "cooldown",
            setup: |t| t.cooldown_until_ms = 9_000,
            changes: vec![("batch_size", Int(34))],
            verdict: Verdict::Rejected,
            rejected: vec![("batch_size", "cooldown")],
            pending: vec![],
            allowed: vec![],
        },
        Case {
            name: "another proposal is pending",
            setup: |t| t.pending = Some("other".into()),
            changes: vec![("batch_size", Int(34))],
            verdict: Verdict::Rejected,
            rejected: vec![("batch_size", "active_proposal")],
            pending: vec![],
            allowed: vec![],
        },
        Case {
            name: "no-op",
            setup: none,
            changes: vec![("batch_size", Int(32)), ("temperature", Float(0.7))],
            verdict: Verdict::Rejected,
            rejected: vec![("batch_size", "no_op"), ("temperature", "no_op")],
            pending: vec![],
            allowed: vec![],
        },
        Case {
            name: "predicted guardrail violation",
            setup: |t| {
                t.observed = Some(BTreeMap::from([("latency_p99".to_string(), 265.0)]));
            },
            changes: vec![("batch_size", Int(34))],
            verdict: Verdict::Rejected,
            rejected: vec![("batch_size", "max_latency_p99")],
            pending: vec![],
            allowed: vec![],
        },
        Case {
            name: "a guardrail relative to the baseline",
            setup: |t| {
                t.observed = Some(BTreeMap::from([("latency_p99".to_string(), 100.0)]));
            },
            changes: vec![("batch_size", Int(34))],
            verdict: Verdict::Rejected,
            rejected: vec![("batch_size", "latency_vs_baseline")],
            pending: vec![],
            allowed: vec![],
        },
        Case {
            name: "guardrails hold",
            setup: |t| {
                t.observed = Some(BTreeMap::from([("latency_p99".to_string(), 200.0)]));
            },
            changes: vec![("batch_size", Int(34))],
            verdict: Verdict::Approved,
            rejected: vec![],
            pending: vec![],
            allowed: vec![],
        },
    ];
    for case in cases {
        let mut t = target();
        (case.setup)(&mut t);
        let d = decide(&proposal("p1", &case.changes), &t, "hpo-1", 2_000);
        assert_eq!(d.verdict, case.verdict, "{}: {d:#?}", case.name);
        let rejected: Vec<(&str, &str)> = d
            .rejected
            .iter()
            .map(|v| (v.parameter.as_str(), v.constraint.as_str()))
            .collect();
        assert_eq!(rejected, case.rejected, "{}", case.name);
        let pending: Vec<&str> = d.pending.iter().map(|a| a.parameter.as_str()).collect();
        assert_eq!(pending, case.pending, "{}", case.name);
        let allowed: Vec<(&str, Allowed)> = d
            .allowed
            .iter()
            .map(|(k, a)| (k.as_str(), a.clone()))
            .collect();
        assert_eq!(allowed, case.allowed, "{}", case.name);
        assert_eq!(d.constraints_version, 3, "{}", case.name);
        assert_eq!(d.proposer, "hpo-1");
    }
}

#[test]
fn a_pending_decision_counts_approvers_by_the_size_of_the_step() {
    let t = target();
    let small = decide(&proposal("p", &[("batch_size", Int(48))]), &t, "hpo", 10);
    assert_eq!(
        (small.required_approvals, small.expires_at_ms),
        (1, 10 + 3_600_000)
    );
    let large = decide(&proposal("p", &[("batch_size", Int(64))]), &t, "hpo", 10);
    assert_eq!(
        large.required_approvals, 2,
        "a step of 32 from 32 is beyond 0.5"
    );
}

#[test]
fn allowed_has_the_json_shapes_the_optimizer_reads() {
    let cases = [
        (
            Allowed::Range {
                min: 1.0,
                max: 256.0,
            },
            r#"{"max":256.0,"min":1.0}"#,
        ),
        (
            Allowed::Values(vec![Enum("a".into())]),
            r#"{"values":["a"]}"#,
        ),
        (
            Allowed::Step {
                max_step_abs: Some(32.0),
                max_step_rel: None,
            },
            r#"{"max_step_abs":32.0,"max_step_rel":null}"#,
        ),
        (
            Allowed::Quarantine {
                until_ms: 7,
                distance: 0.0,
            },
            r#"{"distance":0.0,"quarantine_until_ms":7}"#,
        ),
    ];
    for (a, json) in cases {
        assert_eq!(a.to_json().to_string(), json);
    }
}
