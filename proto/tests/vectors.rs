//! Golden vectors: the committed files in `proto/vectors/` must decode to
//! the catalogue's messages, match their JSON, and re-encode to the same
//! bytes. This test never writes them; `cargo run --example regen-vectors`
//! does, on purpose.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use arqonbus_proto::json::JsonFrame;
use arqonbus_proto::{codec, frame, msg_type, vectors, Message, Reply, Request};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

#[test]
fn every_vector_decodes_matches_its_json_and_re_encodes_identically() {
    let entries = vectors::catalogue();
    assert!(entries.len() >= 25, "catalogue shrank");
    for (name, expected) in &entries {
        let bin = std::fs::read(dir().join(format!("{name}.bin")))
            .unwrap_or_else(|e| panic!("{name}.bin: {e} (run the regen-vectors example)"));
        let json = std::fs::read_to_string(dir().join(format!("{name}.json")))
            .unwrap_or_else(|e| panic!("{name}.json: {e}"));

        let decoded = codec::decode(&bin).unwrap_or_else(|e| panic!("{name}.bin: {e}"));
        assert_eq!(&decoded, expected, "{name}: binary differs from the code");

        let view: JsonFrame =
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("{name}.json: {e}"));
        assert_eq!(
            view.to_wire().unwrap(),
            decoded,
            "{name}: JSON differs from binary"
        );
        let ours = serde_json::to_value(JsonFrame::from_wire(&decoded).unwrap()).unwrap();
        let theirs: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(ours, theirs, "{name}: JSON view changed");
        assert_eq!(
            vectors::json_text(&decoded).unwrap(),
            json,
            "{name}: JSON text"
        );

        assert_eq!(
            codec::encode(&decoded).unwrap(),
            bin,
            "{name}: re-encoding differs"
        );
    }
}

#[test]
fn no_stray_vector_files_and_the_large_batch_is_compressed() {
    let names: Vec<String> = vectors::catalogue()
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    for f in std::fs::read_dir(dir()).unwrap() {
        let f = f.unwrap().file_name().to_string_lossy().into_owned();
        if f == "README.md" {
            continue;
        }
        let stem = f.trim_end_matches(".json").trim_end_matches(".bin");
        assert!(
            names.iter().any(|n| n == stem),
            "{f} is not in the catalogue"
        );
    }
    let bin = std::fs::read(dir().join("telemetry_batch_compressed.bin")).unwrap();
    let (header, _) = frame::split(&bin).unwrap();
    assert!(
        header.compressed(),
        "the large batch vector must exercise LZ4"
    );
    let bin = std::fs::read(dir().join("proposal.bin")).unwrap();
    assert!(!frame::split(&bin).unwrap().0.compressed());
}

#[test]
fn the_spec_quotes_the_code() {
    use arqonbus_proto::limits::*;
    let spec = std::fs::read_to_string(dir().join("../PROTOCOL.md")).unwrap();
    for (name, value) in [
        ("MAX_FRAME_LEN", MAX_FRAME_LEN),
        ("MAX_BODY_LEN", MAX_BODY_LEN),
        ("MAX_SAMPLES_PER_BATCH", MAX_SAMPLES_PER_BATCH),
        ("MAX_METRICS", MAX_METRICS),
        ("MAX_PARAMETERS", MAX_PARAMETERS),
        ("MAX_SUBSCRIBE_TARGETS", MAX_SUBSCRIBE_TARGETS),
        ("MAX_NAME_LEN", MAX_NAME_LEN),
        ("MAX_TEXT_LEN", MAX_TEXT_LEN),
        ("MAX_SIGNATURE_LEN", MAX_SIGNATURE_LEN),
        ("COMPRESS_THRESHOLD", COMPRESS_THRESHOLD),
        ("MAX_AUDIT_ENTRIES", MAX_AUDIT_ENTRIES),
        ("MAX_MEMBERS", MAX_MEMBERS),
        ("MAX_ENUM_VALUES", MAX_ENUM_VALUES),
        ("MAX_AUDIT_DETAILS_LEN", MAX_AUDIT_DETAILS_LEN),
        ("MAX_LISTED_PROPOSALS", MAX_LISTED_PROPOSALS),
        ("MAX_TELEMETRY_BODY_LEN", MAX_TELEMETRY_BODY_LEN),
        ("MAX_REQUEST_BODY_LEN", MAX_REQUEST_BODY_LEN),
        ("MAX_SUBSCRIBE_BODY_LEN", MAX_SUBSCRIBE_BODY_LEN),
        ("MAX_STATUS_QUERY_BODY_LEN", MAX_STATUS_QUERY_BODY_LEN),
        ("DECODED_FACTOR", DECODED_FACTOR),
        ("MAX_ELEMENTS", MAX_ELEMENTS),
        ("QUOTED_LEN", QUOTED_LEN),
        ("MAX_RECENT", MAX_RECENT),
    ] {
        let row = format!("| {name} | {value} |");
        assert!(spec.contains(&row), "PROTOCOL.md lacks the row {row:?}");
    }
    let walked = hex::encode(std::fs::read(dir().join("status_query.bin")).unwrap());
    assert!(
        spec.contains(&format!("Full hex: `{walked}`")),
        "PROTOCOL.md's byte-by-byte example is not status_query.bin"
    );
    let types = [
        (msg_type::TELEMETRY_BATCH, "telemetry_batch"),
        (msg_type::PROPOSAL, "proposal"),
        (msg_type::SUBSCRIBE, "subscribe"),
        (msg_type::STATUS_QUERY, "status_query"),
        (msg_type::OPERATE, "operate"),
        (msg_type::ERROR, "error"),
        (msg_type::TELEMETRY_ACK, "telemetry_ack"),
        (msg_type::APPROVAL, "approval"),
        (msg_type::STATUS, "status"),
        (msg_type::ROLLBACK, "rollback"),
        (msg_type::SUBSCRIBED, "subscribed"),
        (msg_type::EVENT, "event"),
        (msg_type::OPERATED, "operated"),
        (msg_type::WORKFLOW, "workflow"),
        (msg_type::WORKFLOWED, "workflowed"),
        (msg_type::WATCH_ASSIGNMENT, "watch_assignment"),
        (msg_type::TAGGED_TELEMETRY, "tagged_telemetry"),
        (msg_type::ROLLOUT, "rollout"),
        (msg_type::ASSIGNMENT, "assignment"),
        (msg_type::ROLLOUT_STATUS, "rollout_status"),
    ];
    assert_eq!(
        types.len(),
        msg_type::ALL.len(),
        "a type code is missing here"
    );
    for (code, name) in types {
        assert!(msg_type::ALL.contains(&code));
        let row = format!("| `0x{code:02x}` | `{name}` |");
        assert!(spec.contains(&row), "PROTOCOL.md lacks {row:?}");
    }
    // Operator variants: index (first body byte of the request after the
    // envelope, or of the reply) and snake_case name (the JSON view's tag).
    let (mut actions, mut results) = (BTreeSet::new(), BTreeSet::new());
    for (name, msg) in vectors::catalogue() {
        let (index, tag, seen) = match &msg {
            Message::Request(_, req @ Request::Operate(_)) => {
                (req.encode_body().unwrap()[0], "action", &mut actions)
            }
            Message::Reply(Reply::Operated(_)) => {
                (msg.encode_body().unwrap()[0], "result", &mut results)
            }
            _ => continue,
        };
        let view = serde_json::to_value(JsonFrame::from_wire(&msg).unwrap()).unwrap();
        let variant = view["message"][tag].as_str().unwrap().to_string();
        let row = format!("| {index} | `{variant}` |");
        assert!(spec.contains(&row), "{name}: PROTOCOL.md lacks {row:?}");
        seen.insert(index);
    }
    // Every variant has a vector: indices 0..n without gaps.
    assert_eq!(
        actions,
        (0..11).collect(),
        "an OperatorRequest lacks a vector"
    );
    assert_eq!(
        results,
        (0..10).collect(),
        "an OperatorReply lacks a vector"
    );
    for (name, msg) in vectors::catalogue() {
        if let Message::Reply(Reply::Error(e)) = &msg {
            let bin = std::fs::read(dir().join(format!("{name}.bin"))).unwrap();
            let row = format!("| {} | `{}` |", bin[7], e.code.name());
            assert!(
                spec.contains(&row),
                "PROTOCOL.md lacks the error row {row:?}"
            );
        }
    }
    let alpn = std::str::from_utf8(arqonbus_proto::ALPN_CLIENT).unwrap();
    assert!(spec.contains(&format!("`{alpn}`")));
}
