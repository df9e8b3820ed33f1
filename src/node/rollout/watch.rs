//! What the leader has seen of one target's rollout since it took over:
//! the current epoch's samples per cohort and metric (time windows for
//! the guardrails, counts for the phase), the whole rollout's reservoirs
//! for the verdict, and each guardrail's breaches. In memory only: a new
//! leader starts empty and judges from its own samples (DESIGN invariant
//! 3; the replicated state learns only what the leader proposes).

use arqonbus_core::policy::Guardrail;
use arqonbus_core::rollout::guardrail::{evaluate, Evaluation};
use arqonbus_core::rollout::reservoir::Reservoir;
use arqonbus_core::rollout::schedule::{Evidence, GuardrailState};
use arqonbus_core::rollout::verdict::{Judge, MetricSamples, MetricSpec, Samples, Verdict};
use arqonbus_proto::message::{Cohort, Metrics};
use std::collections::{BTreeMap, HashMap, VecDeque};

/// Samples kept per cohort and metric for the guardrails' windows.
pub const MAX_POINTS: usize = 4096;
/// Metrics kept per cohort; a metric name past it is dropped.
pub const MAX_METRICS: usize = 64;

fn side(c: Cohort) -> usize {
    match c {
        Cohort::Baseline => 0,
        Cohort::Candidate => 1,
    }
}

/// One target's rollout as this leader sees it.
#[derive(Debug)]
pub struct Watch {
    pub proposal_id: String,
    pub epoch: u64,
    /// The later of the takeover and the first sight of this epoch.
    pub since_ms: u64,
    counts: [u64; 2],
    last_sample_ms: Option<u64>,
    windows: [BTreeMap<String, VecDeque<(u64, f64)>>; 2],
    reservoirs: [BTreeMap<String, Reservoir>; 2],
    guardrails: Vec<GuardrailState>,
    /// Breaching evaluations not yet reported in an `Observe`.
    pub unreported: u32,
    /// Samples taken since the last `Observe` (none: nothing to report).
    pub fresh: u64,
    pub last_observe_ms: u64,
}

impl Watch {
    pub fn new(proposal_id: &str, epoch: u64, since_ms: u64, guardrails: usize) -> Watch {
        Watch {
            proposal_id: proposal_id.to_string(),
            epoch,
            since_ms,
            counts: [0; 2],
            last_sample_ms: None,
            windows: Default::default(),
            reservoirs: Default::default(),
            guardrails: vec![GuardrailState::default(); guardrails],
            unreported: 0,
            fresh: 0,
            last_observe_ms: since_ms,
        }
    }

    /// A new epoch of the same rollout (the next phase): counts and
    /// windows start again; reservoirs and breaches carry on.
    pub fn next_epoch(&mut self, epoch: u64, now_ms: u64) {
        self.epoch = epoch;
        self.since_ms = now_ms;
        self.counts = [0; 2];
        self.windows = Default::default();
        for g in &mut self.guardrails {
            g.last = None;
        }
    }

    /// Adds one sample's metrics. Returns false when its metrics were
    /// dropped for a cohort that already holds [`MAX_METRICS`] others.
    pub fn add(&mut self, cohort: Cohort, metrics: &Metrics, now_ms: u64) -> bool {
        let s = side(cohort);
        self.counts[s] += 1;
        self.fresh += 1;
        self.last_sample_ms = Some(now_ms);
        let mut kept = true;
        for (metric, value) in metrics {
            if !self.windows[s].contains_key(metric) && self.windows[s].len() >= MAX_METRICS {
                kept = false;
                continue;
            }
            let points = self.windows[s].entry(metric.clone()).or_default();
            if points.len() >= MAX_POINTS {
                points.pop_front();
            }
            points.push_back((now_ms, *value));
            let seed = seed(&self.proposal_id, s, metric);
            let reservoir = self.reservoirs[s]
                .entry(metric.clone())
                .or_insert_with(|| Reservoir::with_seed(seed));
            // Only finite values reach here (the wire validates them).
            let _ = reservoir.offer(*value);
        }
        kept
    }

    /// Evaluates every guardrail over its window as of `now_ms`; counts
    /// breaches. Returns whether any breached now.
    pub fn evaluate(&mut self, guardrails: &[Guardrail], now_ms: u64) -> bool {
        self.guardrails
            .resize(guardrails.len(), GuardrailState::default());
        let mut any = false;
        for (g, state) in guardrails.iter().zip(self.guardrails.iter_mut()) {
            let from = now_ms.saturating_sub(g.window_s.saturating_mul(1000));
            let window = |s: usize| -> Vec<f64> {
                self.windows[s].get(&g.metric).map_or_else(Vec::new, |p| {
                    p.iter()
                        .filter(|(at, _)| *at >= from)
                        .map(|(_, v)| *v)
                        .collect()
                })
            };
            let e = evaluate(g, &window(1), &window(0));
            if matches!(e, Evaluation::TooFew { .. }) {
                continue;
            }
            if e.is_breach() {
                state.breaches = state.breaches.saturating_add(1);
                self.unreported = self.unreported.saturating_add(1);
                any = true;
            }
            state.last = Some(e);
        }
        any
    }

    /// What the scheduler judges the rollout on.
    pub fn evidence(&self, phase_started_ms: u64) -> Evidence {
        Evidence {
            candidate_samples: self.counts[1],
            baseline_samples: self.counts[0],
            last_sample_ms: self.last_sample_ms,
            watching_since_ms: self.since_ms.max(phase_started_ms),
            guardrails: self.guardrails.clone(),
        }
    }

    /// The candidate's mean and candidate-minus-baseline mean per metric
    /// over the current epoch's windows (the observed impact).
    pub fn summary(&self) -> (BTreeMap<String, f64>, BTreeMap<String, f64>) {
        let mean = |p: &VecDeque<(u64, f64)>| {
            (!p.is_empty()).then(|| p.iter().map(|(_, v)| v).sum::<f64>() / p.len() as f64)
        };
        let mut observed = BTreeMap::new();
        let mut impact = BTreeMap::new();
        for (metric, points) in &self.windows[1] {
            let Some(c) = mean(points).filter(|c| c.is_finite()) else {
                continue;
            };
            observed.insert(metric.clone(), c);
            if let Some(b) = self.windows[0].get(metric).and_then(mean) {
                if (c - b).is_finite() {
                    impact.insert(metric.clone(), c - b);
                }
            }
        }
        (observed, impact)
    }

    /// The verdict over this leader's reservoirs (`None` when there is no
    /// guardrail, hence no metric to judge).
    pub fn verdict(&self, guardrails: &[Guardrail]) -> Option<Verdict> {
        let specs = MetricSpec::from_guardrails(guardrails);
        if specs.is_empty() {
            return None;
        }
        let empty = Reservoir::with_seed(0);
        let samples = |s: usize, m: &str| -> Samples<'_> {
            Samples::from(self.reservoirs[s].get(m).unwrap_or(&empty))
        };
        let inputs: Vec<MetricSamples<'_>> = specs
            .iter()
            .map(|spec| MetricSamples {
                spec,
                candidate: samples(1, &spec.metric),
                baseline: samples(0, &spec.metric),
            })
            .collect();
        match Judge::default().verdict(inputs) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!(target: "arqonbus::rollout", proposal_id = %self.proposal_id, error = %e, "no verdict");
                None
            }
        }
    }
}

/// A reservoir's seed: fixed per rollout, cohort and metric.
fn seed(proposal_id: &str, side: usize, metric: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (proposal_id, side, metric).hash(&mut h);
    h.finish()
}

/// Every target's watch on this leader.
#[derive(Debug, Default)]
pub struct Watches {
    pub by_target: HashMap<String, Watch>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use arqonbus_core::policy::{Aggregate, Direction, Limit};

    fn rail(min_samples: u64) -> Guardrail {
        Guardrail {
            name: "latency".into(),
            metric: "latency_p99".into(),
            aggregate: Aggregate::Mean,
            window_s: 10,
            direction: Direction::AtMost,
            limit: Limit::Value(100.0),
            min_samples,
            failure_limit: 1,
        }
    }

    fn m(v: f64) -> Metrics {
        [("latency_p99".to_string(), v)].into()
    }

    #[test]
    fn a_breach_needs_the_minimum_samples_inside_the_window() {
        let mut w = Watch::new("p1", 1, 0, 1);
        let g = [rail(3)];
        w.add(Cohort::Candidate, &m(500.0), 1_000);
        assert!(!w.evaluate(&g, 1_000), "one noisy sample is not a breach");
        w.add(Cohort::Candidate, &m(500.0), 2_000);
        w.add(Cohort::Candidate, &m(500.0), 3_000);
        assert!(w.evaluate(&g, 3_000));
        assert_eq!(w.evidence(0).guardrails[0].breaches, 1);
        assert!(
            !w.evaluate(&g, 12_500),
            "the window slid past two of the three samples"
        );
        assert_eq!(w.unreported, 1);
    }

    #[test]
    fn a_new_epoch_starts_the_counts_again_but_keeps_the_reservoirs() {
        let mut w = Watch::new("p1", 1, 0, 1);
        for i in 0..60 {
            w.add(Cohort::Candidate, &m(10.0 + f64::from(i)), 100);
            w.add(Cohort::Baseline, &m(10.0 + f64::from(i)), 100);
        }
        assert_eq!(w.evidence(0).candidate_samples, 60);
        w.next_epoch(2, 200);
        let e = w.evidence(0);
        assert_eq!((e.candidate_samples, e.watching_since_ms), (0, 200));
        let v = w.verdict(&[rail(1)]).expect("one metric");
        assert_eq!(v.metrics[0].candidate.samples, 60);
        assert_eq!(v.class, arqonbus_core::rollout::verdict::Class::Pass);
    }
}
