//! The space file: TOML, one table per parameter. See `hpo/README.md` and
//! `hpo/examples/space.toml`.
//!
//! ```toml
//! direction = "minimize"
//! [parameters.batch_size]
//! kind = "int"
//! min = 1
//! max = 256
//! log = true
//! live = 32
//! max_step_abs = 16
//! [parameters.cache_mb]
//! kind = "int"
//! min = 16
//! max = 4096
//! when = { parameter = "policy", in = ["lru", "lfu"] }
//! ```

use super::{Condition, Direction, Kind, Parameter, Space, StepLimit, Value};
use crate::error::HpoError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpaceFile {
    #[serde(default)]
    direction: Direction,
    parameters: BTreeMap<String, ParameterEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParameterEntry {
    kind: String,
    min: Option<Value>,
    max: Option<Value>,
    #[serde(default)]
    log: bool,
    values: Option<Vec<String>>,
    live: Option<Value>,
    when: Option<ConditionEntry>,
    max_step_abs: Option<f64>,
    max_step_rel: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionEntry {
    parameter: String,
    #[serde(rename = "in")]
    values: Vec<Value>,
}

/// Reads and checks a space file.
pub fn load_space_file(path: &Path) -> Result<Space, HpoError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| HpoError::SpaceSyntax {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    parse_space(&text).map_err(|e| match e {
        HpoError::SpaceSyntax { message, .. } => HpoError::SpaceSyntax {
            path: shown,
            message,
        },
        other => other,
    })
}

/// Parses the text of a space file.
pub fn parse_space(text: &str) -> Result<Space, HpoError> {
    let file: SpaceFile = toml::from_str(text).map_err(|e| HpoError::SpaceSyntax {
        path: "<text>".into(),
        message: e.to_string(),
    })?;
    let mut parameters = Vec::new();
    let mut problems = Vec::new();
    for (name, entry) in file.parameters {
        match entry.into_parameter(&name) {
            Ok(p) => parameters.push(p),
            Err(m) => problems.push(format!("parameter `{name}`: {m}")),
        }
    }
    if !problems.is_empty() {
        return Err(HpoError::InvalidSpace(problems));
    }
    Space::new(parameters, file.direction)
}

impl ParameterEntry {
    fn into_parameter(self, name: &str) -> Result<Parameter, String> {
        let kind = self.kind()?;
        Ok(Parameter {
            name: name.to_string(),
            kind,
            when: self.when.map(|c| Condition {
                parameter: c.parameter,
                values: c.values,
            }),
            step: StepLimit {
                max_step_abs: self.max_step_abs,
                max_step_rel: self.max_step_rel,
            },
            live: self.live,
        })
    }

    fn kind(&self) -> Result<Kind, String> {
        let numeric = self.kind == "int" || self.kind == "float";
        if !numeric && (self.min.is_some() || self.max.is_some() || self.log) {
            return Err(format!(
                "min, max and log are for int and float, not {}",
                self.kind
            ));
        }
        if self.kind != "enum" && self.values.is_some() {
            return Err(format!("values is for enum, not {}", self.kind));
        }
        match self.kind.as_str() {
            "int" => Ok(Kind::Int {
                min: int_bound("min", &self.min)?,
                max: int_bound("max", &self.max)?,
                log: self.log,
            }),
            "float" => Ok(Kind::Float {
                min: float_bound("min", &self.min)?,
                max: float_bound("max", &self.max)?,
                log: self.log,
            }),
            "enum" => Ok(Kind::Enum {
                values: self.values.clone().ok_or("an enum needs `values`")?,
            }),
            "bool" => Ok(Kind::Bool),
            other => Err(format!("unknown kind `{other}` (int, float, enum, bool)")),
        }
    }
}

fn int_bound(what: &str, v: &Option<Value>) -> Result<i64, String> {
    match v {
        Some(Value::Int(i)) => Ok(*i),
        Some(other) => Err(format!("{what} must be an integer, got {other}")),
        None => Err(format!("missing `{what}`")),
    }
}

fn float_bound(what: &str, v: &Option<Value>) -> Result<f64, String> {
    match v.as_ref().and_then(Value::as_f64) {
        Some(f) => Ok(f),
        None => Err(format!("`{what}` must be a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_example_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/space.toml");
        let space = load_space_file(&path).expect("example space loads");
        assert_eq!(space.direction(), Direction::Maximize);
        assert!(space
            .parameter("cache_mb")
            .and_then(|p| p.when.as_ref())
            .is_some());
    }

    #[test]
    fn every_problem_is_listed() {
        let text = r#"
            [parameters.a]
            kind = "int"
            min = 5
            max = 1
            [parameters.b]
            kind = "float"
            min = 0.0
            max = 1.0
            log = true
            [parameters.c]
            kind = "int"
            min = 0
            max = 3
            when = { parameter = "a", in = [1] }
        "#;
        let Err(HpoError::InvalidSpace(problems)) = parse_space(text) else {
            panic!("expected an invalid space");
        };
        assert_eq!(problems.len(), 3, "{problems:?}");
    }

    #[test]
    fn unknown_keys_and_kinds_are_refused() {
        let typo = "[parameters.a]\nkind = \"int\"\nmin = 0\nmax = 3\nmaxx = 4\n";
        assert!(matches!(
            parse_space(typo),
            Err(HpoError::SpaceSyntax { .. })
        ));
        let kind = "[parameters.a]\nkind = \"complex\"\n";
        assert!(matches!(parse_space(kind), Err(HpoError::InvalidSpace(_))));
    }

    #[test]
    fn missing_file_is_a_typed_error() {
        let err = load_space_file(Path::new("/nonexistent/space.toml")).unwrap_err();
        assert!(matches!(err, HpoError::SpaceSyntax { .. }));
    }
}
