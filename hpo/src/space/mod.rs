//! Search spaces: the parameters a proposer may change, their kinds and
//! hard ranges, which parameters are active only under a condition, the
//! step limits around the live value, and the objective's direction.
//!
//! A space is checked whole when it is built; a `Space` value is always
//! consistent. `file` reads one from TOML, `encode` maps assignments into
//! the unit cube the models work in.

mod check;
mod encode;
pub(crate) mod file;
mod value;

pub use file::load_space_file;
pub use value::{Assignment, Value};

use crate::error::HpoError;
use serde::{Deserialize, Serialize};

/// What kind of values a parameter takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Kind {
    /// Integers in `[min, max]`, on a log scale when `log`.
    Int {
        min: i64,
        max: i64,
        log: bool,
    },
    /// Reals in `[min, max]`, on a log scale when `log`.
    Float {
        min: f64,
        max: f64,
        log: bool,
    },
    /// One of the listed members.
    Enum {
        values: Vec<String>,
    },
    Bool,
}

/// A parameter is active only while another (enum or bool) parameter has
/// one of the listed values; an inactive parameter is absent from proposals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    pub parameter: String,
    pub values: Vec<Value>,
}

/// How far one proposal may move a numeric parameter from its live value.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct StepLimit {
    pub max_step_abs: Option<f64>,
    pub max_step_rel: Option<f64>,
}

/// One parameter of the space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parameter {
    pub name: String,
    pub kind: Kind,
    pub when: Option<Condition>,
    pub step: StepLimit,
    /// The value the target system runs now, if known.
    pub live: Option<Value>,
}

/// Whether lower or higher objective values are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    #[default]
    Minimize,
    Maximize,
}

impl Direction {
    /// The factor that turns an objective value into one to minimise.
    pub fn sign(self) -> f64 {
        match self {
            Direction::Minimize => 1.0,
            Direction::Maximize => -1.0,
        }
    }
}

/// A consistent set of parameters, sorted by name.
#[derive(Debug, Clone, PartialEq)]
pub struct Space {
    parameters: Vec<Parameter>,
    direction: Direction,
}

impl Space {
    /// Builds a space, refusing it whole (every problem listed) if it
    /// contradicts itself.
    pub fn new(mut parameters: Vec<Parameter>, direction: Direction) -> Result<Space, HpoError> {
        parameters.sort_by(|a, b| a.name.cmp(&b.name));
        let space = Space {
            parameters,
            direction,
        };
        let problems = space.problems();
        if problems.is_empty() {
            Ok(space)
        } else {
            Err(HpoError::InvalidSpace(problems))
        }
    }

    pub fn parameters(&self) -> &[Parameter] {
        &self.parameters
    }

    pub fn direction(&self) -> Direction {
        self.direction
    }

    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.name == name)
    }

    /// The parameter named `name`, or the typed error for an unknown one.
    pub fn require(&self, name: &str) -> Result<&Parameter, HpoError> {
        self.parameter(name)
            .ok_or_else(|| HpoError::UnknownParameter(name.to_string()))
    }

    /// The live values the space file gave.
    pub fn live(&self) -> Assignment {
        self.parameters
            .iter()
            .filter_map(|p| p.live.clone().map(|v| (p.name.clone(), v)))
            .collect()
    }

    /// Whether `name` is active under `assignment` (its condition, and its
    /// parent's, hold). Conditions are acyclic, checked in `new`.
    pub fn is_active(&self, name: &str, assignment: &Assignment) -> bool {
        let Some(p) = self.parameter(name) else {
            return false;
        };
        match &p.when {
            None => true,
            Some(c) => {
                self.is_active(&c.parameter, assignment)
                    && assignment
                        .get(&c.parameter)
                        .is_some_and(|v| c.values.contains(v))
            }
        }
    }

    /// Drops the parameters that are inactive under the rest of `assignment`.
    pub fn prune_inactive(&self, assignment: &mut Assignment) {
        let full = assignment.clone();
        assignment.retain(|name, _| self.is_active(name, &full));
    }

    /// Checks `value` for parameter `name` and returns it in the
    /// parameter's kind (an int given for a float is widened).
    pub fn coerce(&self, name: &str, value: &Value) -> Result<Value, HpoError> {
        let p = self.require(name)?;
        if !value.is_finite() {
            return Err(HpoError::NotFinite {
                what: format!("value of `{name}`"),
            });
        }
        let mismatch = || HpoError::KindMismatch {
            parameter: name.to_string(),
            expected: kind_name(&p.kind).to_string(),
            got: format!("{} {value}", value.kind_name()),
        };
        match (&p.kind, value) {
            (Kind::Int { .. }, Value::Int(_)) | (Kind::Bool, Value::Bool(_)) => Ok(value.clone()),
            (Kind::Float { .. }, Value::Float(_)) => Ok(value.clone()),
            (Kind::Float { .. }, Value::Int(v)) => Ok(Value::Float(*v as f64)),
            (Kind::Enum { values }, Value::Enum(v)) if values.contains(v) => Ok(value.clone()),
            _ => Err(mismatch()),
        }
    }

    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.parameters.is_empty() {
            out.push("the space has no parameters".to_string());
        }
        for w in self.parameters.windows(2) {
            if w[0].name == w[1].name {
                out.push(format!("parameter `{}` is listed twice", w[0].name));
            }
        }
        for p in &self.parameters {
            out.extend(
                check::parameter_problems(self, p)
                    .into_iter()
                    .map(|m| format!("parameter `{}`: {m}", p.name)),
            );
        }
        out
    }
}

/// The name of a kind, for messages.
pub fn kind_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Int { .. } => "int",
        Kind::Float { .. } => "float",
        Kind::Enum { .. } => "enum",
        Kind::Bool => "bool",
    }
}

/// The hard range of a numeric kind, as reals.
pub fn numeric_range(kind: &Kind) -> Option<(f64, f64)> {
    match kind {
        Kind::Int { min, max, .. } => Some((*min as f64, *max as f64)),
        Kind::Float { min, max, .. } => Some((*min, *max)),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests;
