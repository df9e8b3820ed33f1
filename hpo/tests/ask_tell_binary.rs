//! The `arqonbus-hpo ask-tell` binary driven over pipes, as another
//! language would: Branin from the committed space file, one bad line.

use arqonbus_hpo::objectives::branin;
use arqonbus_hpo::{Assignment, Value};
use serde_json::Value as Json;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

fn parameters(line: &Json) -> Assignment {
    let Some(Json::Object(map)) = line.get("parameters") else {
        panic!("an ask has parameters: {line}");
    };
    map.iter()
        .map(|(k, v)| (k.clone(), Value::Float(v.as_f64().expect("a number"))))
        .collect()
}

#[test]
fn drives_branin_over_json_lines() {
    let space = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/branin.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_arqonbus-hpo"))
        .args([
            "ask-tell", "--space", space, "--seed", "3", "--budget", "25",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut next = || -> Json { serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap() };
    let mut asks = 0;
    let mut errors = Vec::new();
    let done = loop {
        let line = next();
        if let Some(done) = line.get("done") {
            break done.clone();
        }
        if let Some(e) = line.get("error") {
            errors.push(e["kind"].as_str().unwrap_or_default().to_string());
            continue;
        }
        asks += 1;
        let id = line["id"].as_u64().expect("an id");
        let value = branin().true_value(&parameters(&line));
        if asks == 1 {
            writeln!(stdin, "{{\"id\": {id}, \"value\": \"oops\"}}").unwrap();
        }
        writeln!(stdin, "{{\"id\": {id}, \"value\": {value}}}").unwrap();
    };
    drop(stdin);
    assert!(child.wait().expect("exits").success());
    assert_eq!(errors, ["malformed"]);
    assert_eq!((asks, done["reason"].as_str()), (25, Some("budget")));
    let best = done["best"]["value"].as_f64().expect("a best value");
    assert!(best < 0.45, "best after 25: {best}");
}
