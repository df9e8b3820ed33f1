//! What an approval promises about how its changes reach traffic, taken
//! from the target's policy when the proposal is decided (so a retry, every
//! replica and every replay read the same, whatever the policy becomes):
//!
//! - the enforcement mode, from the rollout plan's first phase: `shadow`
//!   when it carries no traffic (share 0, like the default plan's phase
//!   named `shadow`), otherwise `monitored`;
//! - the schedule: gradual when the plan has more than one phase,
//!   immediate when it has one (or none);
//! - the rollback timeout: how long the last phase, at 100%, is watched
//!   (and rolled back on a breach) before the change is steady;
//! - each change's maximum change rate: the largest move one proposal may
//!   make from the live value, relative to it (`max_step_rel`, or
//!   `max_step_abs` over the live value; the smaller when both are set),
//!   and 0 when no relative limit applies (no step limit, a non-numeric
//!   parameter, or only an absolute step from a live value of 0).

use crate::policy::{ChangeLimits, RolloutPlan};
use serde::{Deserialize, Serialize};

/// The rollout terms an approval announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutTerms {
    /// The plan's first phase carries no traffic.
    pub shadow_first: bool,
    /// The plan has more than one phase.
    pub gradual: bool,
    /// How long the last phase (100%) is watched before the change is
    /// steady: its `min_seconds` (0 when the plan has no phase).
    pub rollback_timeout_s: u64,
}

impl Default for RolloutTerms {
    /// The terms of the default plan (shadow 0% → … → 100%).
    fn default() -> Self {
        RolloutTerms::of(&RolloutPlan::default())
    }
}

impl RolloutTerms {
    /// The terms of `plan`.
    pub fn of(plan: &RolloutPlan) -> RolloutTerms {
        RolloutTerms {
            shadow_first: plan.phases.first().is_some_and(|p| p.share == 0),
            gradual: plan.phases.len() > 1,
            rollback_timeout_s: plan.phases.last().map_or(0, |p| p.min_seconds),
        }
    }
}

/// The maximum change rate of a parameter with these limits whose live
/// value is `live` (`None` when it is not a number).
pub fn max_change_rate(limits: &ChangeLimits, live: Option<f64>) -> f64 {
    let from_abs = match (limits.max_step_abs, live) {
        (Some(step), Some(live)) if live != 0.0 => Some(step / live.abs()),
        _ => None,
    };
    let rate = match (limits.max_step_rel, from_abs) {
        (Some(rel), Some(abs)) => rel.min(abs),
        (Some(rel), None) => rel,
        (None, Some(abs)) => abs,
        (None, None) => 0.0,
    };
    if live.is_some() && rate.is_finite() {
        rate
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_the_tighter_step_relative_to_the_live_value() {
        let limits = |abs: Option<f64>, rel: Option<f64>| ChangeLimits {
            max_step_abs: abs,
            max_step_rel: rel,
            ..Default::default()
        };
        let cases = [
            ("absolute", limits(Some(32.0), None), Some(32.0), 1.0),
            (
                "absolute, negative live",
                limits(Some(5.0), None),
                Some(-10.0),
                0.5,
            ),
            ("relative", limits(None, Some(0.5)), Some(2048.0), 0.5),
            (
                "both: relative tighter",
                limits(Some(32.0), Some(0.25)),
                Some(32.0),
                0.25,
            ),
            (
                "both: absolute tighter",
                limits(Some(4.0), Some(0.5)),
                Some(32.0),
                0.125,
            ),
            ("relative above 1", limits(None, Some(2.0)), Some(3.0), 2.0),
            ("none", limits(None, None), Some(3.0), 0.0),
            ("absolute from 0", limits(Some(1.0), None), Some(0.0), 0.0),
            ("relative from 0", limits(None, Some(0.5)), Some(0.0), 0.5),
            ("not a number", limits(Some(1.0), Some(0.5)), None, 0.0),
        ];
        for (name, l, live, want) in cases {
            assert_eq!(max_change_rate(&l, live), want, "{name}");
        }
    }
}
