//! The linearizability search for one register key: Wing & Gong's search
//! with Lowe's memoisation, as Knossos and Porcupine do it.
//!
//! The search builds a sequential order one operation at a time. An
//! operation may go next if it was invoked before every operation still
//! unplaced had returned (it is *minimal*), and if the register model
//! accepts it in the current state. On a dead end it backtracks. Each
//! (set of placed operations, register value) reached is remembered, so no
//! configuration is explored twice. Operations that ended `info` never
//! return: they may be placed anywhere after their invoke, and may be left
//! out, so the search succeeds once every `ok` operation is placed.
//!
//! Histories are ordered by line number, not by `time_ns`: the file is
//! written as events happen, so its order is the real-time order.

use crate::bitset::Bitset;
use crate::model::{step, Refusal, State};
use crate::ops::{Action, Operation};
use std::collections::BTreeSet;

/// Configurations the search may explore per key before giving up. Healthy
/// histories need about one per operation; the memo costs about 100 bytes
/// per configuration.
pub const DEFAULT_MAX_STATES: u64 = 2_000_000;

/// The judgement on one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Linearizable {
        explored: u64,
    },
    NotLinearizable(Failure),
    /// The search ran out of budget: neither a pass nor a proven violation.
    Unknown {
        explored: u64,
    },
}

/// Why a key is not linearizable, taken from the deepest point the search
/// reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The longest order found that respects real time and the register.
    pub prefix: Vec<Operation>,
    /// The register's value after `prefix`.
    pub state: State,
    /// The operations that had to come next, and why none of them can.
    pub stuck: Vec<(Operation, Refusal)>,
}

/// Checks one key's operations (in invoke order) against the register.
pub fn check(ops: &[Operation], max_states: u64) -> Verdict {
    search(&without_unobserved_info(ops), max_states)
}

/// Leaves out `info` writes and compare-and-sets whose new value no read
/// returned and no compare-and-set expected. This never changes the verdict:
/// such an operation, if it took effect, was followed by nothing that saw
/// its value, so removing it from a valid order leaves a valid order, and an
/// `info` operation may always be left out. It keeps the search from
/// trying every subset of lost writes.
fn without_unobserved_info(ops: &[Operation]) -> Vec<Operation> {
    let observed: BTreeSet<i64> = ops
        .iter()
        .filter_map(|op| match op.action {
            Action::Read(value) => value,
            Action::Cas { expected, .. } => expected,
            Action::Write(_) => None,
        })
        .collect();
    let needed = |op: &Operation| match op.action {
        _ if op.return_line().is_some() => true,
        Action::Write(new) | Action::Cas { new, .. } => observed.contains(&new),
        Action::Read(_) => true,
    };
    ops.iter().filter(|op| needed(op)).cloned().collect()
}

/// One placed operation, with the register value before it.
struct Frame {
    op: usize,
    before: State,
}

/// The search proper, on operations in invoke order.
pub(crate) fn search(ops: &[Operation], max_states: u64) -> Verdict {
    let mut placed = Bitset::new(ops.len());
    let mut state: State = None;
    let mut unplaced_ok = ops.iter().filter(|op| op.return_line().is_some()).count();
    let mut seen: BTreeSet<(Bitset, State)> = BTreeSet::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut deepest: (Vec<usize>, State) = (Vec::new(), None);
    let mut explored = 0u64;
    let mut cursor = 0;
    loop {
        if unplaced_ok == 0 {
            return Verdict::Linearizable { explored };
        }
        match next_move(ops, &placed, state, cursor, &seen) {
            Some((op, after)) => {
                explored += 1;
                if explored > max_states {
                    return Verdict::Unknown { explored };
                }
                placed.insert(op);
                seen.insert((placed.clone(), after));
                stack.push(Frame { op, before: state });
                state = after;
                unplaced_ok -= usize::from(ops[op].return_line().is_some());
                cursor = 0;
                if stack.len() > deepest.0.len() {
                    deepest = (stack.iter().map(|frame| frame.op).collect(), state);
                }
            }
            None => {
                let Some(frame) = stack.pop() else {
                    return Verdict::NotLinearizable(explain(ops, &deepest.0, deepest.1));
                };
                placed.remove(frame.op);
                state = frame.before;
                unplaced_ok += usize::from(ops[frame.op].return_line().is_some());
                cursor = frame.op + 1;
            }
        }
    }
}

/// The first operation at or after `cursor` that may go next and leads to a
/// configuration not seen before, with the register value after it.
fn next_move(
    ops: &[Operation],
    placed: &Bitset,
    state: State,
    cursor: usize,
    seen: &BTreeSet<(Bitset, State)>,
) -> Option<(usize, State)> {
    // One key, edited in place, so that looking up allocates nothing.
    let mut trial = (placed.clone(), state);
    candidates(ops, placed)
        .filter(|&index| index >= cursor)
        .find_map(|index| {
            let after = step(state, ops[index].action).ok()?;
            trial.0.insert(index);
            trial.1 = after;
            let known = seen.contains(&trial);
            trial.0.remove(index);
            (!known).then_some((index, after))
        })
}

/// The unplaced operations invoked before the earliest return among the
/// unplaced `ok` operations: those that may be linearized next.
fn candidates<'a>(ops: &'a [Operation], placed: &'a Bitset) -> impl Iterator<Item = usize> + 'a {
    let horizon = (0..ops.len())
        .filter(|&index| !placed.contains(index))
        .filter_map(|index| ops[index].return_line())
        .min()
        .unwrap_or(usize::MAX);
    (0..ops.len())
        .take_while(move |&index| ops[index].invoke_line < horizon)
        .filter(move |&index| !placed.contains(index))
}

/// Describes the dead end at the deepest order the search reached. Every
/// candidate there is refused by the model: one that was accepted would
/// have led deeper, and the memo cannot hold a configuration deeper than
/// any the search had reached.
fn explain(ops: &[Operation], prefix: &[usize], state: State) -> Failure {
    let mut placed = Bitset::new(ops.len());
    for &index in prefix {
        placed.insert(index);
    }
    let stuck = candidates(ops, &placed)
        .filter_map(|index| {
            let refusal = step(state, ops[index].action).err()?;
            Some((ops[index].clone(), refusal))
        })
        .collect();
    Failure {
        prefix: prefix.iter().map(|&index| ops[index].clone()).collect(),
        state,
        stuck,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Outcome;

    /// An operation invoked at line `call` that returns at `ret` (None: info).
    fn op(process: u64, action: Action, call: usize, ret: Option<usize>) -> Operation {
        let outcome = match ret {
            Some(line) => Outcome::Ok {
                line,
                time_ns: line as u64,
            },
            None => Outcome::Info {
                line: None,
                time_ns: None,
            },
        };
        Operation {
            process,
            action,
            invoke_line: call,
            invoke_ns: call as u64,
            outcome,
        }
    }

    #[test]
    fn an_empty_history_is_linearizable() {
        assert!(matches!(check(&[], 10), Verdict::Linearizable { .. }));
    }

    #[test]
    fn pruning_keeps_ok_ops_and_observed_info_writes() {
        let ops = [
            op(0, Action::Write(1), 1, None),
            op(1, Action::Write(2), 2, None),
            op(2, Action::Write(3), 3, Some(4)),
            op(3, Action::Read(Some(2)), 5, Some(6)),
        ];
        let kept = without_unobserved_info(&ops);
        assert_eq!(kept, ops[1..].to_vec());
    }

    #[test]
    fn the_explanation_names_the_refused_operations() {
        let ops = [
            op(0, Action::Write(1), 1, Some(2)),
            op(0, Action::Write(2), 3, Some(4)),
            op(1, Action::Read(Some(1)), 5, Some(6)),
        ];
        let Verdict::NotLinearizable(failure) = check(&ops, 100) else {
            panic!("a stale read must fail");
        };
        assert_eq!(failure.prefix, ops[..2].to_vec());
        assert_eq!(failure.state, Some(2));
        let refusal = Refusal::Read {
            returned: Some(1),
            holds: Some(2),
        };
        assert_eq!(failure.stuck, vec![(ops[2].clone(), refusal)]);
    }

    #[test]
    fn running_out_of_budget_is_unknown_not_a_pass() {
        // Twelve concurrent writes, then a read nobody wrote: every order of
        // the writes must be tried before the search can say no.
        let mut ops: Vec<Operation> = (0..12)
            .map(|i| {
                op(
                    i,
                    Action::Write(i as i64),
                    i as usize,
                    Some(20 + i as usize),
                )
            })
            .collect();
        ops.push(op(99, Action::Read(Some(99)), 40, Some(41)));
        assert!(matches!(check(&ops, 100), Verdict::Unknown { .. }));
        assert!(matches!(
            check(&ops, DEFAULT_MAX_STATES),
            Verdict::NotLinearizable(_)
        ));
    }
}
