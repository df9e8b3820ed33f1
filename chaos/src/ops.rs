//! From events to register operations: pairs each `invoke` with the next
//! completion of the same process, interprets the values, and groups the
//! operations by key. `propose` events are counted and skipped; failed
//! operations and reads of unknown outcome are dropped, since neither can
//! have changed or observed the register.

use crate::history::{Event, EventType, Function};
use serde_json::Value;
use std::collections::BTreeMap;

/// What a register operation did, as far as the checker needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A read that returned this value (`None`: the key was never written).
    Read(Option<i64>),
    Write(i64),
    Cas {
        expected: Option<i64>,
        new: i64,
    },
}

/// How an operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It took effect at some point between its invoke and this event.
    Ok { line: usize, time_ns: u64 },
    /// It may take effect at any point after its invoke, or never. `line` and
    /// `time_ns` are `None` when the history ends before any completion.
    Info {
        line: Option<usize>,
        time_ns: Option<u64>,
    },
}

/// One register operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub process: u64,
    pub action: Action,
    pub invoke_line: usize,
    pub invoke_ns: u64,
    pub outcome: Outcome,
}

impl Operation {
    /// The line of the `ok` event, or `None` if the operation never returns.
    pub fn return_line(&self) -> Option<usize> {
        match self.outcome {
            Outcome::Ok { line, .. } => Some(line),
            Outcome::Info { .. } => None,
        }
    }
}

/// How many of each kind of event a history held, for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Register operations invoked.
    pub operations: usize,
    pub ok: usize,
    pub fail: usize,
    /// Operations that ended `info`, or had no completion at all.
    pub info: usize,
    pub propose_events: usize,
    /// `rollout` events, skipped like `propose` ones.
    pub rollout_events: usize,
}

/// The register operations of a history, per key, in invoke order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registers {
    pub keys: BTreeMap<String, Vec<Operation>>,
    pub counts: Counts,
}

/// A history whose events do not fit together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpsError {
    #[error("line {line}: a {f} event needs a \"key\"")]
    MissingKey { line: usize, f: &'static str },
    #[error(
        "line {line}: process {process} invokes while its operation from line {open} is still open"
    )]
    AlreadyOpen {
        line: usize,
        process: u64,
        open: usize,
    },
    #[error("line {line}: process {process} is used again after its operation at line {info} ended info; an info operation takes a new process number")]
    ReusedAfterInfo {
        line: usize,
        process: u64,
        info: usize,
    },
    #[error("line {line}: process {process} completes an operation it never invoked")]
    NotInvoked { line: usize, process: u64 },
    #[error(
        "line {line}: completion of {f} on key {key:?} does not match the invoke at line {open}"
    )]
    Mismatch {
        line: usize,
        f: &'static str,
        key: String,
        open: usize,
    },
    #[error("line {line}: the value of {what} must be {expected}, found {found}")]
    BadValue {
        line: usize,
        what: &'static str,
        expected: &'static str,
        found: String,
    },
}

/// An invoked operation waiting for its completion.
struct Open {
    f: Function,
    key: String,
    invoke: Event,
}

/// Pairs events into operations and groups them by key.
pub fn collect(events: &[Event]) -> Result<Registers, OpsError> {
    let mut registers = Registers::default();
    let mut open: BTreeMap<u64, Open> = BTreeMap::new();
    let mut retired: BTreeMap<u64, usize> = BTreeMap::new();
    for event in events {
        if event.f == Function::Propose {
            registers.counts.propose_events += 1;
            continue;
        }
        if event.f == Function::Rollout {
            registers.counts.rollout_events += 1;
            continue;
        }
        if let Some(&info) = retired.get(&event.process) {
            return Err(OpsError::ReusedAfterInfo {
                line: event.line,
                process: event.process,
                info,
            });
        }
        let key = event.key.clone().ok_or(OpsError::MissingKey {
            line: event.line,
            f: event.f.name(),
        })?;
        if event.kind == EventType::Invoke {
            invoke(&mut open, &mut registers.counts, event, key)?;
            continue;
        }
        let started = open.remove(&event.process).ok_or(OpsError::NotInvoked {
            line: event.line,
            process: event.process,
        })?;
        if started.f != event.f || started.key != key {
            return Err(OpsError::Mismatch {
                line: event.line,
                f: event.f.name(),
                key,
                open: started.invoke.line,
            });
        }
        if event.kind == EventType::Info {
            retired.insert(event.process, event.line);
        }
        complete(&mut registers, started, event)?;
    }
    for (_, started) in open {
        registers.counts.info += 1;
        let outcome = Outcome::Info {
            line: None,
            time_ns: None,
        };
        let action = invoked_action(&started.invoke)?;
        push(&mut registers, started, action, outcome);
    }
    Ok(registers)
}

fn invoke(
    open: &mut BTreeMap<u64, Open>,
    counts: &mut Counts,
    event: &Event,
    key: String,
) -> Result<(), OpsError> {
    if let Some(already) = open.get(&event.process) {
        return Err(OpsError::AlreadyOpen {
            line: event.line,
            process: event.process,
            open: already.invoke.line,
        });
    }
    // Checked now so that a bad value is reported at its own line.
    invoked_action(event)?;
    counts.operations += 1;
    open.insert(
        event.process,
        Open {
            f: event.f,
            key,
            invoke: event.clone(),
        },
    );
    Ok(())
}

fn complete(registers: &mut Registers, started: Open, event: &Event) -> Result<(), OpsError> {
    let outcome = match event.kind {
        EventType::Fail => {
            registers.counts.fail += 1;
            return Ok(());
        }
        EventType::Info => {
            registers.counts.info += 1;
            Outcome::Info {
                line: Some(event.line),
                time_ns: Some(event.time_ns),
            }
        }
        // An invoke never reaches here: `collect` handles it first.
        EventType::Ok | EventType::Invoke => {
            registers.counts.ok += 1;
            Outcome::Ok {
                line: event.line,
                time_ns: event.time_ns,
            }
        }
    };
    let action = match (started.f, outcome) {
        (Function::Read, Outcome::Ok { .. }) => Action::Read(read_result(event)?),
        _ => invoked_action(&started.invoke)?,
    };
    push(registers, started, action, outcome);
    Ok(())
}

/// Records an operation, unless it is a read of unknown outcome, which
/// observed nothing the checker could use.
fn push(registers: &mut Registers, started: Open, action: Action, outcome: Outcome) {
    let unknown_read = started.f == Function::Read && matches!(outcome, Outcome::Info { .. });
    if unknown_read {
        return;
    }
    let operation = Operation {
        process: started.invoke.process,
        action,
        invoke_line: started.invoke.line,
        invoke_ns: started.invoke.time_ns,
        outcome,
    };
    let ops = registers.keys.entry(started.key).or_default();
    // Completions arrive out of invoke order; keep each key in invoke order.
    let at = ops.partition_point(|op| op.invoke_line < operation.invoke_line);
    ops.insert(at, operation);
}

/// The action an invoke asks for; a read's result is not known yet.
fn invoked_action(event: &Event) -> Result<Action, OpsError> {
    let bad = |what, expected| OpsError::BadValue {
        line: event.line,
        what,
        expected,
        found: event.value.to_string(),
    };
    match event.f {
        Function::Read if event.value.is_null() => Ok(Action::Read(None)),
        Function::Read => Err(bad("a read invoke", "null")),
        Function::Write => (event.value.as_i64())
            .map(Action::Write)
            .ok_or(bad("a write", "an integer")),
        Function::Cas => cas_pair(&event.value).ok_or(bad("a cas", "[expected, new] integers")),
        Function::Propose => Err(bad("a propose", "not a register operation")),
        Function::Rollout => Err(bad("a rollout event", "not a register operation")),
    }
}

fn read_result(event: &Event) -> Result<Option<i64>, OpsError> {
    match &event.value {
        Value::Null => Ok(None),
        value => value.as_i64().map(Some).ok_or(OpsError::BadValue {
            line: event.line,
            what: "an ok read",
            expected: "an integer or null",
            found: value.to_string(),
        }),
    }
}

/// `[expected, new]`; `expected` may be null (the key was never written).
fn cas_pair(value: &Value) -> Option<Action> {
    let [expected, new] = value.as_array()?.as_slice() else {
        return None;
    };
    let expected = if expected.is_null() {
        None
    } else {
        Some(expected.as_i64()?)
    };
    Some(Action::Cas {
        expected,
        new: new.as_i64()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::read_history;

    fn registers(lines: &[&str]) -> Result<Registers, OpsError> {
        let text = lines.join("\n");
        let events = read_history(text.as_bytes()).expect("well-formed JSON");
        collect(&events)
    }

    const W1: &str = r#"{"process":0,"type":"invoke","f":"write","key":"a","value":1,"time_ns":1}"#;
    const W1_OK: &str = r#"{"process":0,"type":"ok","f":"write","key":"a","value":1,"time_ns":2}"#;
    const R: &str =
        r#"{"process":1,"type":"invoke","f":"read","key":"a","value":null,"time_ns":3}"#;
    const R_OK: &str = r#"{"process":1,"type":"ok","f":"read","key":"a","value":1,"time_ns":4}"#;

    #[test]
    fn pairs_invokes_with_completions() {
        let regs = registers(&[W1, R, W1_OK, R_OK]).expect("valid");
        let ops = &regs.keys["a"];
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[0].action, Action::Write(1));
        assert_eq!(ops[0].return_line(), Some(3));
        assert_eq!(ops[1].action, Action::Read(Some(1)));
        assert_eq!(ops[1].invoke_line, 2);
        assert_eq!(regs.counts.ok, 2);
    }

    #[test]
    fn an_invoke_without_completion_is_info() {
        let regs = registers(&[W1]).expect("valid");
        let op = &regs.keys["a"][0];
        let never = Outcome::Info {
            line: None,
            time_ns: None,
        };
        assert_eq!(op.outcome, never);
        assert_eq!(regs.counts.info, 1);
    }

    #[test]
    fn failed_ops_and_unknown_reads_are_dropped() {
        let fail = r#"{"process":0,"type":"fail","f":"write","key":"a","time_ns":2}"#;
        let info = r#"{"process":1,"type":"info","f":"read","key":"a","time_ns":4}"#;
        let regs = registers(&[W1, fail, R, info]).expect("valid");
        assert!(regs.keys.is_empty());
        assert_eq!((regs.counts.fail, regs.counts.info), (1, 1));
    }

    #[test]
    fn propose_events_are_skipped() {
        let p = r#"{"process":7,"type":"invoke","f":"propose","value":{"x":1},"time_ns":1}"#;
        let regs = registers(&[p, W1, W1_OK]).expect("valid");
        assert_eq!(regs.counts.propose_events, 1);
        let r = r#"{"process":3000000,"type":"ok","f":"rollout","key":"t","value":{"event":"applied"},"time_ns":2}"#;
        let only =
            collect(&crate::history::read_history(r.as_bytes()).expect("valid")).expect("collects");
        assert_eq!((only.counts.rollout_events, only.counts.operations), (1, 0));
        assert_eq!(regs.keys["a"].len(), 1);
    }

    #[test]
    fn cas_values_are_pairs() {
        let cas =
            r#"{"process":0,"type":"invoke","f":"cas","key":"a","value":[null,5],"time_ns":1}"#;
        let regs = registers(&[cas]).expect("valid");
        let want = Action::Cas {
            expected: None,
            new: 5,
        };
        assert_eq!(regs.keys["a"][0].action, want);
        let bad = r#"{"process":0,"type":"invoke","f":"cas","key":"a","value":[1],"time_ns":1}"#;
        let err = registers(&[bad]).expect_err("one value");
        assert!(matches!(err, OpsError::BadValue { line: 1, .. }), "{err}");
    }

    #[test]
    fn inconsistent_histories_are_errors_with_line_numbers() {
        let err = registers(&[W1, W1]).expect_err("double invoke");
        assert!(matches!(
            err,
            OpsError::AlreadyOpen {
                line: 2,
                open: 1,
                ..
            }
        ));
        let err = registers(&[R_OK]).expect_err("no invoke");
        assert!(matches!(err, OpsError::NotInvoked { line: 1, .. }));
        let err = registers(&[R, W1_OK.replace("\"process\":0", "\"process\":1").as_str()])
            .expect_err("write completes a read");
        assert!(matches!(err, OpsError::Mismatch { line: 2, .. }));
        let info = r#"{"process":0,"type":"info","f":"write","key":"a","time_ns":2}"#;
        let err = registers(&[W1, info, W1]).expect_err("reused process");
        assert!(matches!(err, OpsError::ReusedAfterInfo { line: 3, .. }));
        let no_key = r#"{"process":0,"type":"invoke","f":"read","time_ns":1}"#;
        let err = registers(&[no_key]).expect_err("no key");
        assert!(err.to_string().starts_with("line 1:"), "{err}");
    }
}
