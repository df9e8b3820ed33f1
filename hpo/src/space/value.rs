//! Parameter values and assignments (a value for each active parameter).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One parameter's value. In JSON: `3` is an int, `3.0` a float, `"lru"` an
/// enum member, `true` a bool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Float(f64),
    Enum(String),
}

/// A value for each active parameter, by name (sorted, so iteration and
/// serialisation are the same on every run).
pub type Assignment = BTreeMap<String, Value>;

impl Value {
    /// The value as a number, for int and float values.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(v) => Some(*v as f64),
            Value::Float(v) => Some(*v),
            _ => None,
        }
    }

    /// The name of the value's kind, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Enum(_) => "enum",
        }
    }

    /// True unless the value is a NaN or infinite float.
    pub fn is_finite(&self) -> bool {
        match self {
            Value::Float(v) => v.is_finite(),
            _ => true,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(v) => write!(f, "{v}"),
            Value::Int(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Enum(v) => write!(f, "{v:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_kinds_are_told_apart() {
        let parsed: Vec<Value> = serde_json::from_str(r#"[3, 3.0, "lru", true]"#).unwrap();
        assert_eq!(
            parsed,
            vec![
                Value::Int(3),
                Value::Float(3.0),
                Value::Enum("lru".into()),
                Value::Bool(true)
            ]
        );
    }
}
