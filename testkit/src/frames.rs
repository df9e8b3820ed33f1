//! Frames as a hostile client builds them, bypassing the encoder's checks:
//! any header, always-compressed bodies, bodies that claim more elements
//! than they hold, and the smallest telemetry samples.

use arqonbus_proto::frame::FLAG_LZ4;
use arqonbus_proto::message::{Cohort, TelemetryBatch, TelemetryContext, TelemetrySample};
use arqonbus_proto::operator::OperatorRequest;
use arqonbus_proto::{msg_type, Envelope, Message, Request, UnixMillis};

/// A frame around `body` with the given flags and type, unchecked.
pub fn framed(flags: u8, t: u8, body: &[u8]) -> Vec<u8> {
    let mut f = ((body.len() + 3) as u32).to_le_bytes().to_vec();
    f.extend_from_slice(&[arqonbus_proto::FRAME_VERSION, flags, t]);
    f.extend_from_slice(body);
    f
}

/// `body` LZ4-compressed into a frame of type `t`, whatever its size.
pub fn compressed(t: u8, body: &[u8]) -> Vec<u8> {
    let mut payload = (body.len() as u32).to_le_bytes().to_vec();
    payload.extend(lz4_flex::block::compress(body));
    framed(FLAG_LZ4, t, &payload)
}

fn fresh() -> Envelope {
    Envelope {
        session: Envelope::random_session(),
        seq: 1,
        sent_at: UnixMillis::now(),
        signature: None,
    }
}

/// A fresh envelope, encoded.
pub fn envelope() -> Vec<u8> {
    bincode::serde::encode_to_vec(fresh(), bincode::config::standard()).unwrap_or_default()
}

/// `request` in a fresh envelope, encoded and checked as the reference
/// client would send it (empty if it is not valid).
pub fn request(request: Request) -> Vec<u8> {
    arqonbus_proto::encode(&Message::Request(fresh(), request)).unwrap_or_default()
}

/// A `node_status` request, the cheapest question any role may ask.
pub fn node_status() -> Vec<u8> {
    request(Request::Operate(OperatorRequest::NodeStatus))
}

/// A telemetry body announcing `count` samples of 9 bytes each (empty
/// names, so invalid, but the count comes first), as the attacker
/// sent them; `count` × 9 bytes.
pub fn nine_byte_samples(count: usize) -> Vec<u8> {
    let mut b = envelope();
    b.push(0xfc);
    b.extend((count as u32).to_le_bytes());
    b.resize(b.len() + 9 * count, 0);
    b
}

/// A compressed telemetry frame whose body, once decompressed, is at most
/// `raw_len` bytes of 9-byte samples: the 66 KB frame that
/// expanded to 16 MiB, at any size.
pub fn sample_bomb(raw_len: usize) -> Vec<u8> {
    let room = raw_len.saturating_sub(envelope().len() + 5);
    compressed(msg_type::TELEMETRY_BATCH, &nine_byte_samples(room / 9))
}

/// A compressed frame of type `t` whose body is an envelope and then
/// zeros up to `raw_len` bytes: expands about 250 times.
pub fn zero_bomb(t: u8, raw_len: usize) -> Vec<u8> {
    let mut b = envelope();
    b.resize(raw_len, 0);
    compressed(t, &b)
}

/// One telemetry sample as small as a valid one can be.
pub fn minimal_sample(target: &str) -> TelemetrySample {
    TelemetrySample {
        timestamp: UnixMillis::now(),
        source: "s".into(),
        target_system: target.into(),
        metrics: Default::default(),
        parameters: Default::default(),
        context: TelemetryContext {
            request_class: None,
            hardware: None,
            load_factor: None,
        },
        cohort: Cohort::Baseline,
    }
}

/// A valid batch of `n` minimal samples, compressed as a client may.
pub fn minimal_batch(target: &str, n: usize) -> Vec<u8> {
    let request = Request::TelemetryBatch(TelemetryBatch {
        samples: vec![minimal_sample(target); n],
    });
    let body = Message::Request(fresh(), request)
        .encode_body()
        .unwrap_or_default();
    compressed(msg_type::TELEMETRY_BATCH, &body)
}
