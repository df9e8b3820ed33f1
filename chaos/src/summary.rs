//! The run's summary: what was injected, what the clients saw, how long
//! elections took, and every violation. Written to `summary.json` and
//! printed. Operation counts and the longest window without a successful
//! write are taken from the history file itself.

use crate::audit_check::NodeChain;
use crate::history::{Event, EventType, Function};
use crate::nemesis::{Fault, NemesisReport};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Completions per type, for one function or all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OpCounts {
    pub invoked: u64,
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
    /// Invoked but never completed (the run ended first): counted as info
    /// by the checker.
    pub open: u64,
}

/// What the history shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HistoryFigures {
    pub all: OpCounts,
    pub by_f: BTreeMap<String, OpCounts>,
    /// The longest stretch (ms) between the first invoke, successful writes
    /// or compare-and-sets, and the last event, with no successful write.
    pub longest_no_write_ms: u64,
    /// Where that stretch started, in seconds since the run started.
    pub longest_no_write_from_s: f64,
}

/// Counts and the longest window without a successful write.
pub fn history_figures(events: &[Event]) -> HistoryFigures {
    let mut figures = HistoryFigures::default();
    let mut open: BTreeMap<u64, Function> = BTreeMap::new();
    let mut marks = Vec::new();
    for e in events {
        if matches!(e.f, Function::Propose | Function::Rollout) {
            continue;
        }
        let name = e.f.name().to_string();
        let mut bump = |f: &dyn Fn(&mut OpCounts)| {
            f(&mut figures.all);
            f(figures.by_f.entry(name.clone()).or_default());
        };
        match e.kind {
            EventType::Invoke => {
                if marks.is_empty() {
                    marks.push(e.time_ns);
                }
                open.insert(e.process, e.f);
                bump(&|c| c.invoked += 1);
            }
            EventType::Ok => {
                open.remove(&e.process);
                bump(&|c| c.ok += 1);
                if matches!(e.f, Function::Write | Function::Cas) {
                    marks.push(e.time_ns);
                }
            }
            EventType::Fail => {
                open.remove(&e.process);
                bump(&|c| c.fail += 1);
            }
            EventType::Info => {
                open.remove(&e.process);
                bump(&|c| c.info += 1);
            }
        }
    }
    for f in open.values() {
        figures.all.open += 1;
        figures.by_f.entry(f.name().to_string()).or_default().open += 1;
    }
    if let Some(last) = events.last() {
        marks.push(last.time_ns);
    }
    if let Some((from, gap)) = marks
        .windows(2)
        .map(|w| (w[0], w[1].saturating_sub(w[0])))
        .max_by_key(|(_, gap)| *gap)
    {
        figures.longest_no_write_ms = gap / 1_000_000;
        figures.longest_no_write_from_s = from as f64 / 1e9;
    }
    figures
}

/// Election times (ms) of the faults whose victim led.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Elections {
    pub measured: usize,
    pub median_ms: Option<u64>,
    pub worst_ms: Option<u64>,
    pub all_ms: Vec<u64>,
}

impl Elections {
    /// `N measured, median M ms, worst W ms`.
    fn render(&self) -> String {
        let ms = |v: Option<u64>| v.map_or("-".into(), |v| v.to_string());
        format!(
            "{} measured, median {} ms, worst {} ms",
            self.measured,
            ms(self.median_ms),
            ms(self.worst_ms)
        )
    }
}

pub fn elections(faults: &[Fault]) -> Elections {
    elections_of(faults.iter())
}

fn elections_of<'a>(faults: impl Iterator<Item = &'a Fault>) -> Elections {
    let mut all: Vec<u64> = faults.filter_map(|f| f.election_ms).collect();
    all.sort_unstable();
    Elections {
        measured: all.len(),
        median_ms: all.get(all.len() / 2).copied(),
        worst_ms: all.last().copied(),
        all_ms: all,
    }
}

/// Election times grouped by what caused them: kill, pause, partition.
pub fn elections_by_cause(faults: &[Fault]) -> BTreeMap<&'static str, Elections> {
    let causes: std::collections::BTreeSet<&'static str> =
        faults.iter().map(|f| f.kind.cause()).collect();
    causes
        .into_iter()
        .map(|cause| {
            let of_cause = faults.iter().filter(|f| f.kind.cause() == cause);
            (cause, elections_of(of_cause))
        })
        .filter(|(_, e)| e.measured > 0)
        .collect()
}

/// Everything the run reports.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub verdict: &'static str,
    pub exit_code: u8,
    pub seed: u64,
    pub duration_s: f64,
    pub arqonbus: String,
    /// What ran the nodes.
    pub backend: String,
    pub faults_by_kind: BTreeMap<&'static str, usize>,
    pub nemesis: NemesisReport,
    pub elections: Elections,
    pub elections_by_cause: BTreeMap<&'static str, Elections>,
    pub operations: HistoryFigures,
    pub proposals: crate::proposal_check::ProposalFigures,
    /// The rollout workload's figures.
    pub rollouts: crate::rollout_check::RolloutFigures,
    /// The watched proposer session's degraded mode.
    pub proposer_session: crate::degraded::SessionSummary,
    /// The checker's one-line verdict.
    pub linearizability: String,
    pub converged_applied_index: Option<u64>,
    pub audit: Vec<NodeChain>,
    /// Terms some node's log says it led; each must have had one leader.
    pub terms_with_a_leader: usize,
    pub violations: Vec<String>,
    /// Things the harness could not do; a run with any of them fails.
    pub errors: Vec<String>,
}

impl Summary {
    pub fn faults_by_kind(nemesis: &NemesisReport) -> BTreeMap<&'static str, usize> {
        let mut out = BTreeMap::new();
        for f in &nemesis.faults {
            *out.entry(f.kind.name()).or_insert(0) += 1;
            if f.victim_role == "leader" && f.kind == crate::nemesis::FaultKind::KillRandom {
                *out.entry("kill-random (was leader)").or_insert(0) += 1;
            }
        }
        out
    }

    /// The printed form.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let o = &self.operations.all;
        let _ = writeln!(
            out,
            "arqonbus-chaos run: {} (exit {})",
            self.verdict, self.exit_code
        );
        let _ = writeln!(
            out,
            "  seed {}, {:.1} s, binary {}\n  nodes: {}",
            self.seed, self.duration_s, self.arqonbus, self.backend
        );
        let _ = writeln!(
            out,
            "  faults: {:?} (run extended by {:.1} s)",
            self.faults_by_kind, self.nemesis.extended_s
        );
        for f in &self.nemesis.faults {
            let election = match (f.election_ms, f.new_leader) {
                (Some(ms), Some(l)) => format!(", new leader {l} after {ms} ms"),
                _ if f.victim_role == "leader" => ", NO new leader in time".into(),
                _ => String::new(),
            };
            let note = f.note.as_ref().map_or(String::new(), |n| format!("; {n}"));
            let _ = writeln!(
                out,
                "    {:>6.1} s {:<16} node {} ({}){election}{note}",
                f.at_s,
                f.kind.name(),
                f.node,
                f.victim_role
            );
        }
        let _ = writeln!(out, "  elections: {}", self.elections.render());
        for (cause, e) in &self.elections_by_cause {
            let _ = writeln!(out, "    after a {cause}: {}", e.render());
        }
        let _ = writeln!(
            out,
            "  operations: {} invoked, {} ok, {} fail, {} info, {} open at the end",
            o.invoked, o.ok, o.fail, o.info, o.open
        );
        for (f, c) in &self.operations.by_f {
            let _ = writeln!(
                out,
                "    {f:<5}: {} ok, {} fail, {} info, {} open",
                c.ok, c.fail, c.info, c.open
            );
        }
        let _ = writeln!(
            out,
            "  longest window with no successful write: {} ms (from {:.1} s)",
            self.operations.longest_no_write_ms, self.operations.longest_no_write_from_s
        );
        let p = &self.proposals;
        let _ = writeln!(
            out,
            "  proposals: {} ids, {} sends ({} ok, {} fail, {} info, {} open); \
             {} re-sends after an unknown outcome ({} ids then decided), {} duplicates",
            p.ids,
            p.invoked,
            p.ok,
            p.fail,
            p.info,
            p.open,
            p.resends,
            p.decided_after_resend,
            p.duplicates
        );
        let _ = writeln!(
            out,
            "    decisions: {:?}; {} refused, {} given up unknown",
            p.decisions, p.refused, p.unknown
        );
        let r = &self.rollouts;
        if r.targets > 0 {
            let _ = writeln!(
                out,
                "  rollouts: {} targets, {} proposals ({} out of range; decisions {:?}; {} unknown); \
                 {} started, {} reached steady, {} rolled back {:?}",
                r.targets,
                r.proposals,
                r.out_of_range,
                r.decisions,
                r.unknown,
                r.rollouts_started,
                r.reached_steady,
                r.rolled_back,
                r.rollback_causes
            );
            let _ = writeln!(
                out,
                "    breaches: {} planned, {} sent, {} caught (longest {} ms of breaching samples, \
                 bound {} ms); {} healthy rollouts rolled back; agents applied {} assignments, \
                 saw {} rollbacks",
                r.breaches_planned,
                r.breaches_sent,
                r.breaches_caught,
                r.longest_breach_ms,
                r.breach_bound_ms,
                r.healthy_rolled_back,
                r.assignments_applied,
                r.rollbacks_seen_by_agents
            );
        }
        let d = &self.proposer_session.degraded;
        let ms = |v: Option<u64>| v.map_or("-".into(), |v| v.to_string());
        let _ = writeln!(
            out,
            "  proposer session: {} ms degraded in {} episodes (median {} ms, worst {} ms); \
             after heals: {} recovered within {} s (worst {} ms), {} deferred, {} late",
            d.total_ms,
            d.episodes,
            ms(d.median_ms),
            ms(d.worst_ms),
            d.heals_recovered,
            self.proposer_session.bound_s,
            ms(d.worst_recovery_ms),
            d.heals_deferred,
            d.heals_late
        );
        let s = &self.proposer_session.session;
        let _ = writeln!(
            out,
            "    telemetry: {} accepted, {} flushed after recovery, {} dropped; \
             {} parameter reads from last-known-good; ends {}",
            s.telemetry_accepted,
            s.telemetry_flushed,
            s.telemetry_dropped,
            s.parameters_from_lkg,
            s.final_mode
        );
        let _ = writeln!(out, "  linearizability: {}", self.linearizability);
        let _ = writeln!(
            out,
            "  converged at applied index {}",
            self.converged_applied_index
                .map_or("-".into(), |v| v.to_string())
        );
        for c in &self.audit {
            let _ = writeln!(
                out,
                "  audit node {}: {} entries verified, head {} {}",
                c.node, c.count, c.head_index, c.head_hash
            );
        }
        let _ = writeln!(
            out,
            "  terms with a leader in the nodes' logs: {} (one leader each, or a violation below)",
            self.terms_with_a_leader
        );
        for v in &self.violations {
            let _ = writeln!(out, "  VIOLATION: {v}");
        }
        for e in &self.errors {
            let _ = writeln!(out, "  ERROR: {e}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::read_history;

    #[test]
    fn counts_and_the_write_gap_come_from_the_history() {
        let text = r#"{"process":0,"type":"invoke","f":"write","key":"k","value":1,"time_ns":0}
{"process":1,"type":"invoke","f":"read","key":"k","value":null,"time_ns":1000000}
{"process":0,"type":"ok","f":"write","key":"k","value":1,"time_ns":2000000}
{"process":1,"type":"ok","f":"read","key":"k","value":1,"time_ns":3000000}
{"process":0,"type":"invoke","f":"cas","key":"k","value":[1,2],"time_ns":4000000}
{"process":0,"type":"info","f":"cas","key":"k","value":[1,2],"time_ns":9000000}
{"process":2,"type":"invoke","f":"write","key":"k","value":3,"time_ns":10000000}
"#;
        let events = read_history(text.as_bytes()).expect("valid");
        let f = history_figures(&events);
        assert_eq!(f.all.invoked, 4);
        assert_eq!((f.all.ok, f.all.fail, f.all.info, f.all.open), (2, 0, 1, 1));
        assert_eq!(f.by_f["cas"].info, 1);
        assert_eq!(f.longest_no_write_ms, 8);
        assert!((f.longest_no_write_from_s - 0.002).abs() < 1e-9);
    }

    #[test]
    fn election_median_and_worst() {
        let fault = |ms| Fault {
            kind: crate::nemesis::FaultKind::KillLeader,
            node: 1,
            victim_role: "leader",
            at_s: 1.0,
            term_before: Some(1),
            election_ms: ms,
            new_leader: Some(2),
            new_term: Some(2),
            healed_s: Some(2.0),
            note: None,
        };
        let e = elections(&[
            fault(Some(900)),
            fault(None),
            fault(Some(500)),
            fault(Some(700)),
        ]);
        assert_eq!(
            (e.measured, e.median_ms, e.worst_ms),
            (3, Some(700), Some(900))
        );
        let mut cut = fault(Some(1500));
        cut.kind = crate::nemesis::FaultKind::PartitionLeader;
        let by_cause = elections_by_cause(&[fault(Some(900)), cut, fault(None)]);
        assert_eq!(by_cause["kill"].measured, 1);
        assert_eq!(by_cause["partition"].median_ms, Some(1500));
        assert!(!by_cause.contains_key("pause"));
    }
}
