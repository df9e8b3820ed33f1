//! Reading constraint files. TOML and JSON share one schema; both are read
//! into a JSON tree first so that one function checks the schema and reports
//! every problem at once.

use crate::constraints::{
    ConstraintFileError, ConstraintSet, ParamConstraint, Problem, FORMAT_VERSION,
};
use serde_json::{Map, Value};

/// The syntax of a constraint file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Toml,
    Json,
}

impl Syntax {
    /// JSON for `.json` files and for text that starts with `{`; TOML otherwise.
    pub fn guess(path: &str, text: &str) -> Syntax {
        if path.ends_with(".json") || text.trim_start().starts_with('{') {
            Syntax::Json
        } else {
            Syntax::Toml
        }
    }
}

/// The `[security]` policy of a constraint file (the default when it has
/// none); `path` only labels errors.
pub fn parse_policy(
    path: &str,
    text: &str,
) -> Result<security::SecurityPolicy, ConstraintFileError> {
    let syntax = Syntax::guess(path, text);
    let tree: Value = match syntax {
        Syntax::Json => serde_json::from_str(text).map_err(|e| e.to_string()),
        Syntax::Toml => toml::from_str(text).map_err(|e| e.to_string()),
    }
    .map_err(|message| ConstraintFileError::Syntax {
        path: path.to_string(),
        message,
    })?;
    let mut problems = Vec::new();
    let empty = Map::new();
    let policy = security::read_policy(tree.as_object().unwrap_or(&empty), &mut problems);
    match problems.is_empty() {
        true => Ok(policy),
        false => Err(ConstraintFileError::Invalid {
            path: path.to_string(),
            problems: problems
                .into_iter()
                .map(|message| Problem {
                    parameter: None,
                    message,
                })
                .collect(),
        }),
    }
}

/// Parses and checks a constraint file; `path` only labels errors.
pub fn parse(path: &str, text: &str) -> Result<ConstraintSet, ConstraintFileError> {
    let syntax = Syntax::guess(path, text);
    let tree: Value = match syntax {
        Syntax::Json => serde_json::from_str(text).map_err(|e| e.to_string()),
        Syntax::Toml => toml::from_str(text).map_err(|e| e.to_string()),
    }
    .map_err(|message| ConstraintFileError::Syntax {
        path: path.to_string(),
        message,
    })?;
    let mut problems = Vec::new();
    let set = read_set(&tree, &mut problems);
    problems.extend(set.problems());
    if problems.is_empty() {
        Ok(set)
    } else {
        Err(ConstraintFileError::Invalid {
            path: path.to_string(),
            problems,
        })
    }
}

fn top(problems: &mut Vec<Problem>, message: String) {
    problems.push(Problem {
        parameter: None,
        message,
    });
}

fn read_set(tree: &Value, problems: &mut Vec<Problem>) -> ConstraintSet {
    let mut set = ConstraintSet::default();
    let Some(root) = tree.as_object() else {
        top(problems, "the file must be a table/object".into());
        return set;
    };
    for key in root.keys() {
        if key != "format" && key != "parameters" && key != "security" {
            top(problems, format!("unknown field `{key}`"));
        }
    }
    let mut policy_problems = Vec::new();
    security::read_policy(root, &mut policy_problems);
    for message in policy_problems {
        top(problems, message);
    }
    match root.get("format").map(Value::as_u64) {
        None | Some(Some(FORMAT_VERSION)) => {}
        Some(_) => top(
            problems,
            format!("`format` must be {FORMAT_VERSION} (the only version so far)"),
        ),
    }
    let Some(params) = root.get("parameters").and_then(Value::as_object) else {
        top(problems, "missing table `parameters`".into());
        return set;
    };
    for (name, spec) in params {
        let mut local = Vec::new();
        if let Some(c) = read_param(spec, &mut local) {
            set.parameters.insert(name.clone(), c);
        }
        problems.extend(local.into_iter().map(|message| Problem {
            parameter: Some(name.clone()),
            message,
        }));
    }
    set
}

const FIELDS: [&str; 5] = ["kind", "min", "max", "values", "default"];

fn read_param(spec: &Value, problems: &mut Vec<String>) -> Option<ParamConstraint> {
    let Some(spec) = spec.as_object() else {
        problems.push("must be a table/object".into());
        return None;
    };
    for key in spec.keys() {
        if !FIELDS.contains(&key.as_str()) {
            problems.push(format!("unknown field `{key}`"));
        }
    }
    let kind = spec.get("kind").and_then(Value::as_str);
    let allowed: &[&str] = match kind {
        Some("int") | Some("float") => &["kind", "min", "max", "default"],
        Some("enum") => &["kind", "values", "default"],
        Some("bool") => &["kind", "default"],
        Some(other) => {
            problems.push(format!(
                "unknown kind `{other}` (expected int, float, enum or bool)"
            ));
            return None;
        }
        None => {
            problems.push("missing `kind`".into());
            return None;
        }
    };
    for key in spec.keys() {
        if FIELDS.contains(&key.as_str()) && !allowed.contains(&key.as_str()) {
            problems.push(format!("field `{key}` does not apply to this kind"));
        }
    }
    let before = problems.len();
    let constraint = match kind {
        Some("int") => ParamConstraint::Int {
            min: field(spec, "min", Value::as_i64, "an integer", problems),
            max: field(spec, "max", Value::as_i64, "an integer", problems),
            default: field(spec, "default", Value::as_i64, "an integer", problems),
        },
        Some("float") => ParamConstraint::Float {
            min: field(spec, "min", Value::as_f64, "a number", problems),
            max: field(spec, "max", Value::as_f64, "a number", problems),
            default: field(spec, "default", Value::as_f64, "a number", problems),
        },
        Some("enum") => ParamConstraint::Enum {
            values: field(spec, "values", string_list, "a list of strings", problems),
            default: field(spec, "default", as_string, "a string", problems),
        },
        _ => ParamConstraint::Bool {
            default: field(spec, "default", Value::as_bool, "true or false", problems),
        },
    };
    (problems.len() == before).then_some(constraint)
}

fn field<T: Default>(
    spec: &Map<String, Value>,
    name: &str,
    read: impl Fn(&Value) -> Option<T>,
    expected: &str,
    problems: &mut Vec<String>,
) -> T {
    match spec.get(name) {
        None => {
            problems.push(format!("missing `{name}`"));
            T::default()
        }
        Some(v) => read(v).unwrap_or_else(|| {
            problems.push(format!("`{name}` must be {expected}, found {v}"));
            T::default()
        }),
    }
}

fn as_string(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn string_list(v: &Value) -> Option<Vec<String>> {
    v.as_array()?.iter().map(as_string).collect()
}

pub mod security;

#[cfg(test)]
mod tests;
