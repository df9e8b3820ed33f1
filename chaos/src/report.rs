//! Checking a whole history file and saying what was found: reads the
//! events, checks each key on its own (linearizability is local, so a
//! history is linearizable exactly when each key's is), and renders the
//! per-key failures and the one-line summary.

use crate::checker::{check, Failure, Verdict};
use crate::history::{read_history, HistoryError};
use crate::model::Shown;
use crate::ops::{collect, Action, Counts, Operation, OpsError, Outcome};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::BufRead;

/// How many of the last placed operations a failure shows.
const PREFIX_SHOWN: usize = 5;

/// A history that could not be checked at all.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error(transparent)]
    Ops(#[from] OpsError),
}

/// The overall judgement, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Linearizable,
    /// Some key ran out of search budget and none failed.
    Unknown,
    NotLinearizable,
}

/// The verdict on every key of one history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryReport {
    pub counts: Counts,
    pub keys: BTreeMap<String, Verdict>,
}

/// Reads a history and checks every key, each with `max_states` budget.
pub fn check_history(reader: impl BufRead, max_states: u64) -> Result<HistoryReport, CheckError> {
    let registers = collect(&read_history(reader)?)?;
    let keys = registers
        .keys
        .iter()
        .map(|(key, ops)| (key.clone(), check(ops, max_states)))
        .collect();
    Ok(HistoryReport {
        counts: registers.counts,
        keys,
    })
}

impl HistoryReport {
    pub fn status(&self) -> Status {
        self.keys
            .values()
            .map(|verdict| match verdict {
                Verdict::Linearizable { .. } => Status::Linearizable,
                Verdict::Unknown { .. } => Status::Unknown,
                Verdict::NotLinearizable(_) => Status::NotLinearizable,
            })
            .max()
            .unwrap_or(Status::Linearizable)
    }

    /// The keys that did not pass, then one summary line, all prefixed with
    /// `name` (the history's path).
    pub fn render(&self, name: &str) -> String {
        let mut out = String::new();
        for (key, verdict) in &self.keys {
            match verdict {
                Verdict::Linearizable { .. } => {}
                Verdict::NotLinearizable(failure) => {
                    let _ = writeln!(out, "{name}: key {key:?}: NOT linearizable");
                    out.push_str(&explain(failure));
                }
                Verdict::Unknown { explored } => {
                    let _ = writeln!(
                        out,
                        "{name}: key {key:?}: UNKNOWN: the search gave up after {explored} \
                         configurations (checker timeout; raise --max-states)"
                    );
                }
            }
        }
        let _ = writeln!(out, "{name}: {}", self.summary());
        out
    }

    fn summary(&self) -> String {
        let failed = self.count(|v| matches!(v, Verdict::NotLinearizable(_)));
        let unknown = self.count(|v| matches!(v, Verdict::Unknown { .. }));
        let c = &self.counts;
        let mut totals = format!(
            "{} keys, {} operations ({} ok, {} fail, {} info), {} propose events skipped",
            self.keys.len(),
            c.operations,
            c.ok,
            c.fail,
            c.info,
            c.propose_events
        );
        if c.rollout_events > 0 {
            totals.push_str(&format!(", {} rollout events skipped", c.rollout_events));
        }
        match self.status() {
            Status::Linearizable => format!("linearizable: {totals}"),
            Status::Unknown => format!("UNKNOWN: {unknown} keys not decided; {totals}"),
            Status::NotLinearizable => {
                format!("NOT linearizable: {failed} keys failed, {unknown} not decided; {totals}")
            }
        }
    }

    fn count(&self, which: impl Fn(&Verdict) -> bool) -> usize {
        self.keys.values().filter(|verdict| which(verdict)).count()
    }
}

/// The indented explanation under a failing key.
fn explain(failure: &Failure) -> String {
    let mut out = String::new();
    let placed = failure.prefix.len();
    let shown = &failure.prefix[placed.saturating_sub(PREFIX_SHOWN)..];
    if placed == 0 {
        let _ = writeln!(out, "  no operation can take effect first");
    } else {
        let _ = writeln!(
            out,
            "  the longest valid order found places {placed} operations, ending with:"
        );
    }
    for op in shown {
        let _ = writeln!(out, "    {}", describe(op));
    }
    let _ = writeln!(
        out,
        "  then the register holds {}, and none of these can take effect next:",
        Shown(failure.state)
    );
    for (op, refusal) in &failure.stuck {
        let _ = writeln!(out, "    {}: {refusal}", describe(op));
    }
    out
}

/// One operation with its process, lines, times and values.
pub fn describe(op: &Operation) -> String {
    let action = match op.action {
        Action::Read(value) => format!("read -> {}", Shown(value)),
        Action::Write(value) => format!("write {value}"),
        Action::Cas { expected, new } => format!("cas {} -> {new}", Shown(expected)),
    };
    let end = match op.outcome {
        Outcome::Ok { line, time_ns } => format!("ok line {line} (t={time_ns} ns)"),
        Outcome::Info {
            line: Some(line),
            time_ns: Some(time_ns),
        } => format!("info line {line} (t={time_ns} ns)"),
        Outcome::Info { .. } => "never completed".to_string(),
    };
    format!(
        "process {} {action}: invoke line {} (t={} ns), {end}",
        op.process, op.invoke_line, op.invoke_ns
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const STALE: &str = r#"{"process":0,"type":"invoke","f":"write","key":"x","value":1,"time_ns":10}
{"process":0,"type":"ok","f":"write","key":"x","value":1,"time_ns":20}
{"process":0,"type":"invoke","f":"write","key":"x","value":2,"time_ns":30}
{"process":0,"type":"ok","f":"write","key":"x","value":2,"time_ns":40}
{"process":1,"type":"invoke","f":"read","key":"x","value":null,"time_ns":50}
{"process":1,"type":"ok","f":"read","key":"x","value":1,"time_ns":60}
{"process":2,"type":"invoke","f":"read","key":"y","value":null,"time_ns":70}
{"process":2,"type":"ok","f":"read","key":"y","value":null,"time_ns":80}
"#;

    #[test]
    fn a_failing_key_is_named_with_the_operations_that_cannot_be_ordered() {
        let report = check_history(STALE.as_bytes(), 1000).expect("valid history");
        assert_eq!(report.status(), Status::NotLinearizable);
        let text = report.render("h.jsonl");
        let expected = r#"h.jsonl: key "x": NOT linearizable
  the longest valid order found places 2 operations, ending with:
    process 0 write 1: invoke line 1 (t=10 ns), ok line 2 (t=20 ns)
    process 0 write 2: invoke line 3 (t=30 ns), ok line 4 (t=40 ns)
  then the register holds 2, and none of these can take effect next:
    process 1 read -> 1: invoke line 5 (t=50 ns), ok line 6 (t=60 ns): it returned 1 but the register holds 2
h.jsonl: NOT linearizable: 1 keys failed, 0 not decided; 2 keys, 4 operations (4 ok, 0 fail, 0 info), 0 propose events skipped
"#;
        assert_eq!(text, expected);
    }

    #[test]
    fn a_passing_history_prints_one_line() {
        let good = STALE.replace(
            r#""ok","f":"read","key":"x","value":1"#,
            r#""ok","f":"read","key":"x","value":2"#,
        );
        let report = check_history(good.as_bytes(), 1000).expect("valid history");
        assert_eq!(report.status(), Status::Linearizable);
        assert_eq!(report.render("h").lines().count(), 1);
    }

    #[test]
    fn an_exhausted_budget_is_reported_as_unknown() {
        let report = check_history(STALE.as_bytes(), 1).expect("valid history");
        assert_eq!(report.status(), Status::Unknown);
        assert!(report.render("h").contains("UNKNOWN"));
    }

    #[test]
    fn a_malformed_history_is_an_error_naming_the_line() {
        let text = STALE.replacen("\"ok\"", "\"maybe\"", 1);
        let err = check_history(text.as_bytes(), 1000).expect_err("bad line");
        assert!(err.to_string().starts_with("line 2:"), "{err}");
    }
}
