//! The format-2 part of a target's constraints: how far and how fast a
//! parameter may move, the cross-parameter rules, the metric guardrails,
//! the rollout plan, anti-flapping and the approval policy.
//!
//! A format-1 file gets [`Policy::default`]: no step limit, no envelope
//! (every change inside the hard range is approved at once), no rules and
//! no guardrails — the behaviour format 1 always had. The `[security]`
//! table is stored here; a node's gates read it (`signing_required`).

use crate::role::Role;
use crate::rules::Compiled;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How one parameter may change by proposal.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChangeLimits {
    /// Largest move from the live value in one proposal.
    pub max_step_abs: Option<f64>,
    /// Largest move relative to the live value (`0.5` = half of it).
    pub max_step_rel: Option<f64>,
    /// A numeric change of at most this much is approved at once; a larger
    /// one waits for an operator. `None`: every allowed change is approved.
    pub auto_approve: Option<f64>,
    /// A frozen parameter is never changed by a proposal.
    pub frozen: bool,
}

/// A cross-parameter rule, named as rejections name it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub name: String,
    /// The text as written in the file.
    pub expr: String,
    pub compiled: Compiled,
}

/// Over what a guardrail's metric is aggregated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Aggregate {
    Mean,
    P50,
    P90,
    P99,
    Max,
}

impl Aggregate {
    pub const NAMES: [(&'static str, Aggregate); 5] = [
        ("mean", Aggregate::Mean),
        ("p50", Aggregate::P50),
        ("p90", Aggregate::P90),
        ("p99", Aggregate::P99),
        ("max", Aggregate::Max),
    ];
}

/// The direction of a guardrail: the metric must stay on this side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    AtMost,
    Below,
    AtLeast,
    Above,
}

impl Direction {
    pub const NAMES: [(&'static str, Direction); 4] = [
        ("<=", Direction::AtMost),
        ("<", Direction::Below),
        (">=", Direction::AtLeast),
        (">", Direction::Above),
    ];

    /// Whether `value` is on the allowed side of `limit`.
    pub fn holds(self, value: f64, limit: f64) -> bool {
        match self {
            Direction::AtMost => value <= limit,
            Direction::Below => value < limit,
            Direction::AtLeast => value >= limit,
            Direction::Above => value > limit,
        }
    }
}

/// What a guardrail compares its metric with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Limit {
    /// An absolute value, in the metric's unit.
    Value(f64),
    /// The baseline cohort's value times this.
    BaselineFactor(f64),
    /// The baseline cohort's value plus this.
    BaselineOffset(f64),
}

impl Limit {
    /// The limit given the baseline's value of the metric.
    pub fn resolve(self, baseline: f64) -> f64 {
        match self {
            Limit::Value(v) => v,
            Limit::BaselineFactor(f) => baseline * f,
            Limit::BaselineOffset(o) => baseline + o,
        }
    }
}

/// A metric guardrail: defined and stored here, evaluated by rollouts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Guardrail {
    pub name: String,
    pub metric: String,
    pub aggregate: Aggregate,
    pub window_s: u64,
    pub direction: Direction,
    pub limit: Limit,
    pub min_samples: u64,
    /// Breaching evaluations before the rollout is rolled back (>= 1).
    pub failure_limit: u32,
}

/// One phase of a rollout: a share of traffic held for a time and a
/// number of samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    pub name: String,
    /// Percent of traffic on the candidate, 0..=100.
    pub share: u8,
    pub min_seconds: u64,
    pub min_samples: u64,
}

/// How an approved candidate reaches all traffic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutPlan {
    pub phases: Vec<Phase>,
    /// No telemetry for this long during a rollout means roll back.
    pub rollback_timeout_s: u64,
    /// A `marginal` verdict at the end waits for an operator to promote
    /// (otherwise the rollout goes steady).
    pub marginal_needs_operator: bool,
    /// The same for an `inconclusive` verdict (too few samples).
    pub inconclusive_needs_operator: bool,
}

impl Default for RolloutPlan {
    fn default() -> Self {
        let phase = |name: &str, share: u8, min_seconds: u64, min_samples: u64| Phase {
            name: name.into(),
            share,
            min_seconds,
            min_samples,
        };
        RolloutPlan {
            phases: vec![
                phase("shadow", 0, 60, 100),
                phase("canary", 5, 120, 200),
                phase("p25", 25, 120, 200),
                phase("p50", 50, 120, 200),
                phase("p75", 75, 120, 200),
                phase("full", 100, 300, 200),
            ],
            rollback_timeout_s: 120,
            marginal_needs_operator: true,
            inconclusive_needs_operator: true,
        }
    }
}

/// Cooldown after a rollback and quarantine of rolled-back values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AntiFlapping {
    pub cooldown_s: u64,
    pub quarantine_s: u64,
    /// A proposed numeric value within this distance of a quarantined one
    /// is quarantined too.
    pub quarantine_distance: f64,
}

impl Default for AntiFlapping {
    fn default() -> Self {
        AntiFlapping {
            cooldown_s: 300,
            quarantine_s: 3600,
            quarantine_distance: 0.0,
        }
    }
}

/// Who approves what the envelope holds back, and how many.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalPolicy {
    pub roles: Vec<Role>,
    /// When non-empty, only these identities approve (and only with one of
    /// `roles`).
    pub identities: Vec<String>,
    /// Distinct approvers for a change.
    pub required: u32,
    /// Distinct approvers for a change beyond `large_step_rel`.
    pub required_large: u32,
    pub large_step_rel: f64,
    /// A pending proposal expires this long after it was decided.
    pub expiry_s: u64,
}

impl Default for ApprovalPolicy {
    fn default() -> Self {
        ApprovalPolicy {
            roles: vec![Role::Operator, Role::Admin],
            identities: Vec::new(),
            required: 1,
            required_large: 2,
            large_step_rel: 0.5,
            expiry_s: 3600,
        }
    }
}

/// `[security]`: whether state changes about the target must be signed
/// (the node's signature gate reads it from the replicated state).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityPolicy {
    pub signing_required: bool,
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        SecurityPolicy {
            signing_required: true,
        }
    }
}

/// Everything format 2 adds to a target's constraints.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Policy {
    /// The file format it came from (1 or 2).
    pub format: u64,
    /// Per parameter; a parameter absent here has no limits.
    pub limits: BTreeMap<String, ChangeLimits>,
    pub rules: Vec<Rule>,
    pub guardrails: Vec<Guardrail>,
    pub rollout: RolloutPlan,
    pub anti_flapping: AntiFlapping,
    pub approval: ApprovalPolicy,
    pub security: SecurityPolicy,
}

impl Policy {
    /// The policy of a format-1 file: no limits, rules or guardrails, and
    /// no rollout plan (an approved change is live at once).
    pub fn legacy() -> Policy {
        let mut policy = Policy {
            format: 1,
            ..Policy::default()
        };
        policy.rollout.phases.clear();
        policy
    }

    /// The limits of one parameter (none when not listed).
    pub fn limits_of(&self, parameter: &str) -> ChangeLimits {
        self.limits.get(parameter).cloned().unwrap_or_default()
    }
}
