//! The simulated agent: follows its target's assignment through an
//! [`AssignmentWatch`], serves synthetic requests (keys `req-0`, `req-1`,
//! …) split into cohorts with [`CohortSplit::cohort_for`], measures each
//! with the [`Model`] under its cohort's parameters, and sends the samples
//! as tagged telemetry in batches. In a shadow phase (a candidate at share
//! 0) every request is served on the baseline, and the candidate is
//! evaluated besides: one candidate-cohort sample per request, computed
//! for the candidate's parameters and never served. Each assignment and
//! rollback it applies is written as one JSON line (the protocol's JSON
//! view, §10).

use crate::model::Model;
use arqonbus_client::proto::message::{Cohort, TelemetryContext, TelemetrySample};
use arqonbus_client::proto::rollout::{Assignment, TaggedSample};
use arqonbus_client::proto::{Reply, UnixMillis};
use arqonbus_client::{AssignmentUpdate, AssignmentWatch, CohortSplit};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::io::Write;
use std::time::Duration;

/// What the agent does besides following the assignment.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// The `source` label of its samples.
    pub source: String,
    /// Requests served per second.
    pub rate: f64,
    /// How often a batch is measured and sent.
    pub interval: Duration,
    /// Seeds the model's noise.
    pub seed: u64,
}

impl Default for AgentOptions {
    fn default() -> Self {
        AgentOptions {
            source: "arqonbus-sim".into(),
            rate: 100.0,
            interval: Duration::from_millis(200),
            seed: 1,
        }
    }
}

/// Why the agent stopped.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("writing the log: {0}")]
    Log(#[from] std::io::Error),
    #[error("the JSON view: {0}")]
    Json(String),
}

/// What the agent did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgentStats {
    pub requests: u64,
    pub candidate_requests: u64,
    pub shadow_samples: u64,
    pub accepted: u64,
    pub rejected: u64,
    /// Samples whose batch failed to send (logged, not retried).
    pub unsent: u64,
    pub assignments: u64,
    pub rollbacks: u64,
}

/// A simulated agent of one target.
pub struct Agent {
    watch: AssignmentWatch,
    model: Model,
    options: AgentOptions,
    rng: ChaCha8Rng,
    next_request: u64,
    /// Requests owed from fractions of earlier intervals.
    carry: f64,
    stats: AgentStats,
}

impl Agent {
    pub fn new(watch: AssignmentWatch, model: Model, options: AgentOptions) -> Agent {
        Agent {
            rng: ChaCha8Rng::seed_from_u64(options.seed),
            watch,
            model,
            options,
            next_request: 0,
            carry: 0.0,
            stats: AgentStats::default(),
        }
    }

    pub fn stats(&self) -> AgentStats {
        self.stats
    }

    pub fn watch(&self) -> &AssignmentWatch {
        &self.watch
    }

    /// Serves `n` synthetic requests under `assignment`: one sample per
    /// request in its cohort, plus a candidate sample per request in a
    /// shadow phase; each tagged with the assignment's epoch.
    pub fn serve(&mut self, assignment: &Assignment, n: u64) -> Vec<TaggedSample> {
        let shadow = assignment.candidate.is_some() && assignment.share == 0;
        let mut out = Vec::new();
        for _ in 0..n {
            let key = format!("req-{}", self.next_request);
            self.next_request += 1;
            self.stats.requests += 1;
            let cohort = assignment.cohort_for(&key);
            if cohort == Cohort::Candidate {
                self.stats.candidate_requests += 1;
            }
            out.push(self.sample(assignment, cohort));
            if shadow {
                self.stats.shadow_samples += 1;
                out.push(self.sample(assignment, Cohort::Candidate));
            }
        }
        out
    }

    fn sample(&mut self, assignment: &Assignment, cohort: Cohort) -> TaggedSample {
        let parameters = assignment.parameters_for(cohort).clone();
        let metrics = self.model.metrics(&parameters, &mut self.rng);
        assignment.tag(TelemetrySample {
            timestamp: UnixMillis::now(),
            source: self.options.source.clone(),
            target_system: assignment.target_system.clone(),
            metrics,
            parameters,
            context: TelemetryContext {
                request_class: None,
                hardware: None,
                load_factor: None,
            },
            cohort,
        })
    }

    /// Requests due in one interval (fractions carried over).
    fn due(&mut self) -> u64 {
        self.carry += self.options.rate.max(0.0) * self.options.interval.as_secs_f64();
        let n = self.carry.floor();
        self.carry -= n;
        n as u64
    }

    /// Runs for `duration` (forever with `None`): every interval serves
    /// the requests due and sends their samples; writes each applied
    /// assignment and rollback to `log` as one JSON line.
    pub async fn run(
        &mut self,
        duration: Option<Duration>,
        log: &mut (impl Write + Send),
    ) -> Result<AgentStats, AgentError> {
        let end = duration.map(|d| tokio::time::Instant::now() + d);
        let mut tick = tokio::time::interval(self.options.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let until_end = async {
                match end {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = until_end => return Ok(self.stats),
                update = self.watch.next_update() => {
                    let Some(update) = update else { return Ok(self.stats) };
                    self.log(&update, log)?;
                }
                _ = tick.tick() => self.send_due().await,
            }
        }
    }

    fn log(&mut self, update: &AssignmentUpdate, log: &mut impl Write) -> Result<(), AgentError> {
        let reply = match update {
            AssignmentUpdate::Assignment(a) => {
                self.stats.assignments += 1;
                Reply::Assignment(a.clone())
            }
            AssignmentUpdate::Rollback(r) => {
                self.stats.rollbacks += 1;
                Reply::Rollback(r.clone())
            }
        };
        let json = arqonbus_client::proto::json::reply_json(&reply)
            .map_err(|e| AgentError::Json(e.to_string()))?;
        let line = serde_json::to_string(&json).map_err(|e| AgentError::Json(e.to_string()))?;
        writeln!(log, "{line}")?;
        log.flush()?;
        Ok(())
    }

    async fn send_due(&mut self) {
        let n = self.due();
        let Some(assignment) = self.watch.current() else {
            return;
        };
        if n == 0 {
            return;
        }
        let samples = self.serve(&assignment, n);
        for batch in samples.chunks(arqonbus_client::proto::limits::MAX_SAMPLES_PER_BATCH) {
            let count = batch.len() as u64;
            match self.watch.client().send_tagged(batch.to_vec()).await {
                Ok(ack) => {
                    self.stats.accepted += u64::from(ack.accepted);
                    self.stats.rejected += u64::from(ack.rejected);
                }
                Err(e) => {
                    self.stats.unsent += count;
                    tracing::warn!(target: "arqonbus::sim", error = %e, samples = count, "telemetry not sent");
                }
            }
        }
    }
}
