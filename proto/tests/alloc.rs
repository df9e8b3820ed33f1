//! Decoding hostile input never allocates beyond the limits: no single
//! allocation over `MAX_BODY_LEN`, and small inputs cost little memory
//! whatever lengths they claim. Measured with a counting global allocator;
//! this binary holds a single test so no other test's allocations mix in.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use arqonbus_proto::codec::{decode, msg_type};
use arqonbus_proto::frame::FLAG_LZ4;
use arqonbus_proto::limits::MAX_BODY_LEN;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

struct Counting;
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), SeqCst) + layout.size();
        PEAK.fetch_max(now, SeqCst);
        LARGEST.fetch_max(layout.size(), SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes allocated at the peak of one decode, above what was live before.
fn decode_cost(frame: &[u8]) -> usize {
    let before = CURRENT.load(SeqCst);
    PEAK.store(before, SeqCst);
    let _ = decode(frame);
    PEAK.load(SeqCst).saturating_sub(before)
}

fn framed(flags: u8, t: u8, body: &[u8]) -> Vec<u8> {
    let mut f = ((body.len() + 3) as u32).to_le_bytes().to_vec();
    f.extend_from_slice(&[1, flags, t]);
    f.extend_from_slice(body);
    f
}

/// A varint claiming an enormous length, as bincode would read it.
fn huge_len() -> Vec<u8> {
    let mut v = vec![253];
    v.extend_from_slice(&(u64::MAX / 3).to_le_bytes());
    v
}

#[test]
fn decoding_stays_within_memory_limits() {
    const SMALL: usize = 2 * 1024 * 1024;
    let mut runner = TestRunner::new(Config::with_cases(512));
    let strategy = (
        prop::sample::select(msg_type::ALL.to_vec()),
        any::<bool>(),
        0..3usize,
        prop::collection::vec(any::<u8>(), 0..4096),
    );
    runner
        .run(&strategy, |(t, compressed, at, tail)| {
            // Envelope (seq 0, sent_at 0, no signature) for requests, then a
            // huge claimed length at one of a few depths, then noise.
            let mut body = if t < 0x80 { vec![0, 0, 0] } else { vec![] };
            body.extend(std::iter::repeat_n(1u8, at));
            body.extend(huge_len());
            body.extend(&tail);
            let plain = decode_cost(&framed(0, t, &body));
            prop_assert!(plain <= SMALL, "plain frame cost {plain} bytes");
            let flags = if compressed { FLAG_LZ4 } else { 0 };
            let noisy = decode_cost(&framed(flags, t, &tail));
            prop_assert!(noisy <= SMALL, "noise cost {noisy} bytes");
            Ok(())
        })
        .unwrap();

    // A genuine block of 16 MiB of zeros: allowed up to the limit, no more.
    let zeros = lz4_flex::block::compress(&vec![0u8; MAX_BODY_LEN]);
    let mut payload = (MAX_BODY_LEN as u32).to_le_bytes().to_vec();
    payload.extend_from_slice(&zeros);
    LARGEST.store(0, SeqCst);
    let cost = decode_cost(&framed(FLAG_LZ4, msg_type::TELEMETRY_BATCH, &payload));
    assert!(cost >= MAX_BODY_LEN, "the body was really decompressed");
    assert!(cost <= MAX_BODY_LEN + SMALL, "bomb cost {cost} bytes");
    assert!(LARGEST.load(SeqCst) <= MAX_BODY_LEN);
}
