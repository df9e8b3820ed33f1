//! Constraint sets: what each parameter of a target may be.
//!
//! A constraint file (TOML or JSON, the same schema) lists, per parameter,
//! its `kind`, `min`/`max` (int, float) or `values` (enum), and a `default`:
//!
//! ```toml
//! format = 1
//! [parameters.batch_size]
//! kind = "int"
//! min = 1
//! max = 256
//! default = 32
//! ```
//!
//! A file that contradicts itself is refused whole, with every problem listed
//! by parameter name. Checking a value against a constraint names the
//! constraint it breaks (`max_batch_size`), which is what a rejection carries.

use crate::value::{ParamKind, ParamValue};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The newest constraint file format (format 1 files still load).
pub const FORMAT_VERSION: u64 = 2;

/// The limit on parameters per target, so one file cannot bloat the state
/// (the wire protocol carries at most this many in one message).
pub const MAX_PARAMETERS: usize = 256;

/// The longest parameter name: with a prefix such as `values_` a constraint
/// name must still fit the protocol's 128-byte names.
pub const MAX_NAME_LEN: usize = 120;

/// Members of one enum parameter.
pub const MAX_ENUM_VALUES: usize = 256;

/// Bytes in one enum member.
pub const MAX_VALUE_LEN: usize = 1024;

/// Enum members quoted in a violation's reason, so it stays short.
const QUOTED_VALUES: usize = 8;

/// One parameter's constraint, already checked for consistency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ParamConstraint {
    Int {
        min: i64,
        max: i64,
        default: i64,
    },
    Float {
        min: f64,
        max: f64,
        default: f64,
    },
    Enum {
        values: Vec<String>,
        default: String,
    },
    Bool {
        default: bool,
    },
}

/// The constraints of one target: parameter name to constraint.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ConstraintSet {
    pub parameters: BTreeMap<String, ParamConstraint>,
}

/// One thing wrong with a constraint file, tied to a parameter where it
/// has one, and to where it is in the file: `line N` for TOML, a JSON
/// pointer (`/rules/0/expr`) for JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub parameter: Option<String>,
    pub message: String,
    pub at: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.parameter {
            Some(p) => write!(f, "parameter `{p}`: {}", self.message)?,
            None => f.write_str(&self.message)?,
        }
        match &self.at {
            Some(at) => write!(f, " ({at})"),
            None => Ok(()),
        }
    }
}

/// Why a constraint file was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConstraintFileError {
    /// The file is not valid TOML/JSON; the message carries line and column.
    #[error("{path}: {message}")]
    Syntax { path: String, message: String },
    /// The file parses but contradicts itself.
    #[error("{path}: {} problem(s): {}", .problems.len(), join_problems(.problems))]
    Invalid {
        path: String,
        problems: Vec<Problem>,
    },
}

fn join_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A value that breaks a constraint, naming the constraint as rejections do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    pub parameter: String,
    /// `min_<p>`, `max_<p>`, `values_<p>`, `kind_<p>` or `unknown_parameter`.
    pub constraint: String,
    pub reason: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (constraint {})",
            self.parameter, self.reason, self.constraint
        )
    }
}

impl ParamConstraint {
    pub fn kind(&self) -> ParamKind {
        match self {
            ParamConstraint::Int { .. } => ParamKind::Int,
            ParamConstraint::Float { .. } => ParamKind::Float,
            ParamConstraint::Enum { .. } => ParamKind::Enum,
            ParamConstraint::Bool { .. } => ParamKind::Bool,
        }
    }

    pub fn default_value(&self) -> ParamValue {
        match self {
            ParamConstraint::Int { default, .. } => ParamValue::Int(*default),
            ParamConstraint::Float { default, .. } => ParamValue::Float(*default),
            ParamConstraint::Enum { default, .. } => ParamValue::Enum(default.clone()),
            ParamConstraint::Bool { default } => ParamValue::Bool(*default),
        }
    }

    /// Checks `value` for parameter `name`; returns the value in the
    /// parameter's kind (an int given for a float is widened).
    pub fn check(&self, name: &str, value: ParamValue) -> Result<ParamValue, Violation> {
        let violation = |constraint: String, reason: String| Violation {
            parameter: name.to_string(),
            constraint,
            reason,
        };
        if value.check_finite().is_err() {
            return Err(violation(
                format!("kind_{name}"),
                "value is not a finite number".into(),
            ));
        }
        let value = value.coerce(self.kind());
        match (self, &value) {
            (ParamConstraint::Int { min, max, .. }, ParamValue::Int(v)) => {
                range_check(name, *v, *min, *max).map_err(|(c, r)| violation(c, r))?
            }
            (ParamConstraint::Float { min, max, .. }, ParamValue::Float(v)) => {
                range_check(name, *v, *min, *max).map_err(|(c, r)| violation(c, r))?
            }
            (ParamConstraint::Enum { values, .. }, ParamValue::Enum(v)) => {
                if !values.contains(v) {
                    let shown: Vec<&String> = values.iter().take(QUOTED_VALUES).collect();
                    let more = values.len().saturating_sub(QUOTED_VALUES);
                    let tail = if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    };
                    return Err(violation(
                        format!("values_{name}"),
                        format!("{v:?} is not one of {shown:?}{tail}"),
                    ));
                }
            }
            (ParamConstraint::Bool { .. }, ParamValue::Bool(_)) => {}
            (c, v) => {
                return Err(violation(
                    format!("kind_{name}"),
                    format!("expected {}, got {} {v}", c.kind(), v.kind()),
                ))
            }
        }
        Ok(value)
    }

    /// The problems of one constraint on its own (min > max, bad default …).
    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        match self {
            ParamConstraint::Int { min, max, default } => {
                bound_problems(&mut out, *min, *max, *default)
            }
            ParamConstraint::Float { min, max, default } => {
                if !(min.is_finite() && max.is_finite() && default.is_finite()) {
                    out.push("min, max and default must be finite numbers".into());
                } else {
                    bound_problems(&mut out, *min, *max, *default)
                }
            }
            ParamConstraint::Enum { values, default } => {
                if values.is_empty() {
                    out.push("`values` is empty".into());
                }
                if values.len() > MAX_ENUM_VALUES {
                    out.push(format!("more than {MAX_ENUM_VALUES} `values`"));
                }
                if values
                    .iter()
                    .any(|v| v.is_empty() || v.len() > MAX_VALUE_LEN)
                {
                    out.push(format!("each of `values` is 1-{MAX_VALUE_LEN} bytes"));
                }
                let mut seen = std::collections::BTreeSet::new();
                for v in values {
                    if !seen.insert(v) {
                        out.push(format!("value {v:?} is listed twice"));
                    }
                }
                if !values.contains(default) {
                    out.push(format!("default {default:?} is not one of `values`"));
                }
            }
            ParamConstraint::Bool { .. } => {}
        }
        out
    }
}

fn range_check<T: PartialOrd + fmt::Display>(
    name: &str,
    v: T,
    min: T,
    max: T,
) -> Result<(), (String, String)> {
    if v < min {
        Err((
            format!("min_{name}"),
            format!("{v} is below the minimum {min}"),
        ))
    } else if v > max {
        Err((
            format!("max_{name}"),
            format!("{v} is above the maximum {max}"),
        ))
    } else {
        Ok(())
    }
}

fn bound_problems<T: PartialOrd + fmt::Display>(out: &mut Vec<String>, min: T, max: T, default: T) {
    if min > max {
        out.push(format!("min {min} is greater than max {max}"));
    } else if default < min || default > max {
        out.push(format!("default {default} is outside {min}..={max}"));
    }
}

impl ConstraintSet {
    /// Every problem in the set; empty when it is consistent.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        if self.parameters.is_empty() {
            out.push(Problem {
                parameter: None,
                message: "no parameters are defined".into(),
                at: None,
            });
        }
        if self.parameters.len() > MAX_PARAMETERS {
            out.push(Problem {
                parameter: None,
                message: format!("more than {MAX_PARAMETERS} parameters"),
                at: None,
            });
        }
        for (name, c) in &self.parameters {
            if let Err(message) = check_name(name) {
                out.push(Problem {
                    parameter: Some(name.clone()),
                    message,
                    at: None,
                });
            }
            out.extend(c.problems().into_iter().map(|message| Problem {
                parameter: Some(name.clone()),
                message,
                at: None,
            }));
        }
        out
    }

    /// The live values a target starts with: every default.
    pub fn defaults(&self) -> BTreeMap<String, ParamValue> {
        self.parameters
            .iter()
            .map(|(k, c)| (k.clone(), c.default_value()))
            .collect()
    }

    /// Checks a set of values; every violation is listed, in name order.
    pub fn check_all(
        &self,
        values: &BTreeMap<String, ParamValue>,
    ) -> Result<BTreeMap<String, ParamValue>, Vec<Violation>> {
        let mut ok = BTreeMap::new();
        let mut bad = Vec::new();
        for (name, value) in values {
            match self.parameters.get(name) {
                None => bad.push(Violation {
                    parameter: name.clone(),
                    constraint: "unknown_parameter".into(),
                    reason: "no such parameter in the target's constraints".into(),
                }),
                Some(c) => match c.check(name, value.clone()) {
                    Ok(v) => {
                        ok.insert(name.clone(), v);
                    }
                    Err(v) => bad.push(v),
                },
            }
        }
        if bad.is_empty() {
            Ok(ok)
        } else {
            Err(bad)
        }
    }
}

/// Parameter names are identifiers: they become constraint names and keys.
pub fn check_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "a name is 1-{MAX_NAME_LEN} characters of letters, digits, `_`, `-` or `.`"
        ))
    }
}
