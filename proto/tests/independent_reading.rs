//! The golden vectors read by a second implementation, written in another
//! language from PROTOCOL.md alone (`proto/read_vectors.py`, Python 3
//! standard library): every frame must decode to its JSON view, and the
//! audit chain must recompute, from genesis, to the head the code wrote.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arqonbus_proto::operator::OperatorReply;
use arqonbus_proto::{vectors, Message, Reply};

const AUDIT_VECTOR: &str = "operated_audit_entries";

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the independent reader on `dir`.
fn read_vectors(dir: &Path) -> (Output, String) {
    let script = manifest().join("read_vectors.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `python3 {}` ({e}): the independent reading of PROTOCOL.md needs \
                 Python 3 (standard library only) on PATH",
                script.display()
            )
        });
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, stdout)
}

/// The head of the audit vector's chain, as the code computed it.
fn audit_head() -> String {
    let message = vectors::catalogue()
        .into_iter()
        .find(|(name, _)| *name == AUDIT_VECTOR)
        .map(|(_, m)| m);
    match message {
        Some(Message::Reply(Reply::Operated(OperatorReply::AuditEntries { entries, .. }))) => {
            let last = entries.last().expect("the audit vector has entries");
            hex::encode(last.hash)
        }
        other => panic!("{AUDIT_VECTOR} is not audit entries: {other:?}"),
    }
}

#[test]
fn every_vector_reads_from_the_spec_alone_and_the_audit_head_recomputes() {
    let dir = manifest().join("vectors");
    let (out, stdout) = read_vectors(&dir);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let count = vectors::catalogue().len();
    assert!(
        stdout.contains(&format!(
            "{count} of {count} vectors read from the spec alone"
        )),
        "{stdout}"
    );
    let head = format!(
        "ok   {AUDIT_VECTOR}.bin audit chain of 4, head {}",
        audit_head()
    );
    assert!(stdout.contains(&head), "expected `{head}` in:\n{stdout}");
}

/// Copies the vectors to a temporary directory for a test to damage.
fn copy_of_vectors() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(manifest().join("vectors")).expect("vectors") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("a file name");
        std::fs::copy(&path, tmp.path().join(name)).expect("copy a vector");
    }
    let dir = tmp.path().to_path_buf();
    (tmp, dir)
}

#[test]
fn the_reader_refuses_a_head_hash_that_does_not_recompute() {
    let (_tmp, dir) = copy_of_vectors();
    // Change the last hash (found by its bytes: the last entry's seal
    // follows it) in the frame and in its JSON alike, so only the
    // recomputation can tell.
    let bin_path = dir.join(format!("{AUDIT_VECTOR}.bin"));
    let mut bin = std::fs::read(&bin_path).expect("read");
    let head = hex::decode(audit_head()).expect("hex");
    let at = bin
        .windows(32)
        .position(|w| w == head.as_slice())
        .expect("the head hash is in the frame");
    let old = hex::encode(&bin[at..at + 32]);
    bin[at + 31] ^= 1;
    let new = hex::encode(&bin[at..at + 32]);
    std::fs::write(&bin_path, bin).expect("write");
    let json_path = dir.join(format!("{AUDIT_VECTOR}.json"));
    let json = std::fs::read_to_string(&json_path).expect("read");
    assert_eq!(
        json.matches(&old).count(),
        1,
        "the head is in the JSON once"
    );
    std::fs::write(&json_path, json.replace(&old, &new)).expect("write");

    let (out, stdout) = read_vectors(&dir);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "FAIL {AUDIT_VECTOR}.bin: Malformed: audit entry 4: hash does not match"
        )),
        "{stdout}"
    );
}

#[test]
fn the_reader_refuses_a_varint_not_in_its_shortest_form() {
    let (_tmp, dir) = copy_of_vectors();
    // status_query: seq 5 at byte 16 (after the session, fd + 8 bytes),
    // written long as fb 05 00.
    let path = dir.join("status_query.bin");
    let bin = std::fs::read(&path).expect("read");
    assert_eq!((bin[7], bin[16]), (0xfd, 5));
    let mut long = bin[..16].to_vec();
    long.extend([0xfb, 5, 0]);
    long.extend(&bin[17..]);
    let len = (long.len() - 4) as u32;
    long[..4].copy_from_slice(&len.to_le_bytes());
    std::fs::write(&path, long).expect("write");

    let (out, stdout) = read_vectors(&dir);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains("FAIL status_query.bin: Malformed: varint 5 not in its shortest form"),
        "{stdout}"
    );
}
