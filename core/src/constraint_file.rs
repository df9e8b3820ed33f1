//! Reading constraint files. TOML and JSON share one schema; both are read
//! into a JSON tree first so that one function checks the schema and reports
//! every problem at once, each located: by line for TOML, by JSON pointer
//! for JSON.
//!
//! Format 1 has `[parameters.*]` only. Format 2 adds per-parameter
//! `max_step_abs`, `max_step_rel`, `auto_approve` and `frozen`, and the
//! tables `[[rules]]`, `[[guardrails]]`, `[rollout]`, `[anti_flapping]`,
//! `[approval]` and `[security]` (read by `sections`).

mod locate;
mod sections;

use crate::constraints::{ConstraintFileError, ConstraintSet, ParamConstraint, Problem};
use crate::policy::{ChangeLimits, Policy};
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

/// A whole constraint file: the hard constraints and the format-2 policy.
#[derive(Debug, Clone, PartialEq)]
pub struct ConstraintFile {
    pub constraints: ConstraintSet,
    pub policy: Policy,
}

/// One problem while reading: where (a JSON pointer's segments), which
/// parameter, what.
pub(crate) struct Found {
    pub pointer: Vec<String>,
    pub parameter: Option<String>,
    pub message: String,
}

/// Collects problems under a pointer prefix.
pub(crate) struct Problems {
    pub found: Vec<Found>,
}

impl Problems {
    pub fn add(&mut self, pointer: &[&str], parameter: Option<&str>, message: String) {
        self.found.push(Found {
            pointer: pointer.iter().map(|s| s.to_string()).collect(),
            parameter: parameter.map(str::to_string),
            message,
        });
    }
}

/// Parses and checks a constraint file (hard constraints only); `path`
/// only labels errors.
pub fn parse(path: &str, text: &str) -> Result<ConstraintSet, ConstraintFileError> {
    parse_file(path, text).map(|f| f.constraints)
}

/// Parses and checks a whole constraint file, format 1 or 2.
pub fn parse_file(path: &str, text: &str) -> Result<ConstraintFile, ConstraintFileError> {
    let syntax = Syntax::guess(path, text);
    let tree: Value = match syntax {
        Syntax::Json => serde_json::from_str(text).map_err(|e| e.to_string()),
        Syntax::Toml => toml::from_str(text).map_err(|e| e.to_string()),
    }
    .map_err(|message| ConstraintFileError::Syntax {
        path: path.to_string(),
        message,
    })?;
    let mut problems = Problems { found: Vec::new() };
    let (constraints, limits) = read_set(&tree, &mut problems);
    for p in constraints.problems() {
        let name = p.parameter.clone().unwrap_or_default();
        let pointer: Vec<&str> = match &p.parameter {
            Some(_) => vec!["parameters", name.as_str()],
            None => vec!["parameters"],
        };
        problems.add(&pointer, p.parameter.as_deref(), p.message);
    }
    let mut policy = Policy::default();
    if let Some(root) = tree.as_object() {
        policy = sections::read(root, &constraints, &mut problems);
        policy.format = root.get("format").and_then(Value::as_u64).unwrap_or(1);
    }
    if policy.format < 2 {
        // Format 1 has no plan: an approved change is live at once.
        policy.rollout.phases.clear();
    }
    policy.limits = limits;
    if problems.found.is_empty() {
        return Ok(ConstraintFile {
            constraints,
            policy,
        });
    }
    let problems = problems
        .found
        .into_iter()
        .map(|f| Problem {
            at: match syntax {
                Syntax::Json => Some(locate::pointer(&f.pointer)),
                Syntax::Toml => locate::toml_line(text, &f.pointer).map(|n| format!("line {n}")),
            },
            parameter: f.parameter,
            message: f.message,
        })
        .collect();
    Err(ConstraintFileError::Invalid {
        path: path.to_string(),
        problems,
    })
}

const TOP_KEYS: [&str; 8] = [
    "format",
    "parameters",
    "rules",
    "guardrails",
    "rollout",
    "anti_flapping",
    "approval",
    "security",
];

type Limits = std::collections::BTreeMap<String, ChangeLimits>;

fn read_set(tree: &Value, problems: &mut Problems) -> (ConstraintSet, Limits) {
    let mut set = ConstraintSet::default();
    let mut limits = Limits::new();
    let Some(root) = tree.as_object() else {
        problems.add(&[], None, "the file must be a table/object".into());
        return (set, limits);
    };
    let format = root.get("format").map(Value::as_u64);
    let format = match format {
        None | Some(Some(1)) => 1,
        Some(Some(2)) => 2,
        Some(_) => {
            problems.add(&["format"], None, "`format` must be 1 or 2".into());
            2
        }
    };
    for key in root.keys() {
        let known = if format == 1 {
            key == "format" || key == "parameters"
        } else {
            TOP_KEYS.contains(&key.as_str())
        };
        if !known {
            problems.add(&[key], None, format!("unknown field `{key}`"));
        }
    }
    let Some(params) = root.get("parameters").and_then(Value::as_object) else {
        problems.add(&[], None, "missing table `parameters`".into());
        return (set, limits);
    };
    for (name, spec) in params {
        let mut local = Vec::new();
        if let Some(c) = read_param(spec, format, &mut local) {
            if format == 2 {
                if let Some(l) = spec.as_object().map(|s| read_limits(s, &c, &mut local)) {
                    limits.insert(name.clone(), l);
                }
            }
            set.parameters.insert(name.clone(), c);
        }
        for (key, message) in local {
            let mut pointer = vec!["parameters", name.as_str()];
            pointer.extend(key.as_deref());
            problems.add(&pointer, Some(name), message);
        }
    }
    (set, limits)
}

const FIELDS: [&str; 5] = ["kind", "min", "max", "values", "default"];
const LIMIT_FIELDS: [&str; 4] = ["max_step_abs", "max_step_rel", "auto_approve", "frozen"];

/// A problem in one parameter's table: the key it is about, and what.
type Local = Vec<(Option<String>, String)>;

fn read_param(spec: &Value, format: u64, problems: &mut Local) -> Option<ParamConstraint> {
    let Some(spec) = spec.as_object() else {
        problems.push((None, "must be a table/object".into()));
        return None;
    };
    for key in spec.keys() {
        let limit = format == 2 && LIMIT_FIELDS.contains(&key.as_str());
        if !FIELDS.contains(&key.as_str()) && !limit {
            problems.push((Some(key.clone()), format!("unknown field `{key}`")));
        }
    }
    let kind = spec.get("kind").and_then(Value::as_str);
    let allowed: &[&str] = match kind {
        Some("int") | Some("float") => &["kind", "min", "max", "default"],
        Some("enum") => &["kind", "values", "default"],
        Some("bool") => &["kind", "default"],
        Some(other) => {
            problems.push((
                Some("kind".to_string()),
                format!("unknown kind `{other}` (expected int, float, enum or bool)"),
            ));
            return None;
        }
        None => {
            problems.push((None, "missing `kind`".into()));
            return None;
        }
    };
    for key in FIELDS {
        if spec.contains_key(key) && !allowed.contains(&key) {
            problems.push((
                Some(key.to_string()),
                format!("field `{key}` does not apply to this kind"),
            ));
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

/// The format-2 change limits of one parameter.
fn read_limits(
    spec: &Map<String, Value>,
    c: &ParamConstraint,
    problems: &mut Local,
) -> ChangeLimits {
    let numeric = matches!(
        c,
        ParamConstraint::Int { .. } | ParamConstraint::Float { .. }
    );
    let positive = |key: &'static str, problems: &mut Local| -> Option<f64> {
        let v = spec.get(key)?;
        if !numeric {
            problems.push((
                Some(key.to_string()),
                format!("`{key}` applies to int and float only"),
            ));
            return None;
        }
        match v.as_f64() {
            Some(n) if n.is_finite() && n >= 0.0 => Some(n),
            _ => {
                problems.push((
                    Some(key.to_string()),
                    format!("`{key}` must be a number >= 0, found {v}"),
                ));
                None
            }
        }
    };
    let max_step_abs = positive("max_step_abs", problems);
    let max_step_rel = positive("max_step_rel", problems);
    let auto_approve = positive("auto_approve", problems);
    let frozen = match spec.get("frozen") {
        None => false,
        Some(v) => v.as_bool().unwrap_or_else(|| {
            problems.push((
                Some("frozen".to_string()),
                format!("`frozen` must be true or false, found {v}"),
            ));
            false
        }),
    };
    ChangeLimits {
        max_step_abs,
        max_step_rel,
        auto_approve,
        frozen,
    }
}

fn field<T: Default>(
    spec: &Map<String, Value>,
    name: &'static str,
    read: impl Fn(&Value) -> Option<T>,
    expected: &str,
    problems: &mut Local,
) -> T {
    match spec.get(name) {
        None => {
            problems.push((None, format!("missing `{name}`")));
            T::default()
        }
        Some(v) => read(v).unwrap_or_else(|| {
            problems.push((
                Some(name.to_string()),
                format!("`{name}` must be {expected}, found {v}"),
            ));
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

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_format2;
