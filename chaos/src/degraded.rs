//! The degraded-mode check: did the proposer session leave degraded mode
//! within `--degraded-bound` after each heal? Pure: it takes the session's
//! mode changes and the nemesis's heals (both in seconds since the run
//! started) and gives the figures and the violations.
//!
//! The rule, per heal at `h` (a killed node restarted, a paused one
//! resumed), with the next fault injected at `f` (none after the last):
//!
//! - **recovered**: the degraded episode covering `h` (or, when none
//!   does, the first one beginning after `h` but before `f` and
//!   `h + bound`: the session may notice a lost leader only after the
//!   node is back) ends by `h + bound`; the recovery time is from `h` to
//!   that end (0 without such an episode);
//! - **deferred**: the next fault came before the session recovered and
//!   before `h + bound`; the outage then belongs to the next heal as well,
//!   which judges it (a session degraded across many faults is caught at
//!   the first heal followed by `bound` seconds without a fault);
//! - otherwise a **violation**: that episode lasted past `h + bound`.
//!
//! Besides, a session still degraded at the end of the observation, in an
//! episode longer than `bound` that no heal already failed, is a violation
//! (nothing excuses it: the observation ends at least `bound` after the
//! last heal).

use crate::nemesis::Fault;
use crate::session_watch::SessionFigures;
use serde::Serialize;

/// One change of the session's mode, as the harness saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModeRecord {
    /// Seconds since the run started.
    pub at_s: f64,
    pub from: String,
    pub to: String,
    pub degraded: bool,
    pub reason: String,
}

/// One heal by the nemesis.
#[derive(Debug, Clone, PartialEq)]
pub struct Heal {
    /// What was healed, for messages: `kill-leader of node 2`.
    pub what: String,
    pub at_s: f64,
    /// When the next fault was injected, if any.
    pub next_fault_s: Option<f64>,
}

/// The heals the nemesis made, each with the time of the fault after it.
pub fn heals(faults: &[Fault]) -> Vec<Heal> {
    faults
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            Some(Heal {
                what: format!("{} of node {}", f.kind.name(), f.node),
                at_s: f.healed_s?,
                next_fault_s: faults.get(i + 1).map(|n| n.at_s),
            })
        })
        .collect()
}

/// What the summary says about the watched proposer session.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SessionSummary {
    /// `--degraded-bound`, seconds.
    pub bound_s: f64,
    pub degraded: DegradedFigures,
    pub session: SessionFigures,
}

/// The figures of degraded mode over the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DegradedFigures {
    pub mode_changes: usize,
    /// Stretches of degraded mode (consecutive degraded modes are one).
    pub episodes: usize,
    pub total_ms: u64,
    pub median_ms: Option<u64>,
    pub worst_ms: Option<u64>,
    /// Each episode: (start in seconds since the run started, length ms).
    pub all: Vec<(f64, u64)>,
    /// Heals after which the session was out of degraded mode in time,
    /// and the worst time it took (from the heal).
    pub heals_recovered: usize,
    pub worst_recovery_ms: Option<u64>,
    /// Heals whose judgment passed to the next heal (the next fault came
    /// first).
    pub heals_deferred: usize,
    pub heals_late: usize,
}

/// Degraded stretches `(start, end)` in seconds; one still open at
/// `end_s` ends there.
fn episodes(changes: &[ModeRecord], end_s: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut open: Option<f64> = None;
    for c in changes {
        match (open, c.degraded) {
            (None, true) => open = Some(c.at_s),
            (Some(start), false) => {
                out.push((start, c.at_s));
                open = None;
            }
            _ => {}
        }
    }
    if let Some(start) = open {
        out.push((start, end_s.max(start)));
    }
    out
}

fn ms(seconds: f64) -> u64 {
    (seconds.max(0.0) * 1000.0).round() as u64
}

/// Checks the changes (in time order) against the heals; `end_s` is when
/// the observation ended. Returns the figures and the violations.
pub fn check(
    changes: &[ModeRecord],
    heals: &[Heal],
    bound_s: f64,
    end_s: f64,
) -> (DegradedFigures, Vec<String>) {
    let eps = episodes(changes, end_s);
    let mut lengths: Vec<u64> = eps.iter().map(|(s, e)| ms(e - s)).collect();
    lengths.sort_unstable();
    let mut figures = DegradedFigures {
        mode_changes: changes.len(),
        episodes: eps.len(),
        total_ms: lengths.iter().sum(),
        median_ms: lengths.get(lengths.len() / 2).copied(),
        worst_ms: lengths.last().copied(),
        all: eps.iter().map(|(s, e)| (*s, ms(e - s))).collect(),
        ..Default::default()
    };
    let mut violations = Vec::new();
    let mut late = vec![false; eps.len()];
    for heal in heals {
        let deadline = heal.at_s + bound_s;
        let horizon = heal.next_fault_s.map_or(deadline, |f| f.min(deadline));
        // The episode covering the heal, else one that began after it
        // (the session may notice the lost leader only after the restart)
        // before the next fault or the deadline.
        let episode = eps
            .iter()
            .position(|(s, e)| *e > heal.at_s && *s <= horizon.max(heal.at_s));
        let (recovered_at, open_at_end) = match episode.map(|i| (i, eps[i])) {
            None => (heal.at_s, false),
            Some((_, (_, e))) => (e, e >= end_s),
        };
        if recovered_at <= deadline && !open_at_end {
            figures.heals_recovered += 1;
            let took = ms(recovered_at - heal.at_s);
            figures.worst_recovery_ms = figures.worst_recovery_ms.max(Some(took));
        } else if heal
            .next_fault_s
            .is_some_and(|f| f < deadline && f < recovered_at)
        {
            figures.heals_deferred += 1;
        } else {
            figures.heals_late += 1;
            if let Some(i) = episode {
                late[i] = true;
            }
            violations.push(format!(
                "the proposer session stayed degraded more than {bound_s} s after the heal \
                 of {} at {:.1} s ({})",
                heal.what,
                heal.at_s,
                if open_at_end {
                    "still degraded at the end".to_string()
                } else {
                    format!("left degraded mode at {recovered_at:.1} s")
                }
            ));
        }
    }
    if let Some((i, (start, end))) = eps.iter().enumerate().next_back() {
        if *end >= end_s && end - start > bound_s && !late[i] {
            violations.push(format!(
                "the proposer session was degraded at the end of the run, since {start:.1} s"
            ));
        }
    }
    (figures, violations)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(at_s: f64, degraded: bool) -> ModeRecord {
        let (from, to) = if degraded {
            ("connected", "degraded")
        } else {
            ("degraded", "connected")
        };
        ModeRecord {
            at_s,
            from: from.into(),
            to: to.into(),
            degraded,
            reason: String::new(),
        }
    }

    fn heal(at_s: f64, next_fault_s: Option<f64>) -> Heal {
        Heal {
            what: "kill-leader of node 1".into(),
            at_s,
            next_fault_s,
        }
    }

    #[test]
    fn a_session_that_recovered_in_time_passes() {
        // Fault at 10 s, degraded 11..13.5 s, heal at 12 s; then a fault at
        // 20 s that it rode through without degrading.
        let changes = [change(0.1, false), change(11.0, true), change(13.5, false)];
        let heals = [heal(12.0, Some(20.0)), heal(21.0, None)];
        let (f, v) = check(&changes, &heals, 5.0, 40.0);
        assert!(v.is_empty(), "{v:?}");
        assert_eq!((f.episodes, f.total_ms), (1, 2500));
        assert_eq!((f.median_ms, f.worst_ms), (Some(2500), Some(2500)));
        assert_eq!(
            (f.heals_recovered, f.heals_deferred, f.heals_late),
            (2, 0, 0)
        );
        assert_eq!(f.worst_recovery_ms, Some(1500));
    }

    #[test]
    fn a_session_that_stayed_degraded_past_the_bound_fails() {
        // Heal at 12 s, but the session only recovers at 18 s.
        let changes = [change(11.0, true), change(18.0, false)];
        let (f, v) = check(&changes, &[heal(12.0, Some(30.0))], 5.0, 40.0);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].contains("left degraded mode at 18.0 s"), "{v:?}");
        assert_eq!(f.heals_late, 1);
    }

    #[test]
    fn a_session_never_recovering_is_caught_even_with_faults_in_between() {
        // Degraded from 11 s on; faults come every 3 s, so the early heals
        // are deferred, and the last one (no fault after it) fails.
        let changes = [change(11.0, true), change(11.5, true)];
        let heals = [
            heal(12.0, Some(14.0)),
            heal(15.0, Some(17.0)),
            heal(18.0, None),
        ];
        let (f, v) = check(&changes, &heals, 5.0, 30.0);
        assert_eq!((f.heals_deferred, f.heals_late), (2, 1));
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].contains("still degraded at the end"), "{v:?}");
        assert_eq!((f.episodes, f.total_ms), (1, 19_000));
    }

    #[test]
    fn a_quick_recovery_before_the_next_fault_is_not_deferred() {
        let changes = [change(11.0, true), change(12.5, false), change(15.0, true)];
        let changes = [&changes[..], &[change(16.0, false)]].concat();
        let heals = [heal(12.0, Some(14.0)), heal(15.5, None)];
        let (f, v) = check(&changes, &heals, 5.0, 30.0);
        assert!(v.is_empty(), "{v:?}");
        assert_eq!((f.heals_recovered, f.episodes, f.total_ms), (2, 2, 2500));
        assert_eq!(f.median_ms, Some(1500));
    }

    #[test]
    fn an_episode_beginning_just_after_the_heal_is_judged_by_it() {
        // Kill at 10 s, heal (restart) at 10.9 s, the session notices the
        // lost leader at 11 s and never recovers before the end.
        let changes = [change(11.0, true)];
        let (f, v) = check(&changes, &[heal(10.9, None)], 5.0, 30.0);
        assert_eq!((f.heals_late, v.len()), (1, 1), "{v:?}");
        let changes = [change(11.0, true), change(12.0, false)];
        let (f, v) = check(&changes, &[heal(10.9, None)], 5.0, 30.0);
        assert!(v.is_empty(), "{v:?}");
        assert_eq!(f.worst_recovery_ms, Some(1100));
    }

    #[test]
    fn degraded_at_the_end_without_a_fault_fails() {
        let changes = [change(1.0, false), change(20.0, true)];
        let (_, v) = check(&changes, &[], 5.0, 30.0);
        assert_eq!(v.len(), 1, "{v:?}");
        let (_, v) = check(&changes, &[], 5.0, 22.0);
        assert!(
            v.is_empty(),
            "a short episode at the end is no violation: {v:?}"
        );
    }
}
