//! Proposals in `apply`: decisions per change, the decided table (retries
//! and conflicts), staleness, roles, and per-target event numbering.

use super::*;
use crate::decided::WINDOW_MS;
use crate::events::EventBody;
use crate::proposal::{Decision, ProposalSpec, Verdict};
use crate::role::Role;
use crate::testing::{arb_command, cmd, spec, with_target, SVC};
use proptest::prelude::*;

fn propose(s: &mut State, at_ms: u64, p: &ProposalSpec) -> Applied {
    s.apply(&cmd(
        Role::Proposer,
        at_ms,
        Op::Propose {
            proposal: p.clone(),
        },
    ))
}

fn decision(r: &Applied) -> (Decision, bool) {
    match &r.result {
        Ok(Outcome::Proposal { decision, first }) => (decision.clone(), *first),
        other => panic!("expected a decision, got {other:?}"),
    }
}

#[test]
fn each_change_is_decided_against_its_constraint() {
    use ParamValue::*;
    let mut s = with_target();
    let before = s.targets[SVC].clone();
    let brief = spec(
        "prop-1",
        &[("batch_size", Int(48)), ("temperature", Float(-0.5))],
    );
    let r = propose(&mut s, 2, &brief);
    let (d, first) = decision(&r);
    assert!(first);
    assert_eq!(d.verdict, Verdict::PartiallyApproved);
    assert_eq!(d.approved.len(), 1);
    assert_eq!(d.approved[0].parameter, "batch_size");
    assert_eq!(d.rejected[0].constraint, "min_temperature");
    assert_eq!(r.audit.len(), 1);
    assert_eq!(r.audit[0].action, "proposal");
    assert!(
        r.audit[0].details.contains("decision=partially_approved"),
        "{}",
        r.audit[0].details
    );
    let mut expected = before.live.clone();
    expected.insert("batch_size".into(), Int(48));
    assert_eq!(
        s.targets[SVC].live, expected,
        "a format-1 target has no rollout plan: the approved change is live at once"
    );

    let all = spec("prop-2", &[("temperature", Int(1))]);
    let (d, _) = decision(&propose(&mut s, 3, &all));
    assert_eq!(d.verdict, Verdict::Approved);
    assert_eq!(d.approved[0].value, Float(1.0), "an int is widened");

    let none = spec(
        "prop-3",
        &[
            ("max_tokens", Int(8193)),
            ("request_class_routing", Enum("x".into())),
            ("speculative_decoding", Int(1)),
            ("colour", Int(1)),
            ("temperature", Float(f64::NAN)),
        ],
    );
    let (d, _) = decision(&propose(&mut s, 4, &none));
    assert_eq!(d.verdict, Verdict::Rejected);
    let names: Vec<&str> = d.rejected.iter().map(|v| v.constraint.as_str()).collect();
    assert_eq!(
        names,
        [
            "max_max_tokens",
            "values_request_class_routing",
            "kind_speculative_decoding",
            "unknown_parameter",
            "kind_temperature"
        ]
    );
}

#[test]
fn a_retry_gets_the_recorded_decision_and_a_reused_id_is_a_conflict() {
    let mut s = with_target();
    let p = spec("p", &[("batch_size", ParamValue::Int(48))]);
    let (first, _) = decision(&propose(&mut s, 2, &p));
    let events = s.targets[SVC].events.clone();

    let mut retry = p.clone();
    retry.source = "another-label".into();
    let r = propose(&mut s, 3, &retry);
    let (again, is_first) = decision(&r);
    assert!(!is_first);
    assert_eq!(again, first, "the same decision, same time and number");
    assert_eq!(s.targets[SVC].events, events, "no new event");
    assert_eq!(r.audit[0].action, "proposal");
    assert!(r.audit[0].details.starts_with("duplicate"));

    let mut restamped = p.clone();
    restamped.timestamp_ms = 99;
    let r = propose(&mut s, 3, &restamped);
    assert_eq!(
        r.result,
        Err(CommandError::RetryRestamped {
            proposal_id: "p".into(),
            recorded_ms: p.timestamp_ms
        }),
        "a retry repeats its timestamp: once forgotten, that is what is checked"
    );
    assert_eq!(s.targets[SVC].events, events);

    let different = spec("p", &[("batch_size", ParamValue::Int(49))]);
    let r = propose(&mut s, 4, &different);
    assert_eq!(r.result, Err(CommandError::Conflict("p".into())));
    assert_eq!(s.targets[SVC].events, events);
    assert_eq!(s.decided.get("p").map(|d| &d.decision), Some(&first));
    assert_eq!(r.audit[0].action, "refused");
}

#[test]
fn the_decided_look_up_comes_before_the_staleness_check() {
    let mut s = with_target();
    let mut p = spec("old", &[("batch_size", ParamValue::Int(48))]);
    p.timestamp_ms = 1_000;
    decision(&propose(&mut s, 1_000, &p));
    // Still remembered past the window, though by then stale.
    let now = 2_000 + WINDOW_MS;
    let (_, first) = decision(&propose(&mut s, now, &p));
    assert!(!first);
    let mut new = spec("new", &[("batch_size", ParamValue::Int(48))]);
    new.timestamp_ms = 0;
    let r = propose(&mut s, now, &new);
    assert!(
        matches!(r.result, Err(CommandError::StaleProposal { .. })),
        "{r:?}"
    );
    assert!(s.decided.get("new").is_none());
}

#[test]
fn only_proposers_and_admins_propose_and_unknown_targets_are_refused() {
    let p = spec("p", &[("batch_size", ParamValue::Int(48))]);
    for role in [Role::Viewer, Role::Agent, Role::Operator, Role::Node] {
        let mut s = with_target();
        let r = s.apply(&cmd(
            role,
            2,
            Op::Propose {
                proposal: p.clone(),
            },
        ));
        assert!(
            matches!(r.result, Err(CommandError::Forbidden { .. })),
            "{role}"
        );
        assert!(s.decided.is_empty() && s.targets[SVC].events.is_empty());
        assert_eq!(r.audit[0].action, "forbidden");
    }
    let mut s = with_target();
    let r = s.apply(&cmd(
        Role::Admin,
        2,
        Op::Propose {
            proposal: p.clone(),
        },
    ));
    assert!(r.result.is_ok());
    let mut elsewhere = p;
    elsewhere.proposal_id = "q".into();
    elsewhere.target = "nowhere".into();
    let r = propose(&mut s, 3, &elsewhere);
    assert_eq!(r.result, Err(CommandError::UnknownTarget("nowhere".into())));
    assert!(s.decided.get("q").is_none());
}

#[test]
fn malformed_proposals_are_refused_whole() {
    let mut s = with_target();
    let twice = spec(
        "p",
        &[
            ("batch_size", ParamValue::Int(48)),
            ("batch_size", ParamValue::Int(49)),
        ],
    );
    let r = propose(&mut s, 2, &twice);
    assert!(matches!(r.result, Err(CommandError::InvalidProposal(_))));
    let empty = spec("p", &[]);
    assert!(matches!(
        propose(&mut s, 2, &empty).result,
        Err(CommandError::InvalidProposal(_))
    ));
    assert!(s.decided.is_empty());
}

#[test]
fn events_are_numbered_per_target_and_a_batch_decides_each_proposal() {
    let mut s = with_target();
    s.apply(&cmd(
        Role::Operator,
        1,
        Op::SetConstraints {
            target: "other".into(),
            constraints: crate::testing::example(),
        },
    ));
    let p = |id: &str, target: &str| {
        let mut p = spec(id, &[("batch_size", ParamValue::Int(48))]);
        p.target = target.into();
        cmd(Role::Proposer, 5, Op::Propose { proposal: p })
    };
    let batch = Op::Batch(vec![p("a", SVC), p("b", "other"), p("c", SVC), p("a", SVC)]);
    let r = s.apply(&cmd(Role::Node, 5, batch));
    let Ok(Outcome::Batch(results)) = r.result else {
        panic!("{r:?}");
    };
    let seqs: Vec<(u64, bool)> = results
        .iter()
        .map(|r| match r {
            Ok(Outcome::Proposal { decision, first }) => (decision.event_seq, *first),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(seqs, [(0, true), (0, true), (1, true), (0, false)]);
    let ids = |t: &str| -> Vec<String> {
        s.targets[t]
            .events
            .read_from(0, 10)
            .expect("kept")
            .into_iter()
            .filter_map(|e| match e.body {
                EventBody::Decided(d) => Some(d.proposal_id),
                _ => None,
            })
            .collect()
    };
    assert_eq!(ids(SVC), ["a", "c"]);
    assert_eq!(ids("other"), ["b"]);
}

proptest! {
    #[test]
    fn event_streams_stay_gapless_and_match_the_decided_table(
        commands in prop::collection::vec(arb_command(), 0..60)
    ) {
        let mut s = State::default();
        for c in &commands {
            s.apply(c);
        }
        for t in s.targets.values() {
            let events = t.events.read_from(t.events.oldest_seq(), usize::MAX).expect("kept");
            for (i, e) in events.iter().enumerate() {
                prop_assert_eq!(e.seq, t.events.oldest_seq() + i as u64);
                let EventBody::Decided(d) = &e.body else { continue };
                prop_assert_eq!(d.event_seq, e.seq);
                if let Some(known) = s.decided.get(&d.proposal_id) {
                    // How its rollout ended is recorded after the event.
                    let mut known = known.decision.clone();
                    if d.finished.is_none() {
                        known.finished = None;
                    }
                    prop_assert_eq!(&known, d);
                }
            }
        }
    }
}
