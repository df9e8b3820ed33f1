//! The verdict: Mann–Whitney against scipy, and properties of the test.

use super::*;
use proptest::prelude::*;

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
}
