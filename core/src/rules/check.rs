//! Type-checking a parsed rule against a target's parameters, and
//! evaluating a checked one over a set of values.

use super::parse::{parse, BinOp, Expr};
use crate::constraints::{ConstraintSet, ParamConstraint};
use crate::value::ParamValue;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The type of a rule's sub-expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    Num,
    Bool,
    /// An enum parameter's member, named by the parameter.
    Member(String),
    /// A string literal: only ever compared with an enum parameter.
    Text(String),
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Num => f.write_str("a number"),
            Type::Bool => f.write_str("a boolean"),
            Type::Member(p) => write!(f, "a member of enum `{p}`"),
            Type::Text(t) => write!(f, "the string {t:?}"),
        }
    }
}

/// A rule that parsed and type-checked: what `apply` evaluates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Compiled {
    pub expr: Expr,
    /// The parameters it reads, in name order.
    pub parameters: BTreeSet<String>,
}

impl Compiled {
    /// Parses and type-checks `text` against `set`.
    pub fn compile(text: &str, set: &ConstraintSet) -> Result<Compiled, String> {
        let expr = parse(text).map_err(|e| e.to_string())?;
        let mut parameters = BTreeSet::new();
        match type_of(&expr, set, &mut parameters)? {
            Type::Bool => Ok(Compiled { expr, parameters }),
            other => Err(format!("a rule must be a boolean, this one is {other}")),
        }
    }

    /// Whether the rule holds for `values` (each parameter it reads must
    /// be there; a missing one makes the rule fail, never panic).
    pub fn holds(&self, values: &BTreeMap<String, ParamValue>) -> bool {
        matches!(eval(&self.expr, values), Some(V::Bool(true)))
    }
}

fn type_of(e: &Expr, set: &ConstraintSet, used: &mut BTreeSet<String>) -> Result<Type, String> {
    Ok(match e {
        Expr::Num(_) => Type::Num,
        Expr::Bool(_) => Type::Bool,
        Expr::Text(t) => Type::Text(t.clone()),
        Expr::Param(p) => {
            used.insert(p.clone());
            match set.parameters.get(p) {
                None => return Err(unknown(p, set)),
                Some(ParamConstraint::Int { .. } | ParamConstraint::Float { .. }) => Type::Num,
                Some(ParamConstraint::Bool { .. }) => Type::Bool,
                Some(ParamConstraint::Enum { .. }) => Type::Member(p.clone()),
            }
        }
        Expr::Neg(inner) => expect(inner, Type::Num, "`-`", set, used)?,
        Expr::Not(inner) => expect(inner, Type::Bool, "`!`", set, used)?,
        Expr::Bin(op, l, r) => {
            let what = format!("`{}`", op.symbol());
            match op {
                BinOp::Implies | BinOp::Or | BinOp::And => {
                    expect(l, Type::Bool, &what, set, used)?;
                    expect(r, Type::Bool, &what, set, used)?;
                    Type::Bool
                }
                BinOp::Add | BinOp::Sub | BinOp::Mul => {
                    expect(l, Type::Num, &what, set, used)?;
                    expect(r, Type::Num, &what, set, used)?;
                    Type::Num
                }
                BinOp::Le | BinOp::Lt | BinOp::Ge | BinOp::Gt => {
                    expect(l, Type::Num, &what, set, used)?;
                    expect(r, Type::Num, &what, set, used)?;
                    Type::Bool
                }
                BinOp::Eq | BinOp::Ne => {
                    let lt = type_of(l, set, used)?;
                    let rt = type_of(r, set, used)?;
                    equality(&lt, &rt, set).map_err(|m| format!("{what}: {m}"))?;
                    Type::Bool
                }
            }
        }
    })
}

/// Why `p` is not a parameter, with a hint when the set has names a bare
/// identifier cannot spell.
fn unknown(p: &str, set: &ConstraintSet) -> String {
    match set.parameters.keys().find(|k| k.contains('-')) {
        Some(dashed) => format!(
            "unknown parameter `{p}`; `-` is subtraction, so write a name such as {dashed} in backticks"
        ),
        None => format!("unknown parameter `{p}`"),
    }
}

fn expect(
    e: &Expr,
    want: Type,
    what: &str,
    set: &ConstraintSet,
    used: &mut BTreeSet<String>,
) -> Result<Type, String> {
    let got = type_of(e, set, used)?;
    if got == want {
        Ok(got)
    } else {
        Err(format!("{what} takes {want}, `{e}` is {got}"))
    }
}

fn equality(l: &Type, r: &Type, set: &ConstraintSet) -> Result<(), String> {
    let member = |p: &str, t: &str| match set.parameters.get(p) {
        Some(ParamConstraint::Enum { values, .. }) if values.iter().any(|v| v == t) => Ok(()),
        _ => Err(format!("{t:?} is not a value of enum `{p}`")),
    };
    match (l, r) {
        (Type::Num, Type::Num) | (Type::Bool, Type::Bool) => Ok(()),
        (Type::Member(a), Type::Member(b)) if a == b => Ok(()),
        (Type::Member(p), Type::Text(t)) | (Type::Text(t), Type::Member(p)) => member(p, t),
        _ => Err(format!("cannot compare {l} with {r}")),
    }
}

/// Whether a boolean expression holds for `values` (`None` when it is
/// not a boolean there or reads a parameter `values` lacks).
pub(super) fn truth(e: &Expr, values: &BTreeMap<String, ParamValue>) -> Option<bool> {
    boolean(eval(e, values)?)
}

/// A value during evaluation.
enum V {
    Num(f64),
    Bool(bool),
    Text(String),
}

fn eval(e: &Expr, values: &BTreeMap<String, ParamValue>) -> Option<V> {
    Some(match e {
        Expr::Num(n) => V::Num(*n),
        Expr::Bool(b) => V::Bool(*b),
        Expr::Text(t) => V::Text(t.clone()),
        Expr::Param(p) => match values.get(p)? {
            ParamValue::Int(i) => V::Num(*i as f64),
            ParamValue::Float(f) => V::Num(*f),
            ParamValue::Bool(b) => V::Bool(*b),
            ParamValue::Enum(s) => V::Text(s.clone()),
        },
        Expr::Neg(inner) => V::Num(-num(eval(inner, values)?)?),
        Expr::Not(inner) => V::Bool(!boolean(eval(inner, values)?)?),
        Expr::Bin(op, l, r) => {
            let l = eval(l, values)?;
            match op {
                // Short-circuit: the right side is read only when needed.
                BinOp::And => V::Bool(boolean(l)? && boolean(eval(r, values)?)?),
                BinOp::Or => V::Bool(boolean(l)? || boolean(eval(r, values)?)?),
                BinOp::Implies => V::Bool(!boolean(l)? || boolean(eval(r, values)?)?),
                _ => binary(*op, l, eval(r, values)?)?,
            }
        }
    })
}

fn binary(op: BinOp, l: V, r: V) -> Option<V> {
    Some(match (l, r) {
        (V::Num(a), V::Num(b)) => match op {
            BinOp::Add => V::Num(a + b),
            BinOp::Sub => V::Num(a - b),
            BinOp::Mul => V::Num(a * b),
            BinOp::Le => V::Bool(a <= b),
            BinOp::Lt => V::Bool(a < b),
            BinOp::Ge => V::Bool(a >= b),
            BinOp::Gt => V::Bool(a > b),
            BinOp::Eq => V::Bool(a == b),
            BinOp::Ne => V::Bool(a != b),
            _ => return None,
        },
        (V::Bool(a), V::Bool(b)) => match op {
            BinOp::Eq => V::Bool(a == b),
            BinOp::Ne => V::Bool(a != b),
            _ => return None,
        },
        (V::Text(a), V::Text(b)) => match op {
            BinOp::Eq => V::Bool(a == b),
            BinOp::Ne => V::Bool(a != b),
            _ => return None,
        },
        _ => return None,
    })
}

fn num(v: V) -> Option<f64> {
    match v {
        V::Num(n) => Some(n),
        _ => None,
    }
}

fn boolean(v: V) -> Option<bool> {
    match v {
        V::Bool(b) => Some(b),
        _ => None,
    }
}
