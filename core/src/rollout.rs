//! The rollout's pure rules: what a rollout decides from its inputs, with
//! no IO, clock or randomness of its own. The leader's scheduler keeps the
//! time and the telemetry and calls these; `apply` only ever sees the
//! commands it proposes.
//!
//! `progress` is the replicated rollout and the assignment agents serve;
//! `guardrail` evaluates a guardrail over a window of samples; `schedule`
//! says what the leader does next with a rollout (wait, advance, roll
//! back); `verdict` compares the candidate cohort with the baseline cohort
//! at the end of a rollout; `reservoir` keeps the bounded, uniform sample
//! of each cohort and metric that the verdict reads.

pub mod guardrail;
pub mod progress;
pub mod reservoir;
pub mod schedule;
pub mod verdict;
