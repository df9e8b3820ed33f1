//! Each malformed input gives its own typed error, never a panic: truncated,
//! trailing bytes, over a limit, unknown version, unknown type, reserved
//! flags, a compression bomb, NaN and infinities, non-canonical encodings,
//! inconsistent content. Also checks what the server would answer.

use std::path::Path;

use arqonbus_core::value::ParamValue;
use arqonbus_proto::codec::{decode, encode, msg_type, Message};
use arqonbus_proto::error::{CodecError, ErrorCode};
use arqonbus_proto::frame::{self, FLAG_LZ4};
use arqonbus_proto::limits::{
    max_body_len, MAX_BODY_LEN, MAX_FRAME_LEN, MAX_SAMPLES_PER_BATCH, MAX_TELEMETRY_BODY_LEN,
};
use arqonbus_proto::message::{Request, TelemetryBatch};
use arqonbus_proto::reply::{Decision, Reply};
use arqonbus_proto::{vectors, Envelope, UnixMillis, FRAME_VERSION};

fn vector(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("vectors/{name}.bin"));
    std::fs::read(p).unwrap()
}

fn message(name: &str) -> Message {
    vectors::catalogue()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, m)| m)
        .unwrap()
}

/// Frames a body without validating it, as a hostile peer could.
fn raw(msg: &Message) -> Vec<u8> {
    frame::assemble(
        FRAME_VERSION,
        msg.msg_type(),
        &msg.encode_body().unwrap(),
        false,
    )
    .unwrap()
}

/// Rewrites the length prefix after editing a frame.
fn fix_len(mut f: Vec<u8>) -> Vec<u8> {
    let len = (f.len() - 4) as u32;
    f[..4].copy_from_slice(&len.to_le_bytes());
    f
}

#[test]
fn truncated_frames() {
    let f = vector("status_query");
    for cut in [0, 1, 3, 4, 6, f.len() - 1] {
        assert!(
            matches!(decode(&f[..cut]), Err(CodecError::Truncated { .. })),
            "cut at {cut}"
        );
    }
    // Length fixed up, body cut short: bincode runs out of input.
    let short = fix_len(f[..f.len() - 3].to_vec());
    assert!(matches!(decode(&short), Err(CodecError::Body { .. })));
}

#[test]
fn trailing_bytes_after_the_frame_or_after_the_body() {
    let mut f = vector("status_query");
    f.push(0);
    assert_eq!(decode(&f), Err(CodecError::TrailingBytes { extra: 1 }));
    let padded = fix_len(f);
    let body_len = padded.len() - 7;
    assert_eq!(
        decode(&padded),
        Err(CodecError::BodyTrailing {
            end: body_len - 1,
            len: body_len
        })
    );
}

#[test]
fn frames_over_the_limit() {
    let mut f = vector("status_query");
    f[..4].copy_from_slice(&((MAX_FRAME_LEN + 1) as u32).to_le_bytes());
    let err = decode(&f).unwrap_err();
    assert!(matches!(err, CodecError::FrameTooLarge { .. }));
    assert!(
        matches!(err.to_wire(), ErrorCode::TooLarge { limit, .. } if limit == MAX_FRAME_LEN as u64)
    );

    // A batch over the sample limit is refused on both sides.
    let Message::Request(env, Request::TelemetryBatch(b)) = message("telemetry_batch") else {
        panic!("catalogue changed")
    };
    let samples = vec![b.samples[0].clone(); MAX_SAMPLES_PER_BATCH + 1];
    let big = Message::Request(env, Request::TelemetryBatch(TelemetryBatch { samples }));
    assert!(
        matches!(encode(&big), Err(CodecError::Invalid { ref field, .. }) if field == "samples")
    );
    let f = frame::assemble(
        FRAME_VERSION,
        msg_type::TELEMETRY_BATCH,
        &big.encode_body().unwrap(),
        true,
    )
    .unwrap();
    assert!(matches!(decode(&f), Err(CodecError::Invalid { ref field, .. }) if field == "samples"));

    // A body over 16 MiB cannot even be framed.
    let huge = vec![0u8; MAX_BODY_LEN + 1];
    assert!(matches!(
        frame::assemble(FRAME_VERSION, msg_type::STATUS_QUERY, &huge, true),
        Err(CodecError::BodyTooLarge { .. })
    ));
}

#[test]
fn unknown_version_type_and_flags() {
    let mut f = vector("status_query");
    // A version-1 frame (no session in its envelope) is refused.
    f[4] = 1;
    let err = decode(&f).unwrap_err();
    assert_eq!(err, CodecError::UnknownVersion(1));
    assert_eq!(
        err.to_wire(),
        ErrorCode::UnsupportedVersion {
            received: 1,
            supported: vec![2]
        }
    );

    let mut f = vector("status_query");
    f[6] = 0x7f;
    assert_eq!(decode(&f), Err(CodecError::UnknownType(0x7f)));
    assert!(
        matches!(decode(&f).unwrap_err().to_wire(), ErrorCode::InvalidMessage { field, .. } if field == "type")
    );

    let mut f = vector("status_query");
    f[5] = 0x80;
    assert_eq!(decode(&f), Err(CodecError::ReservedFlags(0x80)));
}

fn compressed_frame(declared: usize, block: &[u8]) -> Vec<u8> {
    let mut f = vec![
        0,
        0,
        0,
        0,
        FRAME_VERSION,
        FLAG_LZ4,
        msg_type::TELEMETRY_BATCH,
    ];
    f.extend_from_slice(&(declared as u32).to_le_bytes());
    f.extend_from_slice(block);
    fix_len(f)
}

#[test]
fn compression_bombs_and_lies() {
    // 17 MiB of zeros compress to ~70 KB: refused from the declared size.
    let bomb = lz4_flex::block::compress(&vec![0u8; MAX_BODY_LEN + 1024 * 1024]);
    assert!(bomb.len() < MAX_FRAME_LEN);
    let err = decode(&compressed_frame(MAX_BODY_LEN + 1024 * 1024, &bomb)).unwrap_err();
    assert!(matches!(err, CodecError::BodyTooLarge { .. }));
    assert!(matches!(err.to_wire(), ErrorCode::TooLarge { .. }));

    // Declaring less than the block holds: the decompressor stops, no overflow.
    let err = decode(&compressed_frame(1024 * 1024, &bomb)).unwrap_err();
    assert!(matches!(err, CodecError::Decompress(_)), "{err:?}");

    // Declaring more than LZ4 can possibly produce from so few bytes.
    let err = decode(&compressed_frame(MAX_TELEMETRY_BODY_LEN, &[0x10, b'a'])).unwrap_err();
    assert!(matches!(err, CodecError::Decompress(_)), "{err:?}");

    // Declaring more than the block holds.
    let small = lz4_flex::block::compress(&[7u8; 4000]);
    let err = decode(&compressed_frame(4001, &small)).unwrap_err();
    assert!(matches!(err, CodecError::Decompress(_)), "{err:?}");

    // Garbage block.
    let err = decode(&compressed_frame(100, &[0xff; 40])).unwrap_err();
    assert!(matches!(err, CodecError::Decompress(_)), "{err:?}");
}

#[test]
fn each_type_has_its_own_body_limit_compressed_or_not() {
    for t in msg_type::ALL {
        let limit = max_body_len(t);
        let over = vec![0u8; limit + 1];
        let plain = frame::assemble(FRAME_VERSION, t, &over, false);
        if let Ok(f) = plain {
            let err = decode(&f).unwrap_err();
            assert_eq!(
                err,
                CodecError::BodyTooLarge {
                    len: limit + 1,
                    limit
                }
            );
        }
        if limit == MAX_BODY_LEN {
            continue; // a reply: the encoder refuses it (see below)
        }
        let packed = frame::assemble(FRAME_VERSION, t, &over, true).expect("compresses");
        let err = decode(&packed).unwrap_err();
        assert_eq!(
            err,
            CodecError::BodyTooLarge {
                len: limit + 1,
                limit
            },
            "type {t:#x}"
        );
        assert!(matches!(err.to_wire(), ErrorCode::TooLarge { .. }));
    }
    assert!(max_body_len(msg_type::STATUS_QUERY) < max_body_len(msg_type::TELEMETRY_BATCH));
}

#[test]
fn non_finite_numbers_are_refused_with_their_field() {
    let Message::Request(env, Request::Proposal(mut p)) = message("proposal") else {
        panic!("catalogue changed")
    };
    p.confidence = f64::NAN;
    let m = Message::Request(env.clone(), Request::Proposal(p.clone()));
    let field = |m: &Message| match decode(&raw(m)) {
        Err(CodecError::NonFinite { field }) => field,
        other => panic!("expected NonFinite, got {other:?}"),
    };
    assert_eq!(field(&m), "confidence");
    assert!(matches!(encode(&m), Err(CodecError::NonFinite { .. })));

    p.confidence = 0.5;
    p.changes[1].proposed_value = ParamValue::Float(f64::INFINITY);
    let m = Message::Request(env.clone(), Request::Proposal(p.clone()));
    assert_eq!(field(&m), "changes[1].proposed_value");

    p.changes[1].proposed_value = ParamValue::Float(0.5);
    p.expected_impact
        .insert("latency_p99".into(), f64::NEG_INFINITY);
    let m = Message::Request(env, Request::Proposal(p));
    assert_eq!(field(&m), "expected_impact.latency_p99");

    let Message::Request(env, Request::TelemetryBatch(mut b)) = message("telemetry_batch") else {
        panic!("catalogue changed")
    };
    b.samples[1].metrics.insert("error_rate".into(), f64::NAN);
    let m = Message::Request(env, Request::TelemetryBatch(b));
    assert_eq!(field(&m), "samples[1].metrics.error_rate");
    let wire = decode(&raw(&m)).unwrap_err().to_wire();
    assert!(
        matches!(wire, ErrorCode::InvalidMessage { field, .. } if field == "samples[1].metrics.error_rate")
    );

    let Message::Reply(Reply::Rollback(mut r)) = message("rollback") else {
        panic!("catalogue changed")
    };
    r.triggered_value = Some(f64::NAN);
    assert_eq!(
        field(&Message::Reply(Reply::Rollback(r))),
        "triggered_value"
    );
}

#[test]
fn non_canonical_and_invalid_encodings() {
    // status_query: prefix(4) header(3) session(fd + 8) seq(1 byte: 5)
    // ...; spell 5 as a u16 varint.
    let f = vector("status_query");
    assert_eq!(f[16], 5);
    let mut long = f[..16].to_vec();
    long.extend_from_slice(&[251, 5, 0]);
    long.extend_from_slice(&f[17..]);
    assert_eq!(
        decode(&fix_len(long)),
        Err(CodecError::NonCanonical { offset: 9 })
    );

    // Option tag 2 where the signature's None (0) is.
    let sig_at = 7 + 9 + 1 + 9; // session (0xfd + 8) + seq (1) + sent_at (0xfd + 8)
    assert_eq!(f[sig_at], 0);
    let mut bad = f.clone();
    bad[sig_at] = 2;
    assert!(matches!(decode(&bad), Err(CodecError::Body { .. })));

    // Invalid UTF-8 in the proposal id.
    let mut bad = f.clone();
    let last = bad.len() - 1;
    bad[last] = 0xff;
    assert!(matches!(decode(&bad), Err(CodecError::Body { .. })));

    // A name with a space.
    let mut bad = f;
    bad[last] = b' ';
    assert!(
        matches!(decode(&bad), Err(CodecError::Invalid { ref field, .. }) if field == "proposal_id")
    );
}

#[test]
fn inconsistent_content_is_invalid() {
    let Message::Reply(Reply::Approval(mut a)) = message("approval") else {
        panic!("catalogue changed")
    };
    a.decision = Decision::Approved; // the brief's example: one change was rejected
    let m = Message::Reply(Reply::Approval(a));
    assert!(
        matches!(encode(&m), Err(CodecError::Invalid { ref field, .. }) if field == "decision")
    );
    assert!(
        matches!(decode(&raw(&m)), Err(CodecError::Invalid { ref field, .. }) if field == "decision")
    );

    let m = Message::Request(
        Envelope {
            session: 1,
            seq: 1,
            sent_at: UnixMillis(-1),
            signature: None,
        },
        match message("status_query") {
            Message::Request(_, r) => r,
            _ => panic!("catalogue changed"),
        },
    );
    assert!(
        matches!(decode(&raw(&m)), Err(CodecError::Invalid { ref field, .. }) if field == "sent_at")
    );
}

#[test]
fn signed_bytes_are_context_header_seq_time_and_body() {
    let Message::Request(env, req) = message("proposal_signed") else {
        panic!("catalogue changed")
    };
    let signed = req.signed_bytes(&env).unwrap();
    let body = req.encode_body().unwrap();
    assert!(signed.starts_with(b"arqonbus-signature-v2\0\x02\x02"));
    assert!(signed.ends_with(&body));
    // session is 0xfd + 8 bytes; seq 42 is one byte; sent_at 0xfd + 8.
    assert_eq!(signed.len(), 22 + 2 + 9 + 1 + 9 + body.len());
    // The frame body is envelope then exactly these request bytes.
    let frame_body = Message::Request(env, req).encode_body().unwrap();
    assert!(frame_body.ends_with(&body));
}

#[test]
fn every_error_reply_fits_its_own_limits() {
    let Message::Request(env, Request::TelemetryBatch(b)) = message("telemetry_batch") else {
        panic!("catalogue changed")
    };
    let Message::Request(_, Request::Proposal(p)) = message("proposal") else {
        panic!("catalogue changed")
    };
    let long = "m".repeat(1000);
    let huge = "x".repeat(100_000);
    let control = format!("a\u{7}b\r\n{}", "é".repeat(700));
    for key in [long, huge, control] {
        let mut sample = b.samples[0].clone();
        sample.metrics.insert(key.clone(), 1.0);
        let batch = Request::TelemetryBatch(TelemetryBatch {
            samples: vec![sample],
        });
        let mut proposal = p.clone();
        proposal.expected_impact.insert(key.clone(), 1.0);
        for request in [batch, Request::Proposal(proposal)] {
            let m = Message::Request(env.clone(), request);
            let err = decode(&raw(&m)).unwrap_err();
            let reply = Message::Reply(Reply::Error(err.reply()));
            let frame = encode(&reply).unwrap_or_else(|e| panic!("{err:?} cannot be sent: {e}"));
            let Ok(Message::Reply(Reply::Error(back))) = decode(&frame) else {
                panic!("the reply decodes")
            };
            let ErrorCode::InvalidMessage { field, .. } = back.code else {
                panic!("{back:?}")
            };
            assert!(
                field.starts_with("samples[0].metrics.") || field.starts_with("expected_impact.")
            );
            assert!(frame.len() < 4 * 1024, "{} bytes", frame.len());
        }
    }
}
