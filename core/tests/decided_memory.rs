//! What the decided table costs in memory, measured with a counting
//! allocator: the heap one remembered decision takes, that
//! `Decided::weight` never underestimates it (so `MAX_BYTES` bounds the
//! table), and the figures PROTOCOL.md §6.2 states.
//!
//! `cargo test -p arqonbus-core --test decided_memory -- --nocapture`
//! prints them.

use arqonbus_core::constraints::Violation;
use arqonbus_core::decided::{Decided, DecidedTable, Limits, MAX_BYTES, MAX_ENTRIES};
use arqonbus_core::proposal::{Approved, Decision, Verdict};
use arqonbus_core::ParamValue;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

/// Counts live heap bytes.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The brief's proposal: batch_size approved, temperature rejected, and
/// one more change approved.
fn typical(n: u64) -> (String, Decided) {
    let id = format!("prop-20240115-{n:06}-001");
    let decision = Decision {
        proposal_id: id.clone(),
        target: "ml-inference-service".into(),
        decided_at_ms: 1_705_314_606_000 + n,
        verdict: Verdict::PartiallyApproved,
        approved: vec![
            Approved {
                parameter: "batch_size".into(),
                value: ParamValue::Int(48),
                max_change_rate: 1.0,
            },
            Approved {
                parameter: "max_tokens".into(),
                value: ParamValue::Int(2048),
                max_change_rate: 0.5,
            },
        ],
        rejected: vec![Violation {
            parameter: "temperature".into(),
            constraint: "min_temperature".into(),
            reason: "0.6 is below the minimum 0.65".into(),
        }],
        duration_seconds: 300,
        event_seq: n,
        ..Decision::new("", "", 0, 0)
    };
    let decided = Decided {
        at_ms: decision.decided_at_ms,
        target: "ml-inference-service".into(),
        fingerprint: [7; 32],
        decision,
        timestamp_ms: 1_705_314_605_000 + n as i64,
    };
    (id, decided)
}

/// The largest decision a proposal can get: 256 rejected changes with
/// 128-byte names and 1 KiB reasons.
fn largest(n: u64) -> (String, Decided) {
    let (id, mut d) = typical(n);
    d.decision.approved.clear();
    d.decision.rejected = (0..256)
        .map(|i| Violation {
            parameter: format!("{i:0>128}"),
            constraint: format!("max_{i:0>124}"),
            reason: "r".repeat(1024),
        })
        .collect();
    (id, d)
}

/// Live heap bytes per entry of a table of `n` entries made by `make`
/// (everything the table holds: entries, indexes, copies of the ids), and
/// their mean weight.
fn measure(n: u64, make: fn(u64) -> (String, Decided)) -> (f64, f64) {
    let mut table = DecidedTable::with_limits(Limits {
        entries: usize::MAX,
        bytes: u64::MAX,
    });
    let before = LIVE.load(Ordering::SeqCst);
    for i in 0..n {
        let (id, d) = make(i);
        table.record(&id, d);
    }
    let after = LIVE.load(Ordering::SeqCst);
    assert_eq!(table.len() as u64, n);
    let per_entry = (after - before) as f64 / n as f64;
    (per_entry, table.bytes() as f64 / n as f64)
}

#[test]
fn the_weight_bounds_what_an_entry_takes_and_the_figures_hold() {
    let (typical_bytes, typical_weight) = measure(20_000, typical);
    let (largest_bytes, largest_weight) = measure(200, largest);
    println!(
        "typical decision: {typical_bytes:.0} bytes measured, weight {typical_weight:.0}; \
         largest: {largest_bytes:.0} measured, weight {largest_weight:.0}"
    );
    assert!(typical_bytes <= typical_weight, "typical underestimated");
    assert!(largest_bytes <= largest_weight, "largest underestimated");
    // The table holds whichever bound comes first.
    let held = (MAX_BYTES as f64 / typical_weight).min(MAX_ENTRIES as f64);
    let heap = held * typical_bytes;
    println!(
        "full table of typical decisions: {held:.0} entries, {:.1} MiB of heap; \
         at 10,000 decisions/s it holds the last {:.1} s",
        heap / (1 << 20) as f64,
        held / 10_000.0
    );
    // PROTOCOL.md §6.2 states these: keep them true.
    assert!(typical_weight <= 1340.0, "{typical_weight}");
    assert!(heap <= MAX_BYTES as f64);
    assert!(held >= 50_000.0, "{held}");
}
