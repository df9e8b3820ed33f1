//! Hand-made histories the checker must judge right, each written as the
//! harness would record it and checked end to end (parse, pair, search).

use crate::checker::Verdict;
use crate::report::check_history;
use serde_json::{json, Value};

/// One event on key "k": (process, type, f, value). Lines are numbered in
/// order and `time_ns` is ten times the line number.
type Ev = (u64, &'static str, &'static str, Value);

fn verdict(events: &[Ev]) -> Verdict {
    let text: String = events
        .iter()
        .enumerate()
        .map(|(i, (process, kind, f, value))| {
            let event = json!({"process": process, "type": kind, "f": f,
                "key": "k", "value": value, "time_ns": 10 * (i + 1)});
            format!("{event}\n")
        })
        .collect();
    let report = check_history(text.as_bytes(), 100_000).expect("a valid history");
    report.keys.get("k").cloned().expect("key k was checked")
}

fn linearizable(events: &[Ev]) -> bool {
    match verdict(events) {
        Verdict::Linearizable { .. } => true,
        Verdict::NotLinearizable(_) => false,
        Verdict::Unknown { .. } => panic!("these histories fit well inside the budget"),
    }
}

/// A completed operation: invoke then its completion, nothing in between.
fn done(process: u64, f: &'static str, value: Value, kind: &'static str) -> [Ev; 2] {
    let invoke_value = if f == "read" {
        Value::Null
    } else {
        value.clone()
    };
    [
        (process, "invoke", f, invoke_value),
        (process, kind, f, value),
    ]
}

fn history(parts: &[&[Ev]]) -> Vec<Ev> {
    parts.concat()
}

#[test]
fn a_stale_read_is_not_linearizable() {
    let h = history(&[
        &done(0, "write", json!(1), "ok"),
        &done(0, "write", json!(2), "ok"),
        &done(1, "read", json!(2), "ok"),
        &done(2, "read", json!(1), "ok"),
    ]);
    assert!(!linearizable(&h));
}

#[test]
fn a_lost_acknowledged_write_is_not_linearizable() {
    let h = history(&[
        &done(0, "write", json!(1), "ok"),
        &done(1, "write", json!(2), "ok"),
        &done(2, "read", json!(1), "ok"),
    ]);
    assert!(!linearizable(&h));
}

#[test]
fn a_read_of_a_value_never_written_is_not_linearizable() {
    let h = history(&[
        &done(0, "write", json!(1), "ok"),
        &[(1, "invoke", "write", json!(2))],
        &done(2, "read", json!(7), "ok"),
        &[(1, "info", "write", json!(2))],
    ]);
    assert!(!linearizable(&h));
}

#[test]
fn concurrent_writes_that_fit_in_one_order_only_are_linearizable() {
    // Both writes overlap; the read after them sees 1, so 2 went first.
    let h = history(&[
        &[(0, "invoke", "write", json!(1))],
        &[(1, "invoke", "write", json!(2))],
        &[(0, "ok", "write", json!(1))],
        &[(1, "ok", "write", json!(2))],
        &done(2, "read", json!(1), "ok"),
    ]);
    assert!(linearizable(&h));
}

#[test]
fn a_read_inside_a_write_may_see_it() {
    let h = history(&[
        &[(0, "invoke", "write", json!(1))],
        &done(1, "read", json!(1), "ok"),
        &[(0, "ok", "write", json!(1))],
    ]);
    assert!(linearizable(&h));
}

#[test]
fn concurrent_writes_that_fit_no_order_are_not_linearizable() {
    // After both writes completed, reads see 1 then 2: one of them is stale.
    let h = history(&[
        &[(0, "invoke", "write", json!(1))],
        &[(1, "invoke", "write", json!(2))],
        &[(0, "ok", "write", json!(1))],
        &[(1, "ok", "write", json!(2))],
        &done(2, "read", json!(1), "ok"),
        &done(3, "read", json!(2), "ok"),
    ]);
    assert!(!linearizable(&h));
}

#[test]
fn an_info_write_that_happened_is_linearizable() {
    let h = history(&[
        &done(0, "write", json!(1), "ok"),
        &done(1, "write", json!(2), "info"),
        &done(2, "read", json!(1), "ok"),
        // It took effect after the first read, long after it timed out.
        &done(3, "read", json!(2), "ok"),
    ]);
    assert!(linearizable(&h));
}

#[test]
fn an_info_write_that_never_happened_is_linearizable() {
    let h = history(&[
        &done(0, "write", json!(1), "ok"),
        &done(1, "write", json!(2), "info"),
        &done(2, "read", json!(1), "ok"),
    ]);
    assert!(linearizable(&h));
}

#[test]
fn an_info_write_cannot_take_effect_before_its_invoke() {
    let h = history(&[
        &done(0, "write", json!(1), "ok"),
        &done(2, "read", json!(2), "ok"),
        &done(1, "write", json!(2), "info"),
    ]);
    assert!(!linearizable(&h));
}

#[test]
fn an_invoke_left_open_at_the_end_may_have_happened() {
    let h = history(&[
        &done(0, "write", json!(1), "ok"),
        &[(1, "invoke", "write", json!(2))],
        &done(2, "read", json!(2), "ok"),
    ]);
    assert!(linearizable(&h));
}

#[test]
fn a_failed_cas_did_not_apply() {
    let failed = history(&[
        &done(0, "write", json!(1), "ok"),
        &done(1, "cas", json!([2, 3]), "fail"),
        &done(2, "read", json!(1), "ok"),
    ]);
    assert!(linearizable(&failed));
    let seen_anyway = history(&[
        &done(0, "write", json!(1), "ok"),
        &done(1, "cas", json!([1, 3]), "fail"),
        &done(2, "read", json!(3), "ok"),
    ]);
    assert!(!linearizable(&seen_anyway));
}

#[test]
fn a_failed_write_did_not_apply() {
    let h = history(&[
        &done(0, "write", json!(1), "ok"),
        &done(1, "write", json!(2), "fail"),
        &done(2, "read", json!(2), "ok"),
    ]);
    assert!(!linearizable(&h));
}

#[test]
fn a_successful_cas_is_linearizable() {
    let h = history(&[
        &done(0, "write", json!(1), "ok"),
        &done(1, "cas", json!([1, 3]), "ok"),
        &done(2, "read", json!(3), "ok"),
        &done(2, "cas", json!([3, 4]), "ok"),
    ]);
    assert!(linearizable(&h));
}

#[test]
fn a_cas_on_a_key_never_written_expects_null() {
    let h = history(&[
        &done(0, "cas", json!([null, 1]), "ok"),
        &done(1, "read", json!(1), "ok"),
    ]);
    assert!(linearizable(&h));
}

#[test]
fn a_cas_that_succeeded_against_the_wrong_value_is_not_linearizable() {
    let h = history(&[
        &done(0, "write", json!(1), "ok"),
        &done(1, "cas", json!([2, 3]), "ok"),
    ]);
    assert!(!linearizable(&h));
}

#[test]
fn a_read_before_any_write_returns_null() {
    let before = history(&[
        &done(0, "read", Value::Null, "ok"),
        &done(1, "write", json!(1), "ok"),
        &done(0, "read", json!(1), "ok"),
    ]);
    assert!(linearizable(&before));
    let after = history(&[
        &done(1, "write", json!(1), "ok"),
        &done(0, "read", Value::Null, "ok"),
    ]);
    assert!(!linearizable(&after));
}
