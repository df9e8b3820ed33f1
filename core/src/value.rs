//! Typed parameter values: the only kinds a constraint can describe and a
//! target can hold. Floats are always finite; constructing one from NaN or an
//! infinity fails, so no non-finite number ever reaches the replicated state.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The kind of a parameter, as written in a constraint file (`kind = "int"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamKind {
    Int,
    Float,
    Enum,
    Bool,
}

impl ParamKind {
    /// The name used in files, errors and the audit log.
    pub fn name(self) -> &'static str {
        match self {
            ParamKind::Int => "int",
            ParamKind::Float => "float",
            ParamKind::Enum => "enum",
            ParamKind::Bool => "bool",
        }
    }
}

impl fmt::Display for ParamKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One parameter value. `Enum` holds the chosen member of the allowed set.
///
/// The serde form is externally tagged (`{"Int": 32}`) so that it survives
/// bincode, which is not self-describing; human-facing JSON uses
/// [`ParamValue::to_json`] and [`ParamValue::from_json`] instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ParamValue {
    Int(i64),
    Float(f64),
    Enum(String),
    Bool(bool),
}

/// A value that cannot be a parameter value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    #[error("value is not a finite number")]
    NonFinite,
    #[error("value {0} is not an int, float, string or bool")]
    Unsupported(String),
}

impl ParamValue {
    /// The bytes this value holds on the heap (an enum member's text).
    pub fn heap_bytes(&self) -> u64 {
        match self {
            ParamValue::Enum(s) => s.len() as u64,
            _ => 0,
        }
    }

    /// A float value, refusing NaN and infinities.
    pub fn float(v: f64) -> Result<Self, ValueError> {
        if v.is_finite() {
            Ok(ParamValue::Float(v))
        } else {
            Err(ValueError::NonFinite)
        }
    }

    pub fn kind(&self) -> ParamKind {
        match self {
            ParamValue::Int(_) => ParamKind::Int,
            ParamValue::Float(_) => ParamKind::Float,
            ParamValue::Enum(_) => ParamKind::Enum,
            ParamValue::Bool(_) => ParamKind::Bool,
        }
    }

    /// Checks the invariant that holds for every value in the state.
    pub fn check_finite(&self) -> Result<(), ValueError> {
        match self {
            ParamValue::Float(v) if !v.is_finite() => Err(ValueError::NonFinite),
            _ => Ok(()),
        }
    }

    /// The value as a number, for range checks (ints widen to f64 only here).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            ParamValue::Int(v) => Some(*v as f64),
            ParamValue::Float(v) => Some(*v),
            _ => None,
        }
    }

    /// The plain JSON form: `32`, `0.7`, `"fast"`, `true`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            ParamValue::Int(v) => serde_json::Value::from(*v),
            ParamValue::Float(v) => serde_json::Value::from(*v),
            ParamValue::Enum(v) => serde_json::Value::from(v.clone()),
            ParamValue::Bool(v) => serde_json::Value::from(*v),
        }
    }

    /// Reads the plain JSON form. An integer literal becomes `Int`, a number
    /// with a fraction or exponent `Float`; the caller coerces with
    /// [`ParamValue::coerce`] once it knows the parameter's kind.
    pub fn from_json(v: &serde_json::Value) -> Result<Self, ValueError> {
        match v {
            serde_json::Value::Bool(b) => Ok(ParamValue::Bool(*b)),
            serde_json::Value::String(s) => Ok(ParamValue::Enum(s.clone())),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Ok(ParamValue::Int(i)),
                None => n
                    .as_f64()
                    .ok_or(ValueError::NonFinite)
                    .and_then(ParamValue::float),
            },
            other => Err(ValueError::Unsupported(other.to_string())),
        }
    }

    /// Parses a command-line value (`k=v`): `true`/`false`, an integer, a
    /// float, or else an enum member.
    pub fn parse_text(text: &str) -> Result<Self, ValueError> {
        match text {
            "true" => return Ok(ParamValue::Bool(true)),
            "false" => return Ok(ParamValue::Bool(false)),
            _ => {}
        }
        if let Ok(i) = text.parse::<i64>() {
            return Ok(ParamValue::Int(i));
        }
        if let Ok(f) = text.parse::<f64>() {
            return ParamValue::float(f);
        }
        Ok(ParamValue::Enum(text.to_string()))
    }

    /// Converts a value to the given kind where that loses nothing: an int
    /// written for a float parameter (`temperature = 1`) becomes `1.0`.
    /// Any other mismatch is returned unchanged for the caller to refuse.
    pub fn coerce(self, kind: ParamKind) -> Self {
        match (self, kind) {
            (ParamValue::Int(i), ParamKind::Float) => ParamValue::Float(i as f64),
            (v, _) => v,
        }
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Int(v) => write!(f, "{v}"),
            ParamValue::Float(v) => write!(f, "{v:?}"),
            ParamValue::Enum(v) => write!(f, "{v:?}"),
            ParamValue::Bool(v) => write!(f, "{v}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_floats_are_refused() {
        assert_eq!(ParamValue::float(f64::NAN), Err(ValueError::NonFinite));
        assert_eq!(ParamValue::float(f64::INFINITY), Err(ValueError::NonFinite));
        assert_eq!(ParamValue::parse_text("NaN"), Err(ValueError::NonFinite));
        assert_eq!(ParamValue::parse_text("inf"), Err(ValueError::NonFinite));
        assert!(ParamValue::Float(f64::NAN).check_finite().is_err());
        assert_eq!(ParamValue::float(0.5), Ok(ParamValue::Float(0.5)));
    }

    #[test]
    fn text_values_parse_by_shape() {
        assert_eq!(ParamValue::parse_text("48"), Ok(ParamValue::Int(48)));
        assert_eq!(ParamValue::parse_text("0.6"), Ok(ParamValue::Float(0.6)));
        assert_eq!(ParamValue::parse_text("true"), Ok(ParamValue::Bool(true)));
        assert_eq!(
            ParamValue::parse_text("fast"),
            Ok(ParamValue::Enum("fast".into()))
        );
    }

    #[test]
    fn json_round_trip_and_coercion() {
        for v in [
            ParamValue::Int(-3),
            ParamValue::Float(0.25),
            ParamValue::Enum("a".into()),
            ParamValue::Bool(false),
        ] {
            assert_eq!(ParamValue::from_json(&v.to_json()), Ok(v));
        }
        assert_eq!(
            ParamValue::Int(1).coerce(ParamKind::Float),
            ParamValue::Float(1.0)
        );
        assert_eq!(
            ParamValue::Int(1).coerce(ParamKind::Int),
            ParamValue::Int(1)
        );
    }
}
