//! The verdict at the end of a rollout (post-deployment validation): per
//! metric, is the candidate cohort worse than the baseline cohort?
//!
//! Each metric's two samples (the leader's reservoirs) go through the
//! Mann–Whitney U test ([`mann_whitney`]); the [`Judge`] classifies the
//! result, knowing from the metric's guardrails which way is worse
//! ([`Worse`]). Everything here is a pure function of its inputs.
//!
//! # A metric's class
//!
//! With `needed = max(judge.min_samples, the guardrails' min_samples, 1)`,
//! `significant` meaning `p < 1 − judge.confidence`, and the effects
//! oriented so that positive means worse:
//!
//! - `shift`: the rank-biserial correlation (Cliff's delta) toward worse;
//! - `change`: the larger of the relative changes of the median and of the
//!   mean, candidate against baseline, toward worse (a change is left out
//!   when the baseline's median or mean is 0 and the candidate's is not);
//! - `large`: `shift > judge.max_shift` or `change > judge.max_change`;
//!
//! | samples in each cohort | the test says                          | effect               | class          |
//! |------------------------|----------------------------------------|----------------------|----------------|
//! | fewer than `needed`    | (not run)                              |                      | `inconclusive` |
//! | enough                 | significantly worse                    | `large`              | `fail`         |
//! | enough                 | significantly worse                    | not `large`          | `marginal`     |
//! | enough                 | not significant                        | `shift > max_shift`  | `marginal`     |
//! | enough                 | not significant                        | `shift ≤ max_shift`  | `pass`         |
//! | enough                 | significantly better                   | any                  | `pass`         |
//!
//! For a metric whose guardrails bound it on both sides ([`Worse::Either`])
//! a significant shift either way is "worse", and `shift` and `change` are
//! taken in absolute value. When not significant, only the rank shift can
//! make a metric marginal: the median or mean of a few dozen samples moves
//! by 10% by chance alone (in a simulation of identical lognormal
//! latencies, 50 samples a cohort, counting the median's change as well
//! made about 30% of the metrics marginal, against 4 to 6% with the rank
//! shift alone: `python3 verdict/reference.py calibrate`). The mean is in
//! `change` because a rare event (an error rate going from 1% to 2.5%)
//! moves neither the median nor the rank shift much. With the defaults, a
//! candidate no different from its baseline fails one metric in about 40
//! (the worse half of a 5% false positive rate), whatever the sample size;
//! that is the price of 95% confidence.
//!
//! # The whole verdict
//!
//! The most severe class of its metrics, in the order
//! `pass < marginal < inconclusive < fail`: any `fail` fails the whole;
//! otherwise any metric that could not be judged makes the whole
//! `inconclusive`, even beside a `marginal` one, since it might be failing
//! and a policy that accepts marginal results must still not accept it; a
//! verdict with no metric at all is `inconclusive` too, as nothing was
//! validated. Missing data is never a failure. Whether `marginal` or
//! `inconclusive` needs an operator is the policy's to say.

mod mann_whitney;

pub use mann_whitney::{mann_whitney, MannWhitney};

use crate::policy::{Direction, Guardrail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use thiserror::Error;

use super::reservoir::Reservoir;

/// One side of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cohort {
    Candidate,
    Baseline,
}

impl fmt::Display for Cohort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Cohort::Candidate => "candidate",
            Cohort::Baseline => "baseline",
        })
    }
}

/// Why no verdict could be computed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum VerdictError {
    /// NaN or an infinity: it has no rank.
    #[error("{cohort} sample {index} is {value}, not a finite number")]
    NonFinite {
        cohort: Cohort,
        index: usize,
        value: f64,
    },
    /// The test needs a value on each side.
    #[error("the {cohort} sample is empty")]
    Empty { cohort: Cohort },
    /// One of the above, in the named metric.
    #[error("metric {metric}: {source}")]
    Metric {
        metric: String,
        source: Box<VerdictError>,
    },
    /// A threshold of the [`Judge`] out of its range.
    #[error("the judge's {field} is {value}; it must be {expected}")]
    Judge {
        field: &'static str,
        value: f64,
        expected: &'static str,
    },
}

/// Which way a metric gets worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Worse {
    /// Lower is better: a guardrail `<=` or `<` (latency, errors).
    Higher,
    /// Higher is better: a guardrail `>=` or `>` (throughput, hit rate).
    Lower,
    /// Bounded on both sides: any shift is suspect.
    Either,
}

impl Worse {
    /// The way a guardrail with this direction is breached.
    pub fn of(direction: Direction) -> Worse {
        match direction {
            Direction::AtMost | Direction::Below => Worse::Higher,
            Direction::AtLeast | Direction::Above => Worse::Lower,
        }
    }

    /// `x` (positive meaning "the candidate is higher") turned so that
    /// positive means "the candidate is worse".
    fn harm(self, x: f64) -> f64 {
        match self {
            Worse::Higher => x,
            Worse::Lower => -x,
            Worse::Either => x.abs(),
        }
    }

    /// Two guardrails on one metric, in opposite directions, make `Either`.
    fn and(self, other: Worse) -> Worse {
        if self == other {
            self
        } else {
            Worse::Either
        }
    }
}

/// A metric to judge: its name, which way is worse, and the samples its
/// guardrails ask for in each cohort.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricSpec {
    pub metric: String,
    pub worse: Worse,
    pub min_samples: u64,
}

impl MetricSpec {
    /// One spec per metric the guardrails watch, in metric order. Several
    /// guardrails on one metric merge: the largest `min_samples`, and
    /// `Either` when they bound it from both sides.
    pub fn from_guardrails(guardrails: &[Guardrail]) -> Vec<MetricSpec> {
        let mut specs: BTreeMap<&str, MetricSpec> = BTreeMap::new();
        for g in guardrails {
            let worse = Worse::of(g.direction);
            specs
                .entry(g.metric.as_str())
                .and_modify(|s| {
                    s.worse = s.worse.and(worse);
                    s.min_samples = s.min_samples.max(g.min_samples);
                })
                .or_insert_with(|| MetricSpec {
                    metric: g.metric.clone(),
                    worse,
                    min_samples: g.min_samples,
                });
        }
        specs.into_values().collect()
    }
}

/// One cohort's values of one metric: those kept, and how many were seen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Samples<'a> {
    pub values: &'a [f64],
    pub seen: u64,
}

impl<'a> Samples<'a> {
    /// Values that are all there was (`seen` is their number).
    pub fn all(values: &'a [f64]) -> Samples<'a> {
        Samples {
            values,
            seen: values.len() as u64,
        }
    }
}

impl<'a> From<&'a Reservoir> for Samples<'a> {
    fn from(reservoir: &'a Reservoir) -> Samples<'a> {
        Samples {
            values: reservoir.samples(),
            seen: reservoir.seen(),
        }
    }
}

/// One metric's input to [`Judge::verdict`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricSamples<'a> {
    pub spec: &'a MetricSpec,
    pub candidate: Samples<'a>,
    pub baseline: Samples<'a>,
}

/// The class of a metric, or of the whole verdict, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Pass,
    Marginal,
    Inconclusive,
    Fail,
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Class::Pass => "pass",
            Class::Marginal => "marginal",
            Class::Inconclusive => "inconclusive",
            Class::Fail => "fail",
        })
    }
}

/// What one cohort's sample of a metric looked like.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CohortStats {
    /// Values the test used (the reservoir's).
    pub samples: u64,
    /// Values seen in all.
    pub seen: u64,
    /// `None` for an empty sample.
    pub median: Option<f64>,
    pub mean: Option<f64>,
}

/// One metric's verdict: what goes to the audit log and the status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricVerdict {
    pub metric: String,
    pub worse: Worse,
    pub class: Class,
    /// One line for a person.
    pub reason: String,
    pub candidate: CohortStats,
    pub baseline: CohortStats,
    /// `(candidate − baseline) / |baseline|` of the medians; 0 when both
    /// are 0, `None` when only the baseline's is (or a sample is empty).
    pub median_change: Option<f64>,
    /// The same for the means.
    pub mean_change: Option<f64>,
    /// `None` when inconclusive: the test was not run.
    pub test: Option<MannWhitney>,
}

/// The whole verdict of a rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub class: Class,
    pub reason: String,
    pub metrics: Vec<MetricVerdict>,
}

/// The thresholds of a verdict (the module doc has the decision table).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Judge {
    /// A difference is significant when `p < 1 − confidence`. Default
    /// 0.95, Kayenta's.
    pub confidence: f64,
    /// Fewer values than this in either cohort is `inconclusive`; a
    /// guardrail's `min_samples` raises it. Default 50, well past the
    /// twenty or so a cohort that the normal approximation of U needs.
    pub min_samples: u64,
    /// The largest rank-biserial shift toward worse that is still
    /// tolerated. Default 0.147, the bound of a "negligible" Cliff's delta
    /// (Romano et al., 2006): a candidate value is then higher than a
    /// baseline value in at most about 57% of pairs.
    pub max_shift: f64,
    /// The largest relative change of the median or the mean toward worse
    /// that is still tolerated. Default 0.10 (10%).
    pub max_change: f64,
}

impl Default for Judge {
    fn default() -> Self {
        Judge {
            confidence: 0.95,
            min_samples: 50,
            max_shift: 0.147,
            max_change: 0.10,
        }
    }
}

/// What the test found, before it becomes a class and a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Finding {
    WorseBeyondTolerance,
    WorseWithinTolerance,
    WorryingShift,
    NoDifference,
    Better,
}

impl Finding {
    fn class(self) -> Class {
        match self {
            Finding::WorseBeyondTolerance => Class::Fail,
            Finding::WorseWithinTolerance | Finding::WorryingShift => Class::Marginal,
            Finding::NoDifference | Finding::Better => Class::Pass,
        }
    }
}

/// The test and the relative changes of one metric, candidate against
/// baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Effects {
    test: MannWhitney,
    median_change: Option<f64>,
    mean_change: Option<f64>,
}

impl Judge {
    /// Refuses thresholds that make no sense (a confidence outside (0, 1),
    /// a negative or non-finite tolerance).
    pub fn validate(&self) -> Result<(), VerdictError> {
        let bad = |field, value, expected| {
            Err(VerdictError::Judge {
                field,
                value,
                expected,
            })
        };
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return bad("confidence", self.confidence, "between 0 and 1");
        }
        if !(0.0..=1.0).contains(&self.max_shift) {
            return bad("max_shift", self.max_shift, "between 0 and 1");
        }
        if !(self.max_change.is_finite() && self.max_change >= 0.0) {
            return bad("max_change", self.max_change, "finite and at least 0");
        }
        Ok(())
    }

    /// The whole verdict over every metric.
    pub fn verdict<'a>(
        &self,
        metrics: impl IntoIterator<Item = MetricSamples<'a>>,
    ) -> Result<Verdict, VerdictError> {
        let metrics = metrics
            .into_iter()
            .map(|m| self.metric(m.spec, m.candidate, m.baseline))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Verdict::of(metrics))
    }

    /// One metric's verdict. Non-finite values are refused even when there
    /// are too few of them to judge.
    pub fn metric(
        &self,
        spec: &MetricSpec,
        candidate: Samples<'_>,
        baseline: Samples<'_>,
    ) -> Result<MetricVerdict, VerdictError> {
        self.validate()?;
        let in_metric = |source| VerdictError::Metric {
            metric: spec.metric.clone(),
            source: Box::new(source),
        };
        finite(Cohort::Candidate, candidate.values).map_err(in_metric)?;
        finite(Cohort::Baseline, baseline.values).map_err(in_metric)?;
        let cand = stats(candidate);
        let base = stats(baseline);
        let median_change = change(cand.median, base.median);
        let mean_change = change(cand.mean, base.mean);
        let needed = self.needed(spec);
        let effects = if cand.samples < needed || base.samples < needed {
            None
        } else {
            Some(Effects {
                test: mann_whitney(candidate.values, baseline.values).map_err(in_metric)?,
                median_change,
                mean_change,
            })
        };
        let (class, reason) = match &effects {
            Some(effects) => {
                let finding = self.find(spec.worse, effects);
                (finding.class(), self.reason(finding, spec.worse, effects))
            }
            None => (
                Class::Inconclusive,
                too_few(cand.samples, base.samples, needed),
            ),
        };
        Ok(MetricVerdict {
            metric: spec.metric.clone(),
            worse: spec.worse,
            class,
            reason,
            candidate: cand,
            baseline: base,
            median_change,
            mean_change,
            test: effects.map(|e| e.test),
        })
    }

    /// The samples each cohort needs for the metric to be judged.
    fn needed(&self, spec: &MetricSpec) -> u64 {
        self.min_samples.max(spec.min_samples).max(1)
    }

    fn significance(&self) -> f64 {
        1.0 - self.confidence
    }

    /// The decision table of the module doc, given enough samples.
    fn find(&self, worse: Worse, effects: &Effects) -> Finding {
        let test = &effects.test;
        let shift = worse.harm(test.rank_biserial);
        if test.p_value >= self.significance() {
            return if shift > self.max_shift {
                Finding::WorryingShift
            } else {
                Finding::NoDifference
            };
        }
        if worse.harm(test.z) <= 0.0 {
            return Finding::Better;
        }
        let change = [effects.median_change, effects.mean_change]
            .into_iter()
            .flatten()
            .map(|c| worse.harm(c))
            .any(|c| c > self.max_change);
        if shift > self.max_shift || change {
            Finding::WorseBeyondTolerance
        } else {
            Finding::WorseWithinTolerance
        }
    }

    /// One line saying what was found and with which numbers.
    fn reason(&self, finding: Finding, worse: Worse, effects: &Effects) -> String {
        let test = &effects.test;
        let side = if test.z > 0.0 { "higher" } else { "lower" };
        let p = describe_p(test.p_value, self.confidence);
        let numbers = describe_effects(effects);
        match finding {
            Finding::WorseBeyondTolerance => format!(
                "candidate significantly {side} ({p}), worse beyond the tolerance \
                 (shift {:.3}, change {}): {numbers}",
                self.max_shift,
                percent(self.max_change)
            ),
            Finding::WorseWithinTolerance => format!(
                "candidate significantly {side} ({p}) but within the tolerance \
                 (shift {:.3}, change {}): {numbers}",
                self.max_shift,
                percent(self.max_change)
            ),
            Finding::WorryingShift => format!(
                "no significant difference ({p}), but a rank shift toward worse beyond {:.3}: {numbers}",
                self.max_shift
            ),
            Finding::NoDifference => format!("no significant difference ({p}): {numbers}"),
            Finding::Better => format!(
                "candidate significantly {side}, the better side for a metric where {} is worse ({p}): {numbers}",
                match worse {
                    Worse::Higher => "higher",
                    Worse::Lower | Worse::Either => "lower",
                }
            ),
        }
    }
}

impl Verdict {
    /// The whole verdict from its metrics' (see the module doc).
    pub fn of(metrics: Vec<MetricVerdict>) -> Verdict {
        let class = metrics
            .iter()
            .map(|m| m.class)
            .max()
            .unwrap_or(Class::Inconclusive);
        let reason = whole_reason(&metrics);
        Verdict {
            class,
            reason,
            metrics,
        }
    }
}

/// "fail: latency_ms; inconclusive: errors" — the metrics of each class
/// but pass, worst first; or why there is nothing to say.
fn whole_reason(metrics: &[MetricVerdict]) -> String {
    if metrics.is_empty() {
        return "no metric to compare: nothing was validated".into();
    }
    let mut parts = Vec::new();
    for class in [Class::Fail, Class::Inconclusive, Class::Marginal] {
        let names: Vec<&str> = metrics
            .iter()
            .filter(|m| m.class == class)
            .map(|m| m.metric.as_str())
            .collect();
        if !names.is_empty() {
            parts.push(format!("{class}: {}", names.join(", ")));
        }
    }
    if parts.is_empty() {
        format!("all {} metrics pass", metrics.len())
    } else {
        parts.join("; ")
    }
}

fn finite(cohort: Cohort, values: &[f64]) -> Result<(), VerdictError> {
    match mann_whitney::check(cohort, values) {
        Err(VerdictError::Empty { .. }) => Ok(()),
        other => other,
    }
}

fn stats(samples: Samples<'_>) -> CohortStats {
    CohortStats {
        samples: samples.values.len() as u64,
        seen: samples.seen,
        median: median(samples.values),
        mean: mean(samples.values),
    }
}

/// The median (the mean of the middle two of an even count).
fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => sorted.get(mid).copied(),
        _ => Some((sorted.get(mid - 1)? + sorted.get(mid)?) / 2.0),
    }
}

/// The mean, summed as `v / n` so that large values cannot overflow.
fn mean(values: &[f64]) -> Option<f64> {
    let n = values.len() as f64;
    (!values.is_empty()).then(|| values.iter().map(|v| v / n).sum())
}

/// `(candidate − baseline) / |baseline|`; 0 when both are 0, `None` when
/// only the baseline is.
fn change(candidate: Option<f64>, baseline: Option<f64>) -> Option<f64> {
    let (c, b) = (candidate?, baseline?);
    if b == 0.0 {
        return (c == 0.0).then_some(0.0);
    }
    Some((c - b) / b.abs()).filter(|x| x.is_finite())
}

fn too_few(candidate: u64, baseline: u64, needed: u64) -> String {
    format!(
        "too few samples: {candidate} candidate and {baseline} baseline, {needed} needed in each"
    )
}

fn describe_p(p: f64, confidence: f64) -> String {
    let level = percent(confidence);
    if p < 0.001 {
        format!("p < 0.001 at {level}")
    } else {
        format!("p = {p:.3} at {level}")
    }
}

fn describe_effects(effects: &Effects) -> String {
    let signed = |c: Option<f64>| match c {
        Some(c) => format!("{:+.1}%", c * 100.0),
        None => "n/a (baseline 0)".into(),
    };
    format!(
        "median {}, mean {}, rank shift {:+.3}",
        signed(effects.median_change),
        signed(effects.mean_change),
        effects.test.rank_biserial
    )
}

fn percent(x: f64) -> String {
    let p = format!("{:.1}", x * 100.0);
    format!("{}%", p.strip_suffix(".0").unwrap_or(&p))
}

#[cfg(test)]
mod tests;
