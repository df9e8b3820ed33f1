//! Decoding the worst frames a client may send costs bounded memory.
//!
//! A counting global allocator measures the peak heap of one `decode`
//! above what was live before. The frames are the ones an attacker would
//! pick: the largest element count of the smallest element each sequence
//! and map allows, compressed; bodies that claim far more elements than
//! any limit; and lengths that lie. The stated bound for a request of
//! type `t` is its decompressed body, plus the decoded-memory budget of
//! `t`, plus 256 KiB of codec overhead. This binary holds a single test
//! so that no other test's allocations mix in.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use arqonbus_core::constraints::{ConstraintSet, ParamConstraint};
use arqonbus_core::value::ParamValue;
use arqonbus_proto::codec::{decode, msg_type, Message};
use arqonbus_proto::frame::{self, FLAG_LZ4};
use arqonbus_proto::limits::{max_body_len, max_decoded_len, MAX_BODY_LEN};
use arqonbus_proto::message::{
    Cohort, Proposal, ProposedChange, Request, Subscribe, SubscribeTarget, TelemetryBatch,
    TelemetryContext, TelemetrySample,
};
use arqonbus_proto::operator::{Member, OperatorRequest};
use arqonbus_proto::{Envelope, UnixMillis, FRAME_VERSION};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::collections::BTreeMap;

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

/// Codec overhead on top of the body and the decoded budget.
const OVERHEAD: usize = 256 * 1024;

/// Bytes allocated at the peak of one decode, above what was live before,
/// and whether it decoded.
fn decode_cost(frame: &[u8]) -> (usize, bool) {
    let before = CURRENT.load(SeqCst);
    PEAK.store(before, SeqCst);
    let ok = decode(frame).is_ok();
    (PEAK.load(SeqCst).saturating_sub(before), ok)
}

fn framed(flags: u8, t: u8, body: &[u8]) -> Vec<u8> {
    let mut f = ((body.len() + 3) as u32).to_le_bytes().to_vec();
    f.extend_from_slice(&[FRAME_VERSION, flags, t]);
    f.extend_from_slice(body);
    f
}

/// A body LZ4-compressed into a frame whatever its size or content.
fn compressed(t: u8, body: &[u8]) -> Vec<u8> {
    let mut payload = (body.len() as u32).to_le_bytes().to_vec();
    payload.extend(lz4_flex::block::compress(body));
    framed(FLAG_LZ4, t, &payload)
}

fn env() -> Envelope {
    Envelope {
        session: 1,
        seq: 1,
        sent_at: UnixMillis(0),
        signature: None,
    }
}

fn body(request: Request) -> Vec<u8> {
    Message::Request(env(), request)
        .encode_body()
        .expect("encodes")
}

/// Distinct short names: "0", "1", … in base 36.
fn short(i: usize) -> String {
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut n = i;
    let mut out = vec![digits[n % 36]];
    n /= 36;
    while n > 0 {
        out.push(digits[n % 36]);
        n /= 36;
    }
    String::from_utf8(out).expect("ascii")
}

fn sample(metrics: usize, parameters: usize) -> TelemetrySample {
    TelemetrySample {
        timestamp: UnixMillis(0),
        source: "s".into(),
        target_system: "t".into(),
        metrics: (0..metrics).map(|i| (short(i), 0.0)).collect(),
        parameters: (0..parameters)
            .map(|i| (short(i), ParamValue::Bool(true)))
            .collect(),
        context: TelemetryContext {
            request_class: None,
            hardware: None,
            load_factor: None,
        },
        cohort: Cohort::Baseline,
    }
}

fn telemetry(samples: usize, metrics: usize, parameters: usize) -> Vec<u8> {
    body(Request::TelemetryBatch(TelemetryBatch {
        samples: vec![sample(metrics, parameters); samples],
    }))
}

fn proposal() -> Vec<u8> {
    body(Request::Proposal(Proposal {
        proposal_id: "p".into(),
        source: "s".into(),
        target_system: "t".into(),
        timestamp: UnixMillis(0),
        changes: (0..256)
            .map(|i| ProposedChange {
                parameter: short(i),
                current_value: ParamValue::Bool(true),
                proposed_value: ParamValue::Bool(true),
                reason: String::new(),
            })
            .collect(),
        expected_impact: (0..64).map(|i| (short(i), 0.0)).collect(),
        confidence: 0.5,
        duration_seconds: 1,
    }))
}

fn subscribe() -> Vec<u8> {
    body(Request::Subscribe(Subscribe {
        targets: (0..256)
            .map(|i| SubscribeTarget {
                target_system: short(i),
                from_seq: None,
            })
            .collect(),
    }))
}

fn constraints() -> Vec<u8> {
    let values: Vec<String> = (0..256).map(short).collect();
    let parameters: BTreeMap<String, ParamConstraint> = (0..256)
        .map(|i| {
            let c = ParamConstraint::Enum {
                values: values.clone(),
                default: "0".into(),
            };
            (short(i), c)
        })
        .collect();
    body(Request::Operate(OperatorRequest::SetConstraints {
        target_system: "t".into(),
        constraints: ConstraintSet { parameters },
    }))
}

fn members() -> Vec<u8> {
    body(Request::Operate(OperatorRequest::ClusterInit {
        members: (0..64)
            .map(|i| Member {
                node_id: i + 1,
                addr: format!("a:{}", i + 1),
            })
            .collect(),
    }))
}

/// `count` samples of 9 bytes each (empty names: invalid, but the count
/// comes first), as the attacker sent them.
fn nine_byte_samples(count: usize) -> Vec<u8> {
    let mut b = vec![0, 0, 0, 0]; // envelope: session 0, seq 0, sent_at 0, no signature
    b.push(0xfc);
    b.extend((count as u32).to_le_bytes());
    for _ in 0..count {
        b.extend([0u8; 9]);
    }
    b
}

/// The stated bound for one frame of type `t` whose body is `body_len`.
fn bound(t: u8, body_len: usize) -> usize {
    body_len + max_decoded_len(t) + OVERHEAD
}

fn check(what: &str, t: u8, body: &[u8]) {
    let frame = compressed(t, body);
    let (cost, ok) = decode_cost(&frame);
    let limit = bound(t, body.len().min(max_body_len(t)));
    eprintln!(
        "figure: {what}: {} B compressed, {} B body, peak {cost} B (bound {limit} B), decoded: {ok}",
        frame.len(),
        body.len()
    );
    assert!(
        cost <= limit,
        "{what}: peak {cost} B over the bound {limit} B"
    );
}

#[test]
fn decoding_stays_within_memory_limits() {
    use msg_type as t;
    // The worst valid frames: most elements of the smallest kind.
    check(
        "1024 minimal samples",
        t::TELEMETRY_BATCH,
        &telemetry(1024, 0, 0),
    );
    check(
        "1024 samples of 64 metrics and 256 parameters",
        t::TELEMETRY_BATCH,
        &telemetry(1024, 64, 256),
    );
    check("256 changes, 64 impacts", t::PROPOSAL, &proposal());
    check("256 targets", t::SUBSCRIBE, &subscribe());
    check("256 enums of 256 values", t::OPERATE, &constraints());
    check("64 members", t::OPERATE, &members());

    // Claims beyond every limit: the 16 MiB of 9-byte samples, and
    // a body of the largest allowed size holding nothing but samples.
    let over = MAX_BODY_LEN / 9 - 1;
    check(
        "16 MiB of 9-byte samples",
        t::TELEMETRY_BATCH,
        &nine_byte_samples(over),
    );
    let fits = max_body_len(t::TELEMETRY_BATCH) / 9 - 1;
    check(
        "a full body of 9-byte samples",
        t::TELEMETRY_BATCH,
        &nine_byte_samples(fits),
    );

    // Lying lengths at a few depths, then noise: small frames stay cheap.
    const SMALL: usize = 256 * 1024;
    let mut runner = TestRunner::new(Config::with_cases(512));
    let strategy = (
        prop::sample::select(msg_type::ALL.to_vec()),
        any::<bool>(),
        0..3usize,
        prop::collection::vec(any::<u8>(), 0..4096),
        prop::sample::select(vec![1u64 << 20, 15 << 20, u64::MAX / 3]),
    );
    runner
        .run(&strategy, |(t, compressed, at, tail, claim)| {
            let mut body = if t < 0x80 { vec![0, 0, 0, 0] } else { vec![] };
            body.extend(std::iter::repeat_n(1u8, at));
            body.push(253);
            body.extend_from_slice(&claim.to_le_bytes());
            body.extend(&tail);
            let (plain, _) = decode_cost(&framed(0, t, &body));
            prop_assert!(plain <= SMALL, "claimed {claim}: cost {plain} bytes");
            let flags = if compressed { FLAG_LZ4 } else { 0 };
            let (noisy, _) = decode_cost(&framed(flags, t, &tail));
            prop_assert!(noisy <= SMALL, "noise cost {noisy} bytes");
            Ok(())
        })
        .unwrap();

    // A genuine block of zeros as large as a reply may be: decompressed up
    // to the limit, never beyond, in one allocation at most that large.
    let zeros =
        frame::assemble(FRAME_VERSION, t::OPERATED, &vec![0u8; MAX_BODY_LEN], true).expect("frame");
    LARGEST.store(0, SeqCst);
    let (cost, _) = decode_cost(&zeros);
    assert!(cost >= MAX_BODY_LEN, "the body was really decompressed");
    assert!(cost <= MAX_BODY_LEN + SMALL, "bomb cost {cost} bytes");
    assert!(LARGEST.load(SeqCst) <= MAX_BODY_LEN);
}
