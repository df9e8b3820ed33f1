use super::*;
use crate::engine::EngineConfig;
use crate::space::tests::one_float;
use serde_json::Value as Json;

fn drive(input: &str, budget: Option<usize>) -> (Vec<Json>, Done, Engine) {
    let mut engine = Engine::new(one_float(), &EngineConfig::default());
    let mut out = Vec::new();
    let done = run(&mut engine, input.as_bytes(), &mut out, Options { budget }).unwrap();
    let lines = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (lines, done, engine)
}

#[test]
fn asks_until_the_budget_then_reports_the_best() {
    let input = "{\"id\":1,\"value\":3.0}\n{\"id\":2,\"value\":1.0}\n{\"id\":3,\"value\":2.0}\n";
    let (lines, done, _) = drive(input, Some(3));
    assert_eq!(lines.len(), 4);
    for (i, line) in lines[..3].iter().enumerate() {
        assert_eq!(line["id"], i as u64 + 1);
        assert!(line["parameters"]["x"].is_f64());
    }
    assert_eq!(lines[3]["done"]["reason"], "budget");
    assert_eq!(done.best.map(|b| (b.id, b.value)), Some((2, 1.0)));
}

#[test]
fn bad_answers_get_an_error_line_and_change_nothing() {
    let input = [
        "garbage",
        r#"{"id": 9, "value": 1.0}"#,
        r#"{"id": 1, "value": 1e400}"#,
        r#"{"id": 1, "rejected": {"parameter": "y", "allowed": {"min": 0, "max": 1}}}"#,
        r#"{"id": 1, "rejected": {"parameter": "x", "allowed": {"values": ["a"]}}}"#,
        r#"{"id": 1, "rolled_back": {"observed": 1.0, "distance": {"y": 1.0}}}"#,
        "",
        r#"{"id": 1, "value": 0.5}"#,
    ]
    .join("\n");
    let (lines, done, engine) = drive(&input, Some(1));
    let kinds: Vec<&str> = lines
        .iter()
        .filter_map(|l| l["error"]["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "malformed",
            "unknown_id",
            "malformed",
            "unknown_parameter",
            "kind_mismatch",
            "unknown_parameter"
        ]
    );
    assert_eq!(lines[1]["error"]["line"], 1);
    assert_eq!(engine.history().len(), 1);
    assert_eq!(engine.rejections(), 0);
    assert_eq!(done.reason, "budget");
}

#[test]
fn a_rejection_shrinks_what_is_asked_next() {
    let mut input = String::from(
        "{\"id\":1,\"rejected\":{\"parameter\":\"x\",\"allowed\":{\"min\":0.0,\"max\":0.1}}}\n",
    );
    for id in 2..=10 {
        input.push_str(&format!("{{\"id\":{id},\"value\":{id}.0}}\n"));
    }
    let (lines, _, _) = drive(&input, Some(10));
    for line in &lines[1..10] {
        let x = line["parameters"]["x"].as_f64().unwrap();
        assert!((0.0..=0.1).contains(&x), "{x}");
    }
}

#[test]
fn the_end_of_input_ends_the_run() {
    let (lines, done, _) = drive("{\"id\":1,\"value\":1.0}\n", None);
    assert_eq!(done.reason, "input_closed");
    assert_eq!(done.asked, 2);
    assert_eq!(lines.last().unwrap()["done"]["observed"], 1);
}

#[test]
fn a_converged_engine_told_to_stop_says_so() {
    let config = EngineConfig {
        algorithm: crate::engine::Algorithm::Random,
        patience: 2,
        stop_when_converged: true,
        ..EngineConfig::default()
    };
    let mut engine = Engine::new(one_float(), &config);
    let input: String = (1..=10)
        .map(|id| format!("{{\"id\":{id},\"value\":1.0}}\n"))
        .collect();
    let mut out = Vec::new();
    let done = run(&mut engine, input.as_bytes(), &mut out, Options::default()).unwrap();
    // One first value, then four that are no better: two patience periods.
    assert_eq!((done.reason, done.asked), ("converged", 5));
}
