//! The verdict: Mann–Whitney against scipy, each row of the decision
//! table, the whole verdict, and properties of the test.

use super::*;
use crate::policy::{Aggregate, Limit};
use proptest::prelude::*;

/// Printed by `python3 reference.py` (beside this file):
/// `scipy.stats.mannwhitneyu(candidate, baseline, alternative='two-sided',
/// use_continuity=True, method='asymptotic')` with scipy 1.17.1 and numpy
/// 2.4.6: (name, candidate, baseline, statistic, pvalue, z). scipy does not
/// return z; it is `sign(U − n₁n₂/2) · norm.isf(pvalue / 2)`. "integers"
/// is `numpy.random.default_rng(17).integers(0, 8, 30)` against
/// `.integers(1, 9, 25)` from the same generator.
#[allow(clippy::type_complexity)]
const SCIPY: &[(&str, &[f64], &[f64], f64, f64, f64)] = &[
    (
        "apart",
        &[1.0, 2.0, 3.0, 4.0, 5.0],
        &[6.0, 7.0, 8.0, 9.0, 10.0],
        0.0,
        0.012185780355344813,
        -2.5067182457620487,
    ),
    (
        "ties",
        &[1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0],
        &[2.0, 3.0, 3.0, 4.0, 4.0, 5.0, 5.0, 6.0],
        11.0,
        0.04988443697992588,
        -1.9609535902338049,
    ),
    (
        "fractions",
        &[0.5, 1.5, 1.5, 2.0, 7.25, 3.0],
        &[1.5, 1.5, 2.0, 2.0, 9.0],
        13.0,
        0.7771658841197077,
        -0.28301428829414393,
    ),
    (
        "mostly_zero",
        &[0.0, 0.0, 0.0, 1.0, 0.0, 2.0, 0.0, 0.0],
        &[0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0],
        41.5,
        0.9028072697279621,
        0.12211584951084105,
    ),
    (
        "signed_zeros",
        &[-1.0, -0.0, 0.0, 2.5],
        &[0.0, 0.0, -3.0, 2.5, 2.5],
        9.0,
        0.8963198452359471,
        -0.13031167282892084,
    ),
    (
        "equal",
        &[1.0, 2.0, 3.0, 4.0],
        &[4.0, 3.0, 2.0, 1.0],
        8.0,
        1.0,
        0.0,
    ),
    (
        "integers",
        &[
            5.0, 6.0, 0.0, 1.0, 3.0, 4.0, 6.0, 2.0, 0.0, 1.0, 3.0, 3.0, 7.0, 3.0, 5.0, 4.0, 0.0,
            5.0, 0.0, 0.0, 4.0, 2.0, 2.0, 4.0, 1.0, 0.0, 5.0, 7.0, 5.0, 6.0,
        ],
        &[
            4.0, 1.0, 6.0, 5.0, 6.0, 5.0, 4.0, 1.0, 6.0, 2.0, 4.0, 2.0, 5.0, 4.0, 4.0, 5.0, 2.0,
            4.0, 6.0, 8.0, 2.0, 7.0, 3.0, 4.0, 7.0,
        ],
        269.0,
        0.07173383625627969,
        -1.8008036318099534,
    ),
];

#[test]
fn mann_whitney_agrees_with_scipy() {
    for &(name, candidate, baseline, u, p, z) in SCIPY {
        let t = mann_whitney(candidate, baseline).expect("finite samples");
        assert_eq!(t.u, u, "{name}: U");
        // statrs's erfc is good to about 1e-10 relative here (scipy's p
        // matches a 40-digit mpmath evaluation to the last digit).
        assert!(
            (t.p_value - p).abs() <= 1e-9 * p,
            "{name}: p {} vs {p}",
            t.p_value
        );
        assert!((t.z - z).abs() < 1e-9, "{name}: z {} vs {z}", t.z);
        let pairs = (candidate.len() * baseline.len()) as f64;
        assert_eq!(t.common_language, u / pairs, "{name}");
        assert!(
            (t.rank_biserial - (2.0 * u / pairs - 1.0)).abs() < 1e-15,
            "{name}"
        );
    }
}

#[test]
fn all_values_tied_is_no_difference() {
    let t = mann_whitney(&[3.0; 60], &[3.0; 70]).expect("finite");
    assert_eq!(
        (t.u, t.z, t.p_value, t.rank_biserial),
        (2100.0, 0.0, 1.0, 0.0)
    );
}

#[test]
fn non_finite_and_empty_samples_are_refused() {
    assert_eq!(
        mann_whitney(&[1.0, f64::INFINITY], &[1.0]),
        Err(VerdictError::NonFinite {
            cohort: Cohort::Candidate,
            index: 1,
            value: f64::INFINITY
        })
    );
    assert!(matches!(
        mann_whitney(&[1.0], &[f64::NAN]),
        Err(VerdictError::NonFinite {
            cohort: Cohort::Baseline,
            index: 0,
            ..
        })
    ));
    assert_eq!(
        mann_whitney(&[], &[1.0]),
        Err(VerdictError::Empty {
            cohort: Cohort::Candidate
        })
    );
}

#[test]
fn the_judge_refuses_non_finite_values_even_when_too_few() {
    let err = Judge::default()
        .metric(
            &spec(Worse::Higher),
            Samples::all(&[1.0, f64::NAN]),
            Samples::all(&[]),
        )
        .expect_err("NaN is refused");
    assert_eq!(
        err.to_string(),
        "metric latency_ms: candidate sample 1 is NaN, not a finite number"
    );
}

#[test]
fn the_judge_refuses_thresholds_that_make_no_sense() {
    let cases = [
        Judge {
            confidence: 1.0,
            ..Judge::default()
        },
        Judge {
            confidence: f64::NAN,
            ..Judge::default()
        },
        Judge {
            max_shift: -0.1,
            ..Judge::default()
        },
        Judge {
            max_change: f64::INFINITY,
            ..Judge::default()
        },
    ];
    for judge in cases {
        assert!(
            matches!(judge.validate(), Err(VerdictError::Judge { .. })),
            "{judge:?}"
        );
        assert!(judge
            .metric(
                &spec(Worse::Higher),
                Samples::all(&[1.0]),
                Samples::all(&[1.0])
            )
            .is_err());
    }
    assert_eq!(Judge::default().validate(), Ok(()));
}

// --- the decision table -------------------------------------------------

fn spec(worse: Worse) -> MetricSpec {
    MetricSpec {
        metric: "latency_ms".into(),
        worse,
        min_samples: 0,
    }
}

/// `start, start + step, …`, `n` values.
fn ramp(n: usize, start: f64, step: f64) -> Vec<f64> {
    (0..n).map(|i| start + step * i as f64).collect()
}

fn judge(worse: Worse, candidate: &[f64], baseline: &[f64]) -> MetricVerdict {
    Judge::default()
        .metric(
            &spec(worse),
            Samples::all(candidate),
            Samples::all(baseline),
        )
        .expect("finite samples")
}

fn test_of(v: &MetricVerdict) -> MannWhitney {
    v.test.expect("enough samples to run the test")
}

#[test]
fn too_few_samples_in_either_cohort_is_inconclusive() {
    let enough = ramp(50, 0.0, 1.0);
    let few = ramp(49, 1000.0, 1.0);
    for (candidate, baseline) in [(&few, &enough), (&enough, &few)] {
        let v = judge(Worse::Higher, candidate, baseline);
        assert_eq!(v.class, Class::Inconclusive);
        assert_eq!(v.test, None);
        assert!(v.reason.starts_with("too few samples"), "{}", v.reason);
    }
    assert_eq!(judge(Worse::Higher, &enough, &enough).class, Class::Pass);
}

#[test]
fn a_guardrails_min_samples_raises_what_is_needed() {
    let values = ramp(100, 0.0, 1.0);
    let strict = MetricSpec {
        min_samples: 101,
        ..spec(Worse::Higher)
    };
    let v = Judge::default()
        .metric(&strict, Samples::all(&values), Samples::all(&values))
        .expect("finite");
    assert_eq!(v.class, Class::Inconclusive);
    assert_eq!(
        v.reason,
        "too few samples: 100 candidate and 100 baseline, 101 needed in each"
    );
}

#[test]
fn significantly_worse_beyond_the_tolerance_fails() {
    let baseline = ramp(100, 100.0, 1.0);
    let candidate = ramp(100, 130.0, 1.0);
    let v = judge(Worse::Higher, &candidate, &baseline);
    assert_eq!(v.class, Class::Fail, "{}", v.reason);
    assert!(test_of(&v).p_value < 0.05 && test_of(&v).rank_biserial > 0.147);
    assert!(
        v.reason.starts_with("candidate significantly higher"),
        "{}",
        v.reason
    );
}

#[test]
fn significantly_worse_within_the_tolerance_is_marginal() {
    // A shift of 60 over a spread of 1,000: P(candidate > baseline) is
    // about 0.56 (rank shift ~0.12) and the medians differ by 4%, but
    // 1,000 samples a side make it significant.
    let baseline = ramp(1000, 1000.0, 1.0);
    let candidate = ramp(1000, 1060.0, 1.0);
    let v = judge(Worse::Higher, &candidate, &baseline);
    let t = test_of(&v);
    assert!(t.p_value < 0.05 && t.rank_biserial < 0.147, "{t:?}");
    assert_eq!(v.class, Class::Marginal, "{}", v.reason);
    assert!(v.reason.contains("within the tolerance"), "{}", v.reason);
}

#[test]
fn a_rare_event_that_triples_fails_through_the_mean() {
    // Errors 1% → 3%: the medians are both 0 and the rank shift is 0.02;
    // only the mean (+200%) shows how much worse it is.
    let mut baseline = vec![0.0; 990];
    baseline.extend([1.0; 10]);
    let mut candidate = vec![0.0; 970];
    candidate.extend([1.0; 30]);
    let v = judge(Worse::Higher, &candidate, &baseline);
    assert_eq!(v.median_change, Some(0.0));
    assert!((v.mean_change.expect("baseline mean is not 0") - 2.0).abs() < 1e-9);
    assert!(test_of(&v).rank_biserial < 0.147);
    assert_eq!(v.class, Class::Fail, "{}", v.reason);
}

#[test]
fn a_large_shift_short_of_significance_is_marginal() {
    // 50 a side, shifted by 5 over a spread of 50: rank shift ~0.19, p ~0.1.
    let baseline = ramp(50, 0.0, 1.0);
    let candidate = ramp(50, 5.0, 1.0);
    let v = judge(Worse::Higher, &candidate, &baseline);
    let t = test_of(&v);
    assert!(t.p_value >= 0.05 && t.rank_biserial > 0.147, "{t:?}");
    assert_eq!(v.class, Class::Marginal, "{}", v.reason);
    assert!(
        v.reason.starts_with("no significant difference"),
        "{}",
        v.reason
    );
}

#[test]
fn a_small_shift_short_of_significance_passes() {
    let baseline = ramp(50, 0.0, 1.0);
    let candidate = ramp(50, 1.0, 1.0);
    let v = judge(Worse::Higher, &candidate, &baseline);
    assert_eq!(v.class, Class::Pass, "{}", v.reason);
    assert!(
        v.reason.starts_with("no significant difference (p = "),
        "{}",
        v.reason
    );
}

#[test]
fn significantly_better_passes_however_large() {
    let baseline = ramp(100, 100.0, 1.0);
    let candidate = ramp(100, 10.0, 1.0);
    let v = judge(Worse::Higher, &candidate, &baseline);
    assert_eq!(v.class, Class::Pass, "{}", v.reason);
    assert!(v.reason.contains("the better side"), "{}", v.reason);
}

#[test]
fn higher_is_better_mirrors_lower_is_better() {
    let baseline = ramp(100, 100.0, 1.0);
    let lower = ramp(100, 70.0, 1.0);
    let higher = ramp(100, 130.0, 1.0);
    assert_eq!(judge(Worse::Lower, &lower, &baseline).class, Class::Fail);
    assert_eq!(judge(Worse::Lower, &higher, &baseline).class, Class::Pass);
    assert_eq!(judge(Worse::Higher, &higher, &baseline).class, Class::Fail);
    assert_eq!(judge(Worse::Higher, &lower, &baseline).class, Class::Pass);
}

#[test]
fn a_metric_bounded_on_both_sides_fails_either_way() {
    let baseline = ramp(100, 100.0, 1.0);
    for candidate in [ramp(100, 70.0, 1.0), ramp(100, 130.0, 1.0)] {
        assert_eq!(
            judge(Worse::Either, &candidate, &baseline).class,
            Class::Fail
        );
    }
    assert_eq!(
        judge(Worse::Either, &baseline, &baseline).class,
        Class::Pass
    );
}

#[test]
fn a_reservoir_gives_its_samples_and_its_count() {
    let mut candidate = Reservoir::new(60, 1);
    let mut baseline = Reservoir::new(60, 2);
    for v in ramp(200, 0.0, 1.0) {
        candidate.offer(v).expect("finite");
        baseline.offer(v).expect("finite");
    }
    let v = Judge::default()
        .metric(
            &spec(Worse::Higher),
            (&candidate).into(),
            (&baseline).into(),
        )
        .expect("finite");
    assert_eq!((v.candidate.samples, v.candidate.seen), (60, 200));
    assert_eq!((v.baseline.samples, v.baseline.seen), (60, 200));
}

#[test]
fn full_reservoirs_are_judged_on_their_ten_thousand_samples() {
    // 50,000 values a cohort through default reservoirs, as a leader would
    // keep them: a candidate 20% slower fails; the same stream under
    // another seed passes.
    let stream = |scale: f64, seed: u64| {
        let mut r = Reservoir::with_seed(seed);
        for i in 0..50_000u32 {
            r.offer(f64::from(i % 1000) * scale).expect("finite");
        }
        r
    };
    let baseline = stream(1.0, 1);
    let slower = stream(1.2, 2);
    let same = stream(1.0, 3);
    let judge = |candidate: &Reservoir| {
        Judge::default()
            .metric(&spec(Worse::Higher), candidate.into(), (&baseline).into())
            .expect("finite")
    };
    let v = judge(&slower);
    assert_eq!((v.candidate.samples, v.candidate.seen), (10_000, 50_000));
    assert_eq!(v.class, Class::Fail, "{}", v.reason);
    let v = judge(&same);
    assert_eq!(v.class, Class::Pass, "{}", v.reason);
}

#[test]
fn relative_changes_need_a_baseline_other_than_zero() {
    assert_eq!(change(Some(0.0), Some(0.0)), Some(0.0));
    assert_eq!(change(Some(1.0), Some(0.0)), None);
    assert_eq!(change(Some(-3.0), Some(-2.0)), Some(-0.5));
    assert_eq!(change(Some(3.0), Some(2.0)), Some(0.5));
    assert_eq!(change(None, Some(2.0)), None);
    assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), Some(2.5));
    assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
    assert_eq!(median(&[]), None);
    assert_eq!(mean(&[f64::MAX, f64::MAX]), Some(f64::MAX));
}

// --- the whole verdict --------------------------------------------------

fn metric_of(name: &str, class: Class) -> MetricVerdict {
    let stats = CohortStats {
        samples: 0,
        seen: 0,
        median: None,
        mean: None,
    };
    MetricVerdict {
        metric: name.into(),
        worse: Worse::Higher,
        class,
        reason: String::new(),
        candidate: stats,
        baseline: stats,
        median_change: None,
        mean_change: None,
        test: None,
    }
}

fn whole(classes: &[(&str, Class)]) -> Verdict {
    Verdict::of(classes.iter().map(|&(n, c)| metric_of(n, c)).collect())
}

#[test]
fn any_failure_fails_the_whole() {
    let v = whole(&[
        ("a", Class::Pass),
        ("b", Class::Inconclusive),
        ("c", Class::Fail),
        ("d", Class::Marginal),
    ]);
    assert_eq!(v.class, Class::Fail);
    assert_eq!(v.reason, "fail: c; inconclusive: b; marginal: d");
}

#[test]
fn an_unjudged_metric_outweighs_a_marginal_one() {
    let v = whole(&[
        ("a", Class::Marginal),
        ("b", Class::Inconclusive),
        ("c", Class::Pass),
    ]);
    assert_eq!(v.class, Class::Inconclusive);
    assert_eq!(v.reason, "inconclusive: b; marginal: a");
}

#[test]
fn marginal_outweighs_pass_and_all_pass_is_pass() {
    let v = whole(&[
        ("a", Class::Marginal),
        ("b", Class::Marginal),
        ("c", Class::Pass),
    ]);
    assert_eq!(
        (v.class, v.reason.as_str()),
        (Class::Marginal, "marginal: a, b")
    );
    let v = whole(&[("a", Class::Pass), ("b", Class::Pass)]);
    assert_eq!(
        (v.class, v.reason.as_str()),
        (Class::Pass, "all 2 metrics pass")
    );
}

#[test]
fn no_metric_is_inconclusive() {
    let v = whole(&[]);
    assert_eq!(v.class, Class::Inconclusive);
    assert_eq!(v.reason, "no metric to compare: nothing was validated");
}

#[test]
fn the_judge_judges_every_metric() {
    let latency = spec(Worse::Higher);
    let throughput = MetricSpec {
        metric: "rps".into(),
        ..spec(Worse::Lower)
    };
    let base = ramp(100, 100.0, 1.0);
    let worse_latency = ramp(100, 150.0, 1.0);
    let v = Judge::default()
        .verdict([
            MetricSamples {
                spec: &latency,
                candidate: Samples::all(&worse_latency),
                baseline: Samples::all(&base),
            },
            MetricSamples {
                spec: &throughput,
                candidate: Samples::all(&base),
                baseline: Samples::all(&base),
            },
        ])
        .expect("finite");
    assert_eq!(v.class, Class::Fail);
    assert_eq!(v.reason, "fail: latency_ms");
    assert_eq!(v.metrics.len(), 2);
}

#[test]
fn a_verdict_serializes_with_every_number() {
    let base = ramp(100, 100.0, 1.0);
    let cand = ramp(100, 130.0, 1.0);
    let v = Judge::default()
        .verdict([MetricSamples {
            spec: &spec(Worse::Higher),
            candidate: Samples::all(&cand),
            baseline: Samples::all(&base),
        }])
        .expect("finite");
    let json = serde_json::to_value(&v).expect("serializes");
    assert_eq!(json["class"], "fail");
    let m = &json["metrics"][0];
    assert_eq!(m["worse"], "higher");
    assert_eq!(m["candidate"]["samples"], 100);
    assert_eq!(m["baseline"]["median"], 149.5);
    for key in ["u", "z", "p_value", "common_language", "rank_biserial"] {
        assert!(m["test"][key].is_number(), "{key}");
    }
    assert!(m["reason"].as_str().is_some_and(|r| !r.is_empty()));
    let back: Verdict = serde_json::from_value(json).expect("deserializes");
    assert_eq!(back, v);
}

// --- metrics from guardrails ----------------------------------------------

fn guardrail(metric: &str, direction: Direction, min_samples: u64) -> Guardrail {
    Guardrail {
        failure_limit: 1,
        name: format!("{metric} guard"),
        metric: metric.into(),
        aggregate: Aggregate::P99,
        window_s: 60,
        direction,
        limit: Limit::BaselineFactor(1.2),
        min_samples,
    }
}

#[test]
fn guardrails_give_one_spec_per_metric() {
    let specs = MetricSpec::from_guardrails(&[
        guardrail("latency_ms", Direction::AtMost, 100),
        guardrail("latency_ms", Direction::Below, 300),
        guardrail("rps", Direction::AtLeast, 10),
        guardrail("queue", Direction::Above, 0),
        guardrail("queue", Direction::AtMost, 0),
    ]);
    let got: Vec<(&str, Worse, u64)> = specs
        .iter()
        .map(|s| (s.metric.as_str(), s.worse, s.min_samples))
        .collect();
    assert_eq!(
        got,
        [
            ("latency_ms", Worse::Higher, 300),
            ("queue", Worse::Either, 0),
            ("rps", Worse::Lower, 10),
        ]
    );
}

// --- properties ------------------------------------------------------------

/// Small integers, so that ties are common.
fn sample() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec((-20i32..20).prop_map(f64::from), 1..80)
}

proptest! {
    #[test]
    fn swapping_the_cohorts_mirrors_the_test(a in sample(), b in sample()) {
        let ab = mann_whitney(&a, &b).expect("finite");
        let ba = mann_whitney(&b, &a).expect("finite");
        prop_assert_eq!(ab.u + ba.u, (a.len() * b.len()) as f64);
        prop_assert!((ab.z + ba.z).abs() < 1e-9);
        prop_assert!((ab.p_value - ba.p_value).abs() < 1e-12);
        prop_assert!((ab.rank_biserial + ba.rank_biserial).abs() < 1e-12);
    }

    #[test]
    fn the_results_stay_in_their_ranges(a in sample(), b in sample()) {
        let t = mann_whitney(&a, &b).expect("finite");
        prop_assert!((0.0..=1.0).contains(&t.p_value));
        prop_assert!((0.0..=1.0).contains(&t.common_language));
        prop_assert!((-1.0..=1.0).contains(&t.rank_biserial));
        prop_assert!(t.z.is_finite());
        prop_assert!((0.0..=(a.len() * b.len()) as f64).contains(&t.u));
    }

    #[test]
    fn the_order_of_the_samples_does_not_matter(a in sample(), b in sample()) {
        let mut reversed = a.clone();
        reversed.reverse();
        prop_assert_eq!(mann_whitney(&a, &b), mann_whitney(&reversed, &b));
    }

    #[test]
    fn identical_cohorts_always_pass(
        a in prop::collection::vec(-1e3f64..1e3, 50..200),
        worse in prop_oneof![Just(Worse::Higher), Just(Worse::Lower), Just(Worse::Either)],
    ) {
        let mut shuffled = a.clone();
        shuffled.reverse();
        let v = Judge::default()
            .metric(&spec(worse), Samples::all(&shuffled), Samples::all(&a))
            .expect("finite");
        prop_assert_eq!(v.class, Class::Pass);
        prop_assert_eq!(v.test.map(|t| t.p_value), Some(1.0));
    }

    #[test]
    fn a_verdict_never_fails_without_a_failing_metric(
        classes in prop::collection::vec(
            prop_oneof![Just(Class::Pass), Just(Class::Marginal), Just(Class::Inconclusive)],
            0..6,
        ),
    ) {
        let named: Vec<(String, Class)> =
            classes.iter().enumerate().map(|(i, &c)| (format!("m{i}"), c)).collect();
        let v = Verdict::of(named.iter().map(|(n, c)| metric_of(n, *c)).collect());
        prop_assert_ne!(v.class, Class::Fail);
        prop_assert_eq!(v.class, classes.iter().copied().max().unwrap_or(Class::Inconclusive));
    }
}
