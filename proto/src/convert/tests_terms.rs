//! The approval reports the target's own rollout terms, not constants:
//! each change's maximum change rate from its step limit and live value,
//! the enforcement mode from the plan's first phase, and the schedule from
//! how many phases the plan has.

use super::approval;
use crate::reply::{EnforcementMode, RolloutSchedule};
use arqonbus_core::constraint_file::parse_file;
use arqonbus_core::decide::decide;
use arqonbus_core::proposal::{Change, ProposalSpec};
use arqonbus_core::{ParamValue, Target};
use std::collections::BTreeMap;

pub(super) const EXAMPLE: &str = include_str!("../../../examples/constraints.toml");

/// A target under `text` with its defaults live (shared with `tests_allowed`).
pub(super) fn target(text: &str) -> Target {
    let file = parse_file("c.toml", text).expect("parses");
    Target {
        live: file.constraints.defaults(),
        constraints: file.constraints,
        policy: file.policy,
        ..Default::default()
    }
}

/// A proposal `p1` of `changes` (shared with `tests_allowed`).
pub(super) fn spec(changes: &[(&str, ParamValue)]) -> ProposalSpec {
    ProposalSpec {
        proposal_id: "p1".into(),
        source: "hpo".into(),
        target: "svc".into(),
        timestamp_ms: 1,
        changes: changes
            .iter()
            .map(|(p, v)| Change {
                parameter: p.to_string(),
                current_value: v.clone(),
                proposed_value: v.clone(),
                reason: "test".into(),
            })
            .collect(),
        expected_impact: BTreeMap::new(),
        confidence: 0.5,
        duration_seconds: 60,
    }
}

#[test]
fn each_change_reports_its_own_step_limit_relative_to_the_live_value() {
    use ParamValue::*;
    // (parameter, proposed, expected max_change_rate)
    let cases = [
        // max_step_abs 32 from the live 32.
        ("batch_size", Int(34), 1.0),
        // max_step_rel 0.5.
        ("max_tokens", Int(2100), 0.5),
        // max_step_abs 0.3 from the live 0.7.
        ("temperature", Float(0.75), 0.3 / 0.7),
        // No step limit: no relative limit to report.
        ("speculative_decoding", Bool(true), 0.0),
    ];
    let t = target(EXAMPLE);
    for (parameter, value, want) in cases {
        let a = approval(&decide(&spec(&[(parameter, value)]), &t, "hpo", 5));
        assert_eq!(a.approved_changes.len(), 1, "{parameter}: {a:?}");
        let got = a.approved_changes[0].max_change_rate;
        assert!((got - want).abs() < 1e-12, "{parameter}: {got} != {want}");
        let wire = crate::codec::Message::Reply(crate::Reply::Approval(a));
        assert!(crate::validate::message(&wire).is_ok(), "{parameter}");
    }
    // Both limits: the tighter one.
    let both = EXAMPLE.replace(
        "max_step_abs = 32 ",
        "max_step_abs = 32\nmax_step_rel = 0.25 ",
    );
    let a = approval(&decide(
        &spec(&[("batch_size", Int(34))]),
        &target(&both),
        "hpo",
        5,
    ));
    assert_eq!(a.approved_changes[0].max_change_rate, 0.25);
}

#[test]
fn the_plan_sets_the_enforcement_mode_and_the_schedule() {
    let one_phase =
        "phases = [\n  { name = \"full\", share = 100, min_seconds = 60, min_samples = 10 },\n]";
    let canary_first = "phases = [\n  { name = \"canary\", share = 5, min_seconds = 60, min_samples = 10 },\n  { name = \"full\", share = 100, min_seconds = 60, min_samples = 10 },\n]";
    let plan = |phases: &str| {
        let start = EXAMPLE.find("phases = [").expect("a plan");
        let end = start + EXAMPLE[start..].find("\n]").expect("its end") + 2;
        format!("{}{phases}{}", &EXAMPLE[..start], &EXAMPLE[end..])
    };
    let cases = [
        (
            EXAMPLE.to_string(),
            EnforcementMode::Shadow,
            RolloutSchedule::Gradual,
        ),
        (
            plan(one_phase),
            EnforcementMode::Monitored,
            RolloutSchedule::Immediate,
        ),
        (
            plan(canary_first),
            EnforcementMode::Monitored,
            RolloutSchedule::Gradual,
        ),
    ];
    for (text, mode, schedule) in cases {
        let d = decide(
            &spec(&[("batch_size", ParamValue::Int(34))]),
            &target(&text),
            "hpo",
            5,
        );
        let a = approval(&d);
        assert_eq!(a.enforcement_mode, mode);
        assert_eq!(a.approved_changes[0].rollout_schedule, schedule);
    }
}
