//! The format-2 tables of a constraint file: `[[rules]]`, `[[guardrails]]`,
//! `[rollout]`, `[anti_flapping]`, `[approval]` and `[security]`. Each is
//! optional and has defaults (`policy`); whatever is there is checked
//! whole, every problem reported with its JSON pointer.

use super::Problems;
use crate::constraints::{check_name, ConstraintSet};
use crate::policy::{
    Aggregate, AntiFlapping, ApprovalPolicy, Direction, Guardrail, Limit, Phase, Policy,
    RolloutPlan, Rule, SecurityPolicy,
};
use crate::role::Role;
use crate::rules::{Compiled, MAX_RULES};
use serde_json::{Map, Value};

/// Most guardrails and phases in one file.
pub const MAX_GUARDRAILS: usize = 64;
pub const MAX_PHASES: usize = 16;

/// Reads every format-2 table of `root`.
pub(crate) fn read(root: &Map<String, Value>, set: &ConstraintSet, p: &mut Problems) -> Policy {
    let mut policy = Policy::default();
    if let Some(v) = root.get("rules") {
        policy.rules = list(v, "rules", MAX_RULES, p, |t, at, p| rule(t, at, set, p));
    }
    if let Some(v) = root.get("guardrails") {
        policy.guardrails = list(v, "guardrails", MAX_GUARDRAILS, p, guardrail);
    }
    let mut names = std::collections::BTreeSet::new();
    for (i, r) in policy.rules.iter().enumerate() {
        if !names.insert(r.name.clone()) {
            let at = i.to_string();
            p.add(
                &["rules", &at, "name"],
                None,
                format!("rule `{}` is named twice", r.name),
            );
        }
    }
    if let Some(t) = table(root, "rollout", p) {
        policy.rollout = rollout(t, p);
    }
    if let Some(t) = table(root, "anti_flapping", p) {
        let d = AntiFlapping::default();
        let at = ["anti_flapping"];
        known(
            t,
            &at,
            &["cooldown_s", "quarantine_s", "quarantine_distance"],
            p,
        );
        policy.anti_flapping = AntiFlapping {
            cooldown_s: uint(t, &at, "cooldown_s", p).unwrap_or(d.cooldown_s),
            quarantine_s: uint(t, &at, "quarantine_s", p).unwrap_or(d.quarantine_s),
            quarantine_distance: number(t, &at, "quarantine_distance", p)
                .unwrap_or(d.quarantine_distance),
        };
    }
    if let Some(t) = table(root, "approval", p) {
        policy.approval = approval(t, p);
    }
    if let Some(t) = table(root, "security", p) {
        let at = ["security"];
        known(t, &at, &["signing_required"], p);
        let signing_required = match t.get("signing_required") {
            None => SecurityPolicy::default().signing_required,
            Some(_) => boolean(t, &at, "signing_required", p).unwrap_or(true),
        };
        policy.security = SecurityPolicy { signing_required };
    }
    policy
}

fn table<'a>(
    root: &'a Map<String, Value>,
    key: &str,
    p: &mut Problems,
) -> Option<&'a Map<String, Value>> {
    let v = root.get(key)?;
    let t = v.as_object();
    if t.is_none() {
        p.add(&[key], None, format!("`{key}` must be a table/object"));
    }
    t
}

fn list<T>(
    v: &Value,
    key: &str,
    max: usize,
    p: &mut Problems,
    read: impl Fn(&Map<String, Value>, &[&str], &mut Problems) -> Option<T>,
) -> Vec<T> {
    let Some(items) = v.as_array() else {
        p.add(&[key], None, format!("`{key}` must be a list of tables"));
        return Vec::new();
    };
    if items.len() > max {
        p.add(&[key], None, format!("more than {max} `{key}`"));
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let index = i.to_string();
        let at = [key, index.as_str()];
        match item.as_object() {
            None => p.add(&at, None, "must be a table/object".into()),
            Some(t) => out.extend(read(t, &at, p)),
        }
    }
    out
}

fn known(t: &Map<String, Value>, at: &[&str], keys: &[&str], p: &mut Problems) {
    for k in t.keys() {
        if !keys.contains(&k.as_str()) {
            let mut here = at.to_vec();
            here.push(k);
            p.add(&here, None, format!("unknown field `{k}`"));
        }
    }
}

fn here<'a>(at: &[&'a str], key: &'a str) -> Vec<&'a str> {
    let mut v = at.to_vec();
    v.push(key);
    v
}

fn text(t: &Map<String, Value>, at: &[&str], key: &str, p: &mut Problems) -> Option<String> {
    match t.get(key) {
        None => {
            p.add(at, None, format!("missing `{key}`"));
            None
        }
        Some(Value::String(s)) => Some(s.clone()),
        Some(v) => {
            p.add(
                &here(at, key),
                None,
                format!("`{key}` must be a string, found {v}"),
            );
            None
        }
    }
}

fn uint(t: &Map<String, Value>, at: &[&str], key: &str, p: &mut Problems) -> Option<u64> {
    let v = t.get(key)?;
    let n = v.as_u64();
    if n.is_none() {
        p.add(
            &here(at, key),
            None,
            format!("`{key}` must be an integer >= 0, found {v}"),
        );
    }
    n
}

fn number(t: &Map<String, Value>, at: &[&str], key: &str, p: &mut Problems) -> Option<f64> {
    let v = t.get(key)?;
    match v.as_f64() {
        Some(n) if n.is_finite() => Some(n),
        _ => {
            p.add(
                &here(at, key),
                None,
                format!("`{key}` must be a finite number, found {v}"),
            );
            None
        }
    }
}

fn name(t: &Map<String, Value>, at: &[&str], p: &mut Problems) -> Option<String> {
    let n = text(t, at, "name", p)?;
    if let Err(m) = check_name(&n) {
        p.add(&here(at, "name"), None, m);
        return None;
    }
    Some(n)
}

fn rule(
    t: &Map<String, Value>,
    at: &[&str],
    set: &ConstraintSet,
    p: &mut Problems,
) -> Option<Rule> {
    known(t, at, &["name", "expr"], p);
    let name = name(t, at, p);
    let expr = text(t, at, "expr", p)?;
    match Compiled::compile(&expr, set) {
        Ok(compiled) => Some(Rule {
            name: name?,
            expr,
            compiled,
        }),
        Err(m) => {
            p.add(&here(at, "expr"), None, format!("rule does not check: {m}"));
            None
        }
    }
}

/// An optional true/false value.
fn boolean(t: &Map<String, Value>, at: &[&str], key: &str, p: &mut Problems) -> Option<bool> {
    let v = t.get(key)?;
    let b = v.as_bool();
    if b.is_none() {
        p.add(&here(at, key), None, "must be true or false".into());
    }
    b
}

fn guardrail(t: &Map<String, Value>, at: &[&str], p: &mut Problems) -> Option<Guardrail> {
    known(
        t,
        at,
        &[
            "name",
            "metric",
            "aggregate",
            "window_s",
            "op",
            "value",
            "baseline_factor",
            "baseline_offset",
            "min_samples",
            "failure_limit",
        ],
        p,
    );
    let name = name(t, at, p);
    let metric = text(t, at, "metric", p);
    let aggregate = text(t, at, "aggregate", p).and_then(|a| {
        let found = Aggregate::NAMES
            .iter()
            .find(|(n, _)| *n == a)
            .map(|(_, x)| *x);
        if found.is_none() {
            p.add(
                &here(at, "aggregate"),
                None,
                format!("unknown aggregate `{a}` (mean, p50, p90, p99 or max)"),
            );
        }
        found
    });
    let direction = text(t, at, "op", p).and_then(|o| {
        let found = Direction::NAMES
            .iter()
            .find(|(n, _)| *n == o)
            .map(|(_, x)| *x);
        if found.is_none() {
            p.add(
                &here(at, "op"),
                None,
                format!("unknown op `{o}` (<=, <, >= or >)"),
            );
        }
        found
    });
    let limits: Vec<Limit> = [
        number(t, at, "value", p).map(Limit::Value),
        number(t, at, "baseline_factor", p).map(Limit::BaselineFactor),
        number(t, at, "baseline_offset", p).map(Limit::BaselineOffset),
    ]
    .into_iter()
    .flatten()
    .collect();
    if limits.len() != 1 {
        p.add(
            at,
            None,
            "a guardrail has exactly one limit: `value`, `baseline_factor` or `baseline_offset`"
                .into(),
        );
    }
    let window_s = uint(t, at, "window_s", p).unwrap_or(60);
    if window_s == 0 {
        p.add(
            &here(at, "window_s"),
            None,
            "`window_s` must be at least 1".into(),
        );
    }
    let failure_limit = uint(t, at, "failure_limit", p).unwrap_or(1);
    if !(1..=u64::from(u32::MAX)).contains(&failure_limit) {
        p.add(
            &here(at, "failure_limit"),
            None,
            "`failure_limit` is a count of breaching evaluations, at least 1".into(),
        );
    }
    Some(Guardrail {
        name: name?,
        metric: metric?,
        aggregate: aggregate?,
        window_s,
        direction: direction?,
        limit: *limits.first()?,
        min_samples: uint(t, at, "min_samples", p).unwrap_or(1),
        failure_limit: u32::try_from(failure_limit).ok().filter(|l| *l >= 1)?,
    })
}

fn rollout(t: &Map<String, Value>, p: &mut Problems) -> RolloutPlan {
    let at = ["rollout"];
    known(
        t,
        &at,
        &[
            "phases",
            "rollback_timeout_s",
            "marginal_needs_operator",
            "inconclusive_needs_operator",
        ],
        p,
    );
    let d = RolloutPlan::default();
    let mut plan = RolloutPlan {
        phases: d.phases,
        rollback_timeout_s: uint(t, &at, "rollback_timeout_s", p).unwrap_or(d.rollback_timeout_s),
        marginal_needs_operator: boolean(t, &at, "marginal_needs_operator", p)
            .unwrap_or(d.marginal_needs_operator),
        inconclusive_needs_operator: boolean(t, &at, "inconclusive_needs_operator", p)
            .unwrap_or(d.inconclusive_needs_operator),
    };
    if let Some(v) = t.get("phases") {
        plan.phases = list(v, "phases", MAX_PHASES, p, |t, at, p| {
            let at: Vec<&str> = std::iter::once("rollout")
                .chain(at.iter().copied())
                .collect();
            known(t, &at, &["name", "share", "min_seconds", "min_samples"], p);
            let share = uint(t, &at, "share", p);
            if share.is_some_and(|s| s > 100) {
                p.add(
                    &here(&at, "share"),
                    None,
                    "`share` is a percentage, 0..=100".into(),
                );
            }
            Some(Phase {
                name: name(t, &at, p)?,
                share: u8::try_from(share?).ok().filter(|s| *s <= 100)?,
                min_seconds: uint(t, &at, "min_seconds", p).unwrap_or(0),
                min_samples: uint(t, &at, "min_samples", p).unwrap_or(0),
            })
        });
        if plan.phases.is_empty() {
            p.add(
                &["rollout", "phases"],
                None,
                "a plan has at least one phase".into(),
            );
        }
        for (i, w) in plan.phases.windows(2).enumerate() {
            if w[1].share <= w[0].share {
                let index = (i + 1).to_string();
                p.add(
                    &["rollout", "phases", &index, "share"],
                    None,
                    format!(
                        "shares must increase: phase `{}` ({}%) follows `{}` ({}%)",
                        w[1].name, w[1].share, w[0].name, w[0].share
                    ),
                );
            }
        }
        if plan.phases.last().is_some_and(|l| l.share != 100) {
            p.add(
                &["rollout", "phases"],
                None,
                "the last phase must reach share 100".into(),
            );
        }
    }
    plan
}

fn approval(t: &Map<String, Value>, p: &mut Problems) -> ApprovalPolicy {
    let at = ["approval"];
    known(
        t,
        &at,
        &[
            "roles",
            "identities",
            "required",
            "required_large",
            "large_step_rel",
            "expiry_s",
        ],
        p,
    );
    let d = ApprovalPolicy::default();
    let strings = |key: &str, p: &mut Problems| -> Option<Vec<String>> {
        let v = t.get(key)?;
        let got: Option<Vec<String>> = v
            .as_array()
            .and_then(|a| a.iter().map(|s| s.as_str().map(str::to_string)).collect());
        if got.is_none() {
            p.add(
                &["approval", key],
                None,
                format!("`{key}` must be a list of strings"),
            );
        }
        got
    };
    let roles = strings("roles", p).map(|names| {
        names
            .iter()
            .filter_map(|n| match n.parse::<Role>() {
                Ok(Role::Operator | Role::Admin) => n.parse().ok(),
                Ok(r) => {
                    p.add(
                        &["approval", "roles"],
                        None,
                        format!("role `{r}` may not approve (only operator and admin)"),
                    );
                    None
                }
                Err(e) => {
                    p.add(&["approval", "roles"], None, e.to_string());
                    None
                }
            })
            .collect::<Vec<Role>>()
    });
    let required = uint(t, &at, "required", p).unwrap_or(d.required.into());
    let required_large =
        uint(t, &at, "required_large", p).unwrap_or(required.max(d.required_large.into()));
    if required == 0 || required > 16 {
        p.add(
            &["approval", "required"],
            None,
            "`required` must be 1..=16".into(),
        );
    }
    if required_large < required || required_large > 16 {
        p.add(
            &["approval", "required_large"],
            None,
            "`required_large` must be `required`..=16".into(),
        );
    }
    let expiry_s = uint(t, &at, "expiry_s", p).unwrap_or(d.expiry_s);
    if expiry_s == 0 {
        p.add(
            &["approval", "expiry_s"],
            None,
            "`expiry_s` must be at least 1".into(),
        );
    }
    let large_step_rel = number(t, &at, "large_step_rel", p).unwrap_or(d.large_step_rel);
    if large_step_rel < 0.0 {
        p.add(
            &["approval", "large_step_rel"],
            None,
            "`large_step_rel` must be >= 0".into(),
        );
    }
    ApprovalPolicy {
        roles: roles.filter(|r| !r.is_empty()).unwrap_or(d.roles),
        identities: strings("identities", p).unwrap_or_default(),
        required: required.min(16) as u32,
        required_large: required_large.min(16) as u32,
        large_step_rel,
        expiry_s,
    }
}
