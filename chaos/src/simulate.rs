//! Generated histories for tests: a few clients run against one in-memory
//! register, with operations that overlap, time out (`info`) and take
//! effect late or never. Seeded, so every run sees the same histories.
//! Used to check the search on long keys and against a brute-force oracle.

use crate::checker::{check, search, Verdict};
use crate::history::read_history;
use crate::model::{step, State};
use crate::ops::{collect, Action, Operation};
use serde_json::{json, Value};

/// A small deterministic generator (xorshift64).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Where an invoked operation is.
#[derive(Clone, Copy)]
enum Phase {
    Invoked,
    /// Took effect; holds the value a read saw, or whether a cas applied.
    Applied(State, bool),
}

struct Client {
    process: u64,
    f: &'static str,
    action: Action,
    phase: Phase,
}

/// Settings for one generated history.
pub struct Plan {
    pub seed: u64,
    pub operations: usize,
    pub clients: usize,
    /// Chance (percent) that a write or cas times out.
    pub info_percent: u64,
    /// Chance (percent) that a read reports a random value instead.
    pub lie_percent: u64,
}

/// A history (JSON lines on key "k") made by the plan.
pub fn generate(plan: &Plan) -> String {
    // Spread the seeds (a bijection), and keep the xorshift state non-zero.
    let mut rng = Rng(plan.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).max(1));
    let mut register: State = None;
    let mut lines = Vec::new();
    let mut clients: Vec<Option<Client>> = (0..plan.clients).map(|_| None).collect();
    let mut limbo: Vec<Action> = Vec::new();
    let (mut invoked, mut next_process, mut next_value) = (0, 0, 1);
    let mut emit = |process: u64, kind: &str, f: &str, value: Value| {
        let time_ns = 10 * (lines.len() + 1);
        let event = json!({"process": process, "type": kind, "f": f, "key": "k",
            "value": value, "time_ns": time_ns});
        lines.push(event.to_string());
    };
    while invoked < plan.operations || clients.iter().any(Option::is_some) {
        // Timed-out operations may take effect much later, or never.
        if !limbo.is_empty() && rng.chance(10) {
            let action = limbo.swap_remove(rng.below(limbo.len() as u64) as usize);
            register = step(register, action).unwrap_or(register);
        }
        let slot = rng.below(plan.clients as u64) as usize;
        let Some(client) = clients[slot].take() else {
            if invoked < plan.operations {
                invoked += 1;
                let client = new_client(&mut rng, next_process, &mut next_value, register);
                next_process += 1;
                emit(
                    client.process,
                    "invoke",
                    client.f,
                    invoke_value(client.action),
                );
                clients[slot] = Some(client);
            }
            continue;
        };
        match client.phase {
            Phase::Invoked if client.f != "read" && rng.chance(plan.info_percent) => {
                emit(
                    client.process,
                    "info",
                    client.f,
                    invoke_value(client.action),
                );
                limbo.push(client.action);
            }
            Phase::Invoked => {
                let seen = register;
                let applied = step(register, client.action).ok();
                register = applied.unwrap_or(register);
                let phase = Phase::Applied(seen, applied.is_some());
                clients[slot] = Some(Client { phase, ..client });
            }
            Phase::Applied(seen, applied) => {
                let (kind, value) = match client.action {
                    Action::Read(_) if rng.chance(plan.lie_percent) => {
                        ("ok", json!(rng.below(next_value as u64 + 1)))
                    }
                    Action::Read(_) => ("ok", json!(seen)),
                    action if applied => ("ok", invoke_value(action)),
                    action => ("fail", invoke_value(action)),
                };
                emit(client.process, kind, client.f, value);
                // The client carries on under the same process number.
                let process = client.process;
                let next = new_client(&mut rng, process, &mut next_value, register);
                if invoked < plan.operations {
                    invoked += 1;
                    emit(next.process, "invoke", next.f, invoke_value(next.action));
                    clients[slot] = Some(next);
                }
            }
        }
    }
    lines.join("\n")
}

fn new_client(rng: &mut Rng, process: u64, next_value: &mut i64, register: State) -> Client {
    let (f, action) = match rng.below(10) {
        0..=3 => ("read", Action::Read(None)),
        4..=7 => {
            *next_value += 1;
            ("write", Action::Write(*next_value))
        }
        _ => {
            *next_value += 1;
            let expected = if rng.chance(70) { register } else { Some(1) };
            let new = *next_value;
            ("cas", Action::Cas { expected, new })
        }
    };
    Client {
        process,
        f,
        action,
        phase: Phase::Invoked,
    }
}

fn invoke_value(action: Action) -> Value {
    match action {
        Action::Read(_) => Value::Null,
        Action::Write(value) => json!(value),
        Action::Cas { expected, new } => json!([expected, new]),
    }
}

fn operations(text: &str) -> Vec<Operation> {
    let events = read_history(text.as_bytes()).expect("generated JSON");
    let mut registers = collect(&events).expect("generated history fits together");
    registers.keys.remove("k").unwrap_or_default()
}

/// The oracle: tries every subset of the `info` operations and every order
/// of the chosen ones, keeping real-time order (a before b whenever a
/// returned before b was invoked) and the register's rules.
fn brute_force(ops: &[Operation]) -> bool {
    let infos: Vec<usize> = (0..ops.len())
        .filter(|&i| ops[i].return_line().is_none())
        .collect();
    (0..1u32 << infos.len()).any(|mask| {
        let chosen: Vec<usize> = (0..ops.len())
            .filter(|i| match infos.iter().position(|info| info == i) {
                Some(bit) => mask & (1 << bit) != 0,
                None => true,
            })
            .collect();
        some_order(ops, &mut Vec::new(), &chosen)
    })
}

fn some_order(ops: &[Operation], order: &mut Vec<usize>, rest: &[usize]) -> bool {
    if rest.is_empty() {
        let respects_time = order.iter().enumerate().all(|(at, &a)| {
            order[at + 1..].iter().all(|&b| {
                ops[b]
                    .return_line()
                    .is_none_or(|ret| ret > ops[a].invoke_line)
            })
        });
        let mut state = None;
        let valid = order.iter().all(|&i| match step(state, ops[i].action) {
            Ok(after) => {
                state = after;
                true
            }
            Err(_) => false,
        });
        return respects_time && valid;
    }
    (0..rest.len()).any(|pick| {
        let mut others = rest.to_vec();
        order.push(others.remove(pick));
        let found = some_order(ops, order, &others);
        order.pop();
        found
    })
}

fn passes(verdict: &Verdict) -> bool {
    match verdict {
        Verdict::Linearizable { .. } => true,
        Verdict::NotLinearizable(_) => false,
        Verdict::Unknown { .. } => panic!("small histories fit inside the budget"),
    }
}

#[test]
fn a_long_key_with_many_info_writes_is_checked_quickly() {
    let plan = Plan {
        seed: 7,
        operations: 100,
        clients: 5,
        info_percent: 40,
        lie_percent: 0,
    };
    let ops = operations(&generate(&plan));
    let infos = ops.iter().filter(|op| op.return_line().is_none()).count();
    assert!(
        ops.len() >= 80 && infos >= 15,
        "{} ops, {infos} info",
        ops.len()
    );
    // A small budget: the search must not wander through subsets of infos.
    assert!(matches!(check(&ops, 20_000), Verdict::Linearizable { .. }));
}

#[test]
fn the_search_agrees_with_brute_force_on_small_histories() {
    let mut judged = [0, 0];
    for seed in 1..=400 {
        let plan = Plan {
            seed,
            operations: 6,
            clients: 3,
            info_percent: 30,
            lie_percent: 25,
        };
        let ops = operations(&generate(&plan));
        let expected = brute_force(&ops);
        assert_eq!(passes(&check(&ops, 100_000)), expected, "seed {seed}");
        assert_eq!(passes(&search(&ops, 100_000)), expected, "seed {seed}");
        judged[usize::from(expected)] += 1;
    }
    // The generated histories exercise both answers.
    assert!(judged[0] > 40 && judged[1] > 40, "{judged:?}");
}
