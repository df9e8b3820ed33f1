//! The rollout scheduler, on the leader only. It keeps what it saw of each
//! rollout ([`watch`]) and acts only by proposing commands: `AdvancePhase`
//! (with the verdict after the last phase), `AbortRollout` on a breach or
//! missing telemetry, and an `Observe` summary now and then. The rules are
//! the core's (`rollout::schedule`, `rollout::guardrail`,
//! `rollout::verdict`); `apply` checks each command again, so a stale
//! leader's proposal changes nothing.
//!
//! Tagged telemetry is evaluated as each batch arrives: a breach at a
//! guardrail's failure limit proposes the rollback at once, without
//! waiting for the next tick.

mod requests;
pub mod watch;

pub(super) use requests::{rollout as request, tagged};

use super::submit::{now_ms, submit, Sender};
use super::Node;
use arqonbus_core::machine::Target;
use arqonbus_core::policy::Guardrail;
use arqonbus_core::rollout::progress::Rollout;
use arqonbus_core::rollout::schedule::{next_step, Step};
use arqonbus_core::Op;
use arqonbus_proto::message::{Cohort, Metrics};
use arqonbus_transport::Identity;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use watch::{Watch, Watches};

/// How often the leader looks at every rollout.
const TICK: Duration = Duration::from_millis(200);
/// How often a rollout's summary is committed (and pushed as a status).
const OBSERVE_EVERY_MS: u64 = 5_000;

/// The leader's rollout state; empty on a follower.
#[derive(Debug, Default)]
pub struct Rollouts {
    watches: Mutex<Watches>,
    /// Targets with a command of ours on its way through Raft, and
    /// whether it is a rollback.
    in_flight: Mutex<HashMap<String, bool>>,
    /// When this node last became leader (the no-data timer's start).
    takeover_ms: AtomicU64,
    leading: AtomicBool,
}

/// One tagged sample: its target, epoch, cohort and metrics.
pub struct Tagged<'a> {
    pub target: &'a str,
    pub epoch: u64,
    pub cohort: Cohort,
    pub metrics: &'a Metrics,
}

/// What a target's rollout looks like to the scheduler.
struct Current {
    rollout: Rollout,
    epoch: u64,
    guardrails: Vec<Guardrail>,
}

fn current(target: &Target) -> Option<Current> {
    Some(Current {
        rollout: target.rollout.clone()?,
        epoch: target.epoch,
        guardrails: target.policy.guardrails.clone(),
    })
}

impl Rollouts {
    fn lock(&self) -> std::sync::MutexGuard<'_, Watches> {
        self.watches.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The watch of `target`'s current rollout, made or moved on to the
    /// current epoch as needed.
    fn watch<'a>(
        watches: &'a mut Watches,
        name: &str,
        c: &Current,
        now: u64,
        takeover: u64,
    ) -> &'a mut Watch {
        let w = watches
            .by_target
            .entry(name.to_string())
            .or_insert_with(|| {
                Watch::new(
                    &c.rollout.proposal_id,
                    c.epoch,
                    now.max(takeover),
                    c.guardrails.len(),
                )
            });
        if w.proposal_id != c.rollout.proposal_id {
            *w = Watch::new(&c.rollout.proposal_id, c.epoch, now, c.guardrails.len());
        } else if w.epoch != c.epoch {
            w.next_epoch(c.epoch, now);
        }
        w
    }
}

/// Takes tagged samples on the leader: returns (accepted, rejected). A
/// sample of another epoch than its target's current one is rejected (an
/// agent that has not seen the new assignment yet); one for a target
/// without a rollout is accepted into the plain windows only. Guardrails
/// are evaluated per batch; a target whose breaches reach a failure limit
/// is stepped at once.
fn intake(node: &Node, samples: &[Tagged<'_>]) -> (u32, u32) {
    let now = now_ms();
    let names: HashSet<&str> = samples.iter().map(|s| s.target).collect();
    // Once per target of the batch, not per sample.
    let currents: HashMap<&str, (u64, Option<Current>)> = node.sm.read(|a| {
        names
            .iter()
            .filter_map(|n| a.state.targets.get(*n).map(|t| (*n, (t.epoch, current(t)))))
            .collect()
    });
    let (mut accepted, mut rejected) = (0u32, 0u32);
    let mut breached = Vec::new();
    let takeover = node.rollouts.takeover_ms.load(Ordering::Relaxed);
    {
        let mut watches = node.rollouts.lock();
        for s in samples {
            let Some((epoch, c)) = currents.get(s.target) else {
                rejected += 1;
                continue;
            };
            // Another epoch, or a candidate that does not exist (no
            // rollout): counted and dropped.
            if s.epoch != *epoch || (c.is_none() && s.cohort == Cohort::Candidate) {
                rejected += 1;
                continue;
            }
            accepted += 1;
            node.telemetry
                .add(s.target, s.cohort, s.metrics, std::time::Instant::now());
            if let Some(c) = c {
                Rollouts::watch(&mut watches, s.target, c, now, takeover)
                    .add(s.cohort, s.metrics, now);
            }
        }
        // The guardrails, once per rolling target of the batch.
        for (name, (_, c)) in &currents {
            let (Some(c), Some(w)) = (c, watches.by_target.get_mut(*name)) else {
                continue;
            };
            if w.evaluate(&c.guardrails, now) {
                breached.push(name.to_string());
            }
        }
    }
    for name in breached {
        tokio::spawn(step(node.clone(), name));
    }
    (accepted, rejected)
}

/// The scheduler's loop: every tick, on the leader, steps every rollout.
pub(super) async fn run(node: Node) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let leading = node.raft.metrics().borrow().current_leader == Some(node.id);
        let was = node.rollouts.leading.swap(leading, Ordering::Relaxed);
        if !leading {
            if was {
                node.rollouts.lock().by_target.clear();
            }
            continue;
        }
        if !was {
            node.rollouts.takeover_ms.store(now_ms(), Ordering::Relaxed);
            node.rollouts.lock().by_target.clear();
            tracing::info!(target: "arqonbus::rollout", node = node.id, "leading: rollouts watched from now");
        }
        let names: Vec<String> = node.sm.read(|a| {
            a.state
                .targets
                .iter()
                .filter(|(_, t)| t.rollout.is_some())
                .map(|(n, _)| n.clone())
                .collect()
        });
        node.rollouts
            .lock()
            .by_target
            .retain(|n, _| names.contains(n));
        for name in names {
            step(node.clone(), name).await;
        }
    }
}

/// Looks at one target's rollout and proposes what the core's schedule
/// says, unless a command of ours for it is still on its way (a rollback
/// waits only behind a rollback).
async fn step(node: Node, name: String) {
    let Some(op) = decide(&node, &name) else {
        return;
    };
    // One command per target on its way, except that a rollback does not
    // wait behind a summary or a phase advance: `apply` orders them.
    let rollback = matches!(op, Op::AbortRollout { .. });
    {
        let mut in_flight = node
            .rollouts
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match in_flight.get(&name) {
            Some(&was_rollback) if was_rollback || !rollback => return,
            _ => {
                in_flight.insert(name.clone(), rollback);
            }
        }
    }
    let what = op.action();
    let sender = Identity::node(node.id);
    let result = submit(&node, &Sender::node(&sender), op).await;
    {
        let mut in_flight = node
            .rollouts
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        // A rollback that passed this command holds the entry now.
        if in_flight.get(&name) == Some(&rollback) {
            in_flight.remove(&name);
        }
    }
    match result {
        Ok(Ok(outcome)) => {
            tracing::info!(target: "arqonbus::rollout", node = node.id, target_system = %name, action = what, ?outcome, "rollout moved")
        }
        Ok(Err(e)) => {
            tracing::debug!(target: "arqonbus::rollout", node = node.id, target_system = %name, action = what, error = %e, "refused")
        }
        Err((_, e)) => {
            tracing::warn!(target: "arqonbus::rollout", node = node.id, target_system = %name, action = what, error = %e, "not proposed")
        }
    }
}

/// The command the schedule calls for now, if any.
fn decide(node: &Node, name: &str) -> Option<Op> {
    let c = node
        .sm
        .read(|a| a.state.targets.get(name).and_then(current))?;
    let now = now_ms();
    let takeover = node.rollouts.takeover_ms.load(Ordering::Relaxed);
    let mut watches = node.rollouts.lock();
    let w = Rollouts::watch(&mut watches, name, &c, now, takeover);
    let r = &c.rollout;
    let op = match next_step(r, &c.guardrails, &w.evidence(r.phase_started_ms), now) {
        Step::RollBack(cause) => Op::AbortRollout {
            target: name.to_string(),
            proposal_id: r.proposal_id.clone(),
            cause,
        },
        Step::Advance => Op::AdvancePhase {
            target: name.to_string(),
            proposal_id: r.proposal_id.clone(),
            from_phase: r.phase,
            verdict: if r.in_last_phase() {
                w.verdict(&c.guardrails)
            } else {
                None
            },
        },
        // A summary only when there is something new to say, so an idle
        // rollout does not grow the log.
        Step::Wait(_)
            if now.saturating_sub(w.last_observe_ms) >= OBSERVE_EVERY_MS
                && (w.fresh > 0 || w.unreported > 0) =>
        {
            w.last_observe_ms = now;
            w.fresh = 0;
            let (observed, impact) = w.summary();
            let new_violations = std::mem::take(&mut w.unreported);
            Op::Observe {
                target: name.to_string(),
                proposal_id: r.proposal_id.clone(),
                observed,
                impact,
                new_violations,
            }
        }
        Step::Wait(_) => return None,
    };
    Some(op)
}
