//! The lines of the ask-tell protocol. The engine writes an ask (a
//! proposal), an error, or `done`; the driver answers each ask with one of
//!
//! ```json
//! {"id": 3, "value": 1.25}
//! {"id": 3, "rejected": {"parameter": "n", "allowed": {"min": 0, "max": 8}}}
//! {"id": 3, "rolled_back": {"observed": 9.5, "quarantine_until_ms": 60000}}
//! ```
//!
//! `rejected` may also be a list (one entry per parameter). Any answer may
//! carry `"now_ms"`, the driver's clock, which quarantines are measured on.

use crate::error::HpoError;
use crate::feedback::{Millis, ParameterRejection, ProposalId, Rejection, Rollback};
use crate::space::Assignment;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One answer line as it arrives.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerLine {
    id: ProposalId,
    value: Option<f64>,
    rejected: Option<OneOrMany>,
    rolled_back: Option<RollbackBody>,
    now_ms: Option<Millis>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(ParameterRejection),
    Many(Vec<ParameterRejection>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackBody {
    observed: Option<f64>,
    restored: Option<Assignment>,
    quarantine_until_ms: Option<Millis>,
    #[serde(default)]
    distance: BTreeMap<String, f64>,
}

/// What one answer says.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Observed { id: ProposalId, value: f64 },
    Rejected(Rejection),
    RolledBack(Rollback),
}

/// Why an answer line could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LineError {
    #[error("malformed answer: {0}")]
    Malformed(String),
    #[error(transparent)]
    Engine(#[from] HpoError),
}

impl LineError {
    pub fn kind(&self) -> &'static str {
        match self {
            LineError::Malformed(_) => "malformed",
            LineError::Engine(e) => e.kind(),
        }
    }
}

/// Parses one answer line into the answer and the clock it carries.
pub fn parse_answer(line: &str) -> Result<(Answer, Option<Millis>), LineError> {
    let a: AnswerLine =
        serde_json::from_str(line).map_err(|e| LineError::Malformed(e.to_string()))?;
    let answer = match (a.value, a.rejected, a.rolled_back) {
        (Some(value), None, None) => Answer::Observed { id: a.id, value },
        (None, Some(r), None) => Answer::Rejected(Rejection {
            proposal: a.id,
            parameters: match r {
                OneOrMany::One(p) => vec![p],
                OneOrMany::Many(ps) => ps,
            },
        }),
        (None, None, Some(b)) => Answer::RolledBack(Rollback {
            proposal: a.id,
            observed: b.observed,
            restored: b.restored,
            quarantine_until_ms: b.quarantine_until_ms,
            distance: b.distance,
        }),
        _ => {
            return Err(LineError::Malformed(
                "an answer has exactly one of `value`, `rejected`, `rolled_back`".into(),
            ))
        }
    };
    Ok((answer, a.now_ms))
}

/// A line the engine writes.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Output<'a> {
    Ask(&'a crate::engine::Proposal),
    Error { error: ErrorBody },
    Done { done: Done },
}

#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub kind: &'static str,
    pub message: String,
    /// The input line it is about, counted from 1.
    pub line: Option<usize>,
}

/// The last line: why the engine stopped, and the best point.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Done {
    pub reason: &'static str,
    pub asked: usize,
    pub observed: usize,
    pub best: Option<Best>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Best {
    pub id: ProposalId,
    pub parameters: Assignment,
    pub value: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse() {
        let (a, now) = parse_answer(r#"{"id": 3, "value": 1.5, "now_ms": 7}"#).unwrap();
        assert_eq!(a, Answer::Observed { id: 3, value: 1.5 });
        assert_eq!(now, Some(7));
        let (a, _) = parse_answer(
            r#"{"id": 3, "rejected": [{"parameter": "n", "allowed": {"min": 0, "max": 8}}]}"#,
        )
        .unwrap();
        assert!(matches!(a, Answer::Rejected(r) if r.parameters.len() == 1));
        let (a, _) = parse_answer(r#"{"id": 3, "rolled_back": {"observed": 2.0}}"#).unwrap();
        assert!(matches!(a, Answer::RolledBack(r) if r.observed == Some(2.0)));
    }

    #[test]
    fn bad_lines_are_malformed() {
        for line in [
            "not json",
            r#"{"id": 1}"#,
            r#"{"id": 1, "value": NaN}"#,
            r#"{"id": 1, "value": 1e999}"#,
            r#"{"id": 1, "value": "1"}"#,
            r#"{"id": 1, "value": 1, "rolled_back": {}}"#,
            r#"{"id": -1, "value": 1}"#,
            r#"{"id": 1, "valeu": 1}"#,
        ] {
            let err = parse_answer(line).unwrap_err();
            assert_eq!(err.kind(), "malformed", "{line}");
        }
    }
}
