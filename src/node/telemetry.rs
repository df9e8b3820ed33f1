//! Telemetry intake: batches are taken by the leader only and kept in
//! memory in sliding windows (DESIGN invariant 3: telemetry is not in the
//! log). A new leader starts with empty windows.
//!
//! One window per (target system, cohort, metric): the samples received in
//! the last [`WINDOW`], at most [`MAX_POINTS`] each, and at most
//! [`MAX_SERIES`] windows per target (a metric name beyond that is dropped
//! and counted, after windows that went quiet are freed). Samples for a
//! target system the replicated state does not know are refused, counted
//! in the ack's `rejected`, and not kept, so memory is bounded by the
//! targets operators created.

use super::leadership::leader_check;
use super::reply::Reject;
use super::Node;
use arqonbus_proto::message::{Cohort, Metrics, TelemetryBatch};
use arqonbus_proto::reply::TelemetryAck;
use arqonbus_proto::Reply;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How far back a window reaches (by arrival time on this node).
pub const WINDOW: Duration = Duration::from_secs(60);
/// Samples kept per window.
pub const MAX_POINTS: usize = 1024;
/// Windows kept per target system (cohorts times metric names).
pub const MAX_SERIES: usize = 512;

#[derive(Debug, Clone, Copy)]
struct Point {
    received: Instant,
    value: f64,
}

type SeriesKey = (u8, String);

#[derive(Debug, Default)]
struct TargetWindows {
    series: HashMap<SeriesKey, VecDeque<Point>>,
    /// Metric values dropped because the target had too many windows.
    dropped: u64,
}

/// What a window holds now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
}

/// All windows of this node.
#[derive(Debug, Default)]
pub struct TelemetryWindows {
    targets: Mutex<HashMap<String, TargetWindows>>,
}

fn cohort_key(c: Cohort) -> u8 {
    match c {
        Cohort::Baseline => 0,
        Cohort::Candidate => 1,
    }
}

fn expire(points: &mut VecDeque<Point>, now: Instant) {
    while points
        .front()
        .is_some_and(|p| now.saturating_duration_since(p.received) > WINDOW)
    {
        points.pop_front();
    }
}

impl TelemetryWindows {
    /// Adds one sample's metrics; returns how many values were dropped.
    pub fn add(&self, target: &str, cohort: Cohort, metrics: &Metrics, now: Instant) -> usize {
        let mut targets = self.targets.lock().unwrap_or_else(|p| p.into_inner());
        let windows = targets.entry(target.to_string()).or_default();
        let mut dropped = 0;
        for (metric, value) in metrics {
            let key = (cohort_key(cohort), metric.clone());
            if !windows.series.contains_key(&key) && windows.series.len() >= MAX_SERIES {
                windows.series.retain(|_, points| {
                    expire(points, now);
                    !points.is_empty()
                });
                if windows.series.len() >= MAX_SERIES {
                    windows.dropped += 1;
                    dropped += 1;
                    continue;
                }
            }
            let points = windows.series.entry(key).or_default();
            expire(points, now);
            if points.len() >= MAX_POINTS {
                points.pop_front();
            }
            points.push_back(Point {
                received: now,
                value: *value,
            });
        }
        dropped
    }

    /// The window of one metric as of `now`, if it holds anything.
    pub fn summary(
        &self,
        target: &str,
        cohort: Cohort,
        metric: &str,
        now: Instant,
    ) -> Option<Summary> {
        let targets = self.targets.lock().unwrap_or_else(|p| p.into_inner());
        let points = targets
            .get(target)?
            .series
            .get(&(cohort_key(cohort), metric.to_string()))?;
        let live: Vec<f64> = points
            .iter()
            .filter(|p| now.saturating_duration_since(p.received) <= WINDOW)
            .map(|p| p.value)
            .collect();
        if live.is_empty() {
            return None;
        }
        Some(Summary {
            count: live.len(),
            mean: live.iter().sum::<f64>() / live.len() as f64,
            min: live.iter().copied().fold(f64::INFINITY, f64::min),
            max: live.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    }

    /// Values dropped for `target` because it had too many windows.
    pub fn dropped(&self, target: &str) -> u64 {
        let targets = self.targets.lock().unwrap_or_else(|p| p.into_inner());
        targets.get(target).map_or(0, |t| t.dropped)
    }
}

/// `telemetry_batch` → `telemetry_ack`, on the leader.
pub(super) async fn intake(node: &Node, batch: TelemetryBatch) -> Result<Reply, Reject> {
    leader_check(node).await?;
    let known: Vec<bool> = node.sm.read(|a| {
        batch
            .samples
            .iter()
            .map(|s| a.state.targets.contains_key(&s.target_system))
            .collect()
    });
    let now = Instant::now();
    let (mut accepted, mut rejected) = (0u32, 0u32);
    for (sample, known) in batch.samples.iter().zip(known) {
        if known {
            node.telemetry
                .add(&sample.target_system, sample.cohort, &sample.metrics, now);
            accepted += 1;
        } else {
            rejected += 1;
        }
    }
    Ok(Reply::TelemetryAck(TelemetryAck { accepted, rejected }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(pairs: &[(&str, f64)]) -> Metrics {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn windows_slide_by_time_and_are_bounded_by_count() {
        let w = TelemetryWindows::default();
        let t0 = Instant::now();
        for i in 0..(MAX_POINTS + 10) {
            w.add(
                "svc",
                Cohort::Baseline,
                &metrics(&[("latency_p99", i as f64)]),
                t0,
            );
        }
        let s = w
            .summary("svc", Cohort::Baseline, "latency_p99", t0)
            .expect("has samples");
        assert_eq!(s.count, MAX_POINTS);
        assert_eq!(s.min, 10.0, "the oldest went first");
        assert!(w
            .summary("svc", Cohort::Candidate, "latency_p99", t0)
            .is_none());
        let later = t0 + WINDOW + Duration::from_millis(1);
        assert!(w
            .summary("svc", Cohort::Baseline, "latency_p99", later)
            .is_none());
        w.add(
            "svc",
            Cohort::Baseline,
            &metrics(&[("latency_p99", 7.0)]),
            later,
        );
        let s = w
            .summary("svc", Cohort::Baseline, "latency_p99", later)
            .expect("new sample");
        assert_eq!((s.count, s.mean), (1, 7.0));
    }

    #[test]
    fn the_number_of_windows_per_target_is_bounded() {
        let w = TelemetryWindows::default();
        let t0 = Instant::now();
        for i in 0..MAX_SERIES {
            w.add(
                "svc",
                Cohort::Candidate,
                &metrics(&[(&format!("m{i}"), 1.0)]),
                t0,
            );
        }
        let dropped = w.add("svc", Cohort::Candidate, &metrics(&[("extra", 1.0)]), t0);
        assert_eq!((dropped, w.dropped("svc")), (1, 1));
        let later = t0 + WINDOW + Duration::from_secs(1);
        let dropped = w.add("svc", Cohort::Candidate, &metrics(&[("extra", 1.0)]), later);
        assert_eq!(dropped, 0, "quiet windows were freed");
    }
}
