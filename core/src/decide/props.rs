//! Properties of the decision over random proposals against the example:
//! no approved value leaves its hard range or exceeds its step, every rule
//! holds for every approved combination, and the decision is a pure
//! function (two replicas decide byte-identically).

use super::tests::target;
use super::*;
use crate::testing::spec as proposal;
use proptest::prelude::*;

fn change() -> impl Strategy<Value = (&'static str, ParamValue)> {
    prop_oneof![
        (-10i64..300).prop_map(|v| ("batch_size", ParamValue::Int(v))),
        (0i64..9000).prop_map(|v| ("max_tokens", ParamValue::Int(v))),
        (-0.5f64..2.5).prop_map(|v| ("temperature", ParamValue::Float(v))),
        any::<bool>().prop_map(|v| ("speculative_decoding", ParamValue::Bool(v))),
    ]
}

fn live() -> impl Strategy<Value = (i64, i64, f64)> {
    (1i64..=256, 256i64..=8192, 0.0f64..=2.0)
}

proptest! {
    #[test]
    fn approved_values_stay_in_range_and_step_and_keep_every_rule(
        changes in prop::collection::vec(change(), 1..4),
        (b, m, temp) in live(),
    ) {
        let mut t = target();
        t.live.insert("batch_size".into(), ParamValue::Int(b));
        t.live.insert("max_tokens".into(), ParamValue::Int(m));
        t.live.insert("temperature".into(), ParamValue::Float(temp));
        let mut seen = std::collections::BTreeSet::new();
        let changes: Vec<_> = changes.into_iter().filter(|(p, _)| seen.insert(*p)).collect();
        let d = decide(&proposal("p", &changes), &t, "hpo", 1);
        let mut combined = t.live.clone();
        for a in d.candidate() {
            let c = &t.constraints.parameters[&a.parameter];
            prop_assert!(c.check(&a.parameter, a.value.clone()).is_ok(), "{a:?} out of range");
            let limits = t.policy.limits_of(&a.parameter);
            if let (Some(from), Some(to)) = (t.live[&a.parameter].as_f64(), a.value.as_f64()) {
                let step = (to - from).abs();
                prop_assert!(limits.max_step_abs.is_none_or(|m| step <= m));
                prop_assert!(limits.max_step_rel.is_none_or(|m| step <= m * from.abs()));
            }
            combined.insert(a.parameter.clone(), a.value.clone());
        }
        let live_holds: Vec<bool> = t.policy.rules.iter().map(|r| r.compiled.holds(&t.live)).collect();
        for (rule, held) in t.policy.rules.iter().zip(live_holds) {
            let touched = d.candidate().any(|a| rule.compiled.parameters.contains(&a.parameter));
            if touched || held {
                prop_assert!(rule.compiled.holds(&combined), "rule {} broken by {d:?}", rule.name);
            }
        }
    }

    #[test]
    fn the_decision_is_a_pure_function(
        changes in prop::collection::vec(change(), 1..4),
        at in 0u64..10_000,
    ) {
        let mut seen = std::collections::BTreeSet::new();
        let changes: Vec<_> = changes.into_iter().filter(|(p, _)| seen.insert(*p)).collect();
        let spec = proposal("p", &changes);
        let (a, b) = (target(), target());
        let da = decide(&spec, &a, "hpo", at);
        let db = decide(&spec, &b, "hpo", at);
        let bytes = |d: &Decision| bincode::serde::encode_to_vec(d, bincode::config::standard()).expect("encodes");
        prop_assert_eq!(bytes(&da), bytes(&db));
    }
}
