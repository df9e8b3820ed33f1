//! The optimizer's quality, stated as tests with fixed seeds and budgets.
//! (The figures over 20 seeds against Optuna are in `bench/compare.py`.)

use super::*;
use crate::engine::Algorithm;
use crate::space::Value;

fn config(seed: u64, algorithm: Algorithm) -> EngineConfig {
    EngineConfig {
        seed,
        algorithm,
        ..EngineConfig::default()
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
}

#[test]
fn branin_has_its_known_minimum() {
    let a: Assignment = [("x1", PI), ("x2", 2.275)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::Float(v)))
        .collect();
    assert!((branin().true_value(&a) - branin().optimum).abs() < 1e-5);
}

/// Budget 40: for seeds 0–2 the best true value is within 0.002 of
/// Branin's minimum (0.397887).
#[test]
fn finds_the_optimum_of_branin_in_40_evaluations() {
    for seed in 0..3 {
        let curve = run(&branin(), &config(seed, Algorithm::Auto), 40).unwrap();
        let best = curve[39];
        assert!(best < branin().optimum + 0.002, "seed {seed}: {best}");
    }
}

/// Budget 40: for seeds 0–2 the best true value of the noisy quadratic
/// (noise σ = 1) is below 0.35 (its minimum is 0).
#[test]
fn finds_the_optimum_of_the_noisy_quadratic_in_40_evaluations() {
    for seed in 0..3 {
        let curve = run(&noisy_quadratic(), &config(seed, Algorithm::Auto), 40).unwrap();
        let best = curve[39];
        assert!(best < 0.35, "seed {seed}: {best}");
    }
}

/// Over seeds 0–19 at 20 evaluations on Branin, the median best true value
/// is at most half of random search's, and it is better on at least 16 of
/// the 20 seeds.
#[test]
fn beats_random_search_over_20_seeds_at_equal_budget() {
    let budget = 20;
    let mut ours = Vec::new();
    let mut random = Vec::new();
    for seed in 0..20 {
        ours.push(run(&branin(), &config(seed, Algorithm::Auto), budget).unwrap()[budget - 1]);
        random.push(run(&branin(), &config(seed, Algorithm::Random), budget).unwrap()[budget - 1]);
    }
    let wins = ours.iter().zip(&random).filter(|(o, r)| o < r).count();
    let (m_ours, m_random) = (median(ours), median(random));
    assert!(
        m_ours <= 0.5 * m_random,
        "median {m_ours} vs random {m_random}"
    );
    assert!(wins >= 16, "better on {wins} of 20 seeds");
}

#[test]
fn the_curve_never_gets_worse() {
    let curve = run(&noisy_quadratic(), &config(5, Algorithm::Local), 30).unwrap();
    assert!(curve.windows(2).all(|w| w[1] <= w[0]));
    assert!(curve[29] < curve[0] || curve[0] == 0.0);
}
