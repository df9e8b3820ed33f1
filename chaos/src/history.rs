//! The history file: one JSON object per line, one line per event, in the
//! order the events happened. This module only reads the JSON shape; what the
//! events mean (pairing invocations with completions, values) is in
//! [`crate::ops`]. The format is documented in `chaos/README.md`.

use serde::Deserialize;
use std::io::BufRead;

/// What happened to an operation at this point of the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    /// Recorded just before the request is sent.
    Invoke,
    /// The operation took effect; a read's value is in this event.
    Ok,
    /// The operation definitely did not take effect.
    Fail,
    /// The outcome is unknown (timeout, connection lost mid-request).
    Info,
}

/// The operation an event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Function {
    Read,
    Write,
    Cas,
    /// Not a register operation: recorded in the same file, checked elsewhere.
    Propose,
    /// The rollout workload's events (`rollouts.rs`): not register
    /// operations either, checked by `rollout_check.rs`.
    Rollout,
}

impl Function {
    pub fn name(self) -> &'static str {
        match self {
            Function::Read => "read",
            Function::Write => "write",
            Function::Cas => "cas",
            Function::Propose => "propose",
            Function::Rollout => "rollout",
        }
    }
}

/// One line of the history. Fields not listed here are ignored, so the
/// harness may add its own (an error message, a node id).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Event {
    /// 1-based line number in the file; not part of the JSON.
    #[serde(skip)]
    pub line: usize,
    pub process: u64,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub f: Function,
    /// Absent only on events that are not register operations.
    #[serde(default)]
    pub key: Option<String>,
    /// Interpreted per function in [`crate::ops`]; absent means null.
    #[serde(default)]
    pub value: serde_json::Value,
    pub time_ns: u64,
}

/// A history that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot read the history: {0}")]
    Io(#[from] std::io::Error),
    #[error("line {line}: not a history event: {source}")]
    Malformed {
        line: usize,
        source: serde_json::Error,
    },
}

/// Parses one line (1-based number `line`) into an event.
pub fn parse_line(line: usize, text: &str) -> Result<Event, HistoryError> {
    let mut event: Event =
        serde_json::from_str(text).map_err(|source| HistoryError::Malformed { line, source })?;
    event.line = line;
    Ok(event)
}

/// Reads a whole history. Blank lines are skipped; any other line must be an
/// event, or the whole history is rejected with that line's number.
pub fn read_history(reader: impl BufRead) -> Result<Vec<Event>, HistoryError> {
    let mut events = Vec::new();
    for (index, text) in reader.lines().enumerate() {
        let text = text?;
        if text.trim().is_empty() {
            continue;
        }
        events.push(parse_line(index + 1, &text)?);
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_an_event_and_ignores_unknown_fields() {
        let text = r#"{"process": 3, "type": "ok", "f": "read", "key": "k", "value": 7, "time_ns": 12, "node": 2}"#;
        let event = parse_line(5, text).expect("valid event");
        assert_eq!(event.line, 5);
        assert_eq!(event.process, 3);
        assert_eq!(event.kind, EventType::Ok);
        assert_eq!(event.f, Function::Read);
        assert_eq!(event.key.as_deref(), Some("k"));
        assert_eq!(event.value, serde_json::json!(7));
        assert_eq!(event.time_ns, 12);
    }

    #[test]
    fn a_missing_value_is_null() {
        let text = r#"{"process": 0, "type": "invoke", "f": "read", "key": "k", "time_ns": 1}"#;
        let event = parse_line(1, text).expect("valid event");
        assert!(event.value.is_null());
    }

    #[test]
    fn a_malformed_line_names_its_line_number() {
        let input = concat!(
            r#"{"process": 0, "type": "invoke", "f": "read", "key": "k", "time_ns": 1}"#,
            "\n\n",
            r#"{"process": 0, "type": "done", "f": "read", "key": "k", "time_ns": 2}"#,
            "\n"
        );
        let err = read_history(input.as_bytes()).expect_err("bad type");
        assert!(matches!(err, HistoryError::Malformed { line: 3, .. }));
        assert!(err.to_string().starts_with("line 3:"), "{err}");
    }

    #[test]
    fn a_truncated_last_line_is_an_error() {
        let input = concat!(
            r#"{"process": 0, "type": "invoke", "f": "read", "key": "k", "time_ns": 1}"#,
            "\n",
            r#"{"process": 0, "type": "ok", "f": "re"#
        );
        let err = read_history(input.as_bytes()).expect_err("truncated");
        assert!(matches!(err, HistoryError::Malformed { line: 2, .. }));
    }
}
