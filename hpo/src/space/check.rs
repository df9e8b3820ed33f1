//! The consistency checks of a space: ranges, members, step limits, live
//! values and conditions (known parents of the right kind, no cycles).

use super::{numeric_range, Condition, Kind, Parameter, Space};

pub(super) fn parameter_problems(space: &Space, p: &Parameter) -> Vec<String> {
    let mut out = Vec::new();
    match &p.kind {
        Kind::Int { min, max, log } => {
            range_problems(*min as f64, *max as f64, *log, &mut out);
        }
        Kind::Float { min, max, log } => range_problems(*min, *max, *log, &mut out),
        Kind::Enum { values } => {
            if values.is_empty() {
                out.push("an enum needs at least one value".into());
            }
            let mut sorted = values.clone();
            sorted.sort();
            sorted.dedup();
            if sorted.len() != values.len() {
                out.push("enum values repeat".into());
            }
        }
        Kind::Bool => {}
    }
    for (what, limit) in [
        ("max_step_abs", p.step.max_step_abs),
        ("max_step_rel", p.step.max_step_rel),
    ] {
        match (limit, &p.kind) {
            (Some(_), Kind::Enum { .. } | Kind::Bool) => {
                out.push(format!("{what} applies to int and float parameters only"))
            }
            (Some(v), _) if !(v.is_finite() && v > 0.0) => {
                out.push(format!("{what} must be a positive number, got {v}"))
            }
            _ => {}
        }
    }
    if let Some(live) = &p.live {
        if let Err(e) = space.coerce(&p.name, live) {
            out.push(format!("live value: {e}"));
        } else if let (Some(v), Some((lo, hi))) = (live.as_f64(), numeric_range(&p.kind)) {
            if v < lo || v > hi {
                out.push(format!("live value {v} is outside [{lo}, {hi}]"));
            }
        }
    }
    if let Some(c) = &p.when {
        out.extend(condition_problems(space, p, c));
    }
    out
}

fn range_problems(min: f64, max: f64, log: bool, out: &mut Vec<String>) {
    if !(min.is_finite() && max.is_finite()) {
        out.push("min and max must be finite".into());
    } else if min >= max {
        out.push(format!("min {min} must be below max {max}"));
    } else if log && min <= 0.0 {
        out.push(format!("a log-scaled parameter needs min > 0, got {min}"));
    }
}

fn condition_problems(space: &Space, p: &Parameter, c: &Condition) -> Vec<String> {
    let Some(parent) = space.parameter(&c.parameter) else {
        return vec![format!(
            "condition names unknown parameter `{}`",
            c.parameter
        )];
    };
    let mut out = Vec::new();
    if !matches!(parent.kind, Kind::Enum { .. } | Kind::Bool) {
        out.push(format!(
            "condition parameter `{}` must be an enum or a bool",
            c.parameter
        ));
    }
    if c.values.is_empty() {
        out.push("condition lists no values".into());
    }
    for v in &c.values {
        if space.coerce(&c.parameter, v).is_err() {
            out.push(format!(
                "condition value {v} is not a value of `{}`",
                c.parameter
            ));
        }
    }
    if has_cycle(space, &p.name) {
        out.push("conditions form a cycle".into());
    }
    out
}

fn has_cycle(space: &Space, start: &str) -> bool {
    let mut current = start;
    for _ in 0..=space.parameters.len() {
        match space.parameter(current).and_then(|p| p.when.as_ref()) {
            None => return false,
            Some(c) if c.parameter == start => return true,
            Some(c) => current = &c.parameter,
        }
    }
    true
}
