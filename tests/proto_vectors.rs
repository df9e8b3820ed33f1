//! Golden vectors: the committed files in `proto/vectors/` must decode to
//! the catalogue's messages, match their JSON, and re-encode to the same
//! bytes. This test never writes them; `cargo run --example regen-vectors`
//! does, on purpose.

use std::path::{Path, PathBuf};

use arqonbus::proto::json::JsonFrame;
use arqonbus::proto::{codec, frame, vectors};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("proto/vectors")
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
