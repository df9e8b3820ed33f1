//! Runs the `arqonbus-chaos check` binary on history files and checks what
//! the chaos suite relies on: the exit code, and the failing key in stdout.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const WRITE_5: &str = r#"{"process":0,"type":"invoke","f":"write","key":"reg-7","value":5,"time_ns":100}
{"process":0,"type":"ok","f":"write","key":"reg-7","value":5,"time_ns":200}
"#;

fn history(dir: &Path, name: &str, read: &str) -> PathBuf {
    let read = format!(
        r#"{{"process":1,"type":"invoke","f":"read","key":"reg-7","value":null,"time_ns":300}}
{{"process":1,"type":"ok","f":"read","key":"reg-7","value":{read},"time_ns":400}}
"#
    );
    let path = dir.join(name);
    std::fs::write(&path, format!("{WRITE_5}{read}")).expect("write history");
    path
}

fn check(path: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_arqonbus-chaos"))
        .arg("check")
        .arg(path)
        .output()
        .expect("run arqonbus-chaos")
}

#[test]
fn a_linearizable_history_exits_zero() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = check(&history(dir.path(), "good.jsonl", "5"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("linearizable: 1 keys"), "{stdout}");
}

#[test]
fn a_violation_exits_non_zero_and_names_the_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = check(&history(dir.path(), "bad.jsonl", "null"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(r#"key "reg-7": NOT linearizable"#),
        "{stdout}"
    );
}

#[test]
fn a_malformed_history_exits_non_zero_naming_the_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("broken.jsonl");
    std::fs::write(&path, format!("{WRITE_5}{{\"process\": 1,")).expect("write history");
    let output = check(&path);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("line 3"), "{stderr}");
}
