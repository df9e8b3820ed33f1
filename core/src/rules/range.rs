//! What a rule allows one numeric parameter to be, every other parameter
//! held at a given value: the machine-readable `allowed` of a rejection by
//! a cross-parameter rule.
//!
//! The rule is solved for the parameter where it is linear in it (a sum of
//! terms, products with the other parameters held becoming coefficients:
//! `batch_size * max_tokens <= 131072` is linear in each), through `&&`,
//! `||`, `!` and `=>` whose other side the parameter is absent from or
//! which meet in one interval. The answer is one closed range inside the
//! parameter's hard range (whole numbers for an int; for a strict bound on
//! a float, the nearest float inside). Where that is not possible (a
//! square, `!=`, a union of two intervals, no value at all) there is no
//! answer. Each end found is checked with the rule itself, so rounding
//! never reports a value the rule refuses.

use super::check::truth;
use super::parse::{BinOp, Expr};
use super::Compiled;
use crate::value::ParamValue;
use std::collections::BTreeMap;

/// The values `x` of the parameter with `lo (<|<=) x (<|<=) hi`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Interval {
    lo: f64,
    lo_open: bool,
    hi: f64,
    hi_open: bool,
}

impl Interval {
    const ALL: Interval = Interval {
        lo: f64::NEG_INFINITY,
        lo_open: false,
        hi: f64::INFINITY,
        hi_open: false,
    };
    const NONE: Interval = Interval {
        lo: f64::INFINITY,
        lo_open: true,
        hi: f64::NEG_INFINITY,
        hi_open: true,
    };

    fn is_empty(self) -> bool {
        self.lo > self.hi || (self.lo == self.hi && (self.lo_open || self.hi_open))
    }

    fn is_all(self) -> bool {
        self.lo == f64::NEG_INFINITY && self.hi == f64::INFINITY
    }

    fn meet(self, o: Interval) -> Interval {
        let (lo, lo_open) = if self.lo > o.lo || (self.lo == o.lo && self.lo_open) {
            (self.lo, self.lo_open)
        } else {
            (o.lo, o.lo_open)
        };
        let (hi, hi_open) = if self.hi < o.hi || (self.hi == o.hi && self.hi_open) {
            (self.hi, self.hi_open)
        } else {
            (o.hi, o.hi_open)
        };
        Interval {
            lo,
            lo_open,
            hi,
            hi_open,
        }
    }
}

/// Both sides must hold.
fn both(l: Option<Interval>, r: Option<Interval>) -> Option<Interval> {
    Some(l?.meet(r?))
}

/// Either side may hold: one interval only when a side holds always or
/// never.
fn either(l: Option<Interval>, r: Option<Interval>) -> Option<Interval> {
    match (l, r) {
        (Some(a), _) if a.is_all() => Some(a),
        (_, Some(b)) if b.is_all() => Some(b),
        (Some(a), Some(b)) if a.is_empty() => Some(b),
        (Some(a), Some(b)) if b.is_empty() => Some(a),
        _ => None,
    }
}

impl Compiled {
    /// The closed range of `parameter` (an int when `integer`, else a
    /// float) inside `hard` for which the rule holds, every other
    /// parameter at its value in `values`; `None` when the rule cannot be
    /// solved for it as one range, or nothing in `hard` satisfies it.
    pub fn range_of(
        &self,
        parameter: &str,
        values: &BTreeMap<String, ParamValue>,
        hard: (f64, f64),
        integer: bool,
    ) -> Option<(f64, f64)> {
        let set = solve(&self.expr, parameter, values, false)?.meet(Interval {
            lo: hard.0,
            lo_open: false,
            hi: hard.1,
            hi_open: false,
        });
        if set.is_empty() {
            return None;
        }
        let (mut lo, mut hi) = if integer {
            (
                if set.lo_open {
                    set.lo.floor() + 1.0
                } else {
                    set.lo.ceil()
                },
                if set.hi_open {
                    set.hi.ceil() - 1.0
                } else {
                    set.hi.floor()
                },
            )
        } else {
            (
                if set.lo_open { up(set.lo) } else { set.lo },
                if set.hi_open { down(set.hi) } else { set.hi },
            )
        };
        let mut values = values.clone();
        let mut holds = |x: f64| {
            let v = if integer {
                ParamValue::Int(x as i64)
            } else {
                ParamValue::Float(x)
            };
            values.insert(parameter.to_string(), v);
            self.holds(&values)
        };
        // Rounding in the solution: step inward a little, never outward.
        for _ in 0..NUDGES {
            if lo > hi || holds(lo) {
                break;
            }
            lo = if integer { lo + 1.0 } else { up(lo) };
        }
        for _ in 0..NUDGES {
            if lo > hi || holds(hi) {
                break;
            }
            hi = if integer { hi - 1.0 } else { down(hi) };
        }
        (lo <= hi && holds(lo) && holds(hi)).then_some((lo, hi))
    }
}

/// How far an end found may move inward to hold.
const NUDGES: usize = 4;

/// The values of `p` for which `e` holds (or, `negated`, fails).
fn solve(
    e: &Expr,
    p: &str,
    values: &BTreeMap<String, ParamValue>,
    negated: bool,
) -> Option<Interval> {
    if !reads(e, p) {
        let holds = truth(e, values)? != negated;
        return Some(if holds { Interval::ALL } else { Interval::NONE });
    }
    match e {
        Expr::Not(inner) => solve(inner, p, values, !negated),
        Expr::Bin(op, l, r) => match (op, negated) {
            (BinOp::And, false) | (BinOp::Or, true) => {
                both(solve(l, p, values, negated), solve(r, p, values, negated))
            }
            (BinOp::Or, false) | (BinOp::And, true) => {
                either(solve(l, p, values, negated), solve(r, p, values, negated))
            }
            // `l => r` is `!l || r`; its negation `l && !r`.
            (BinOp::Implies, false) => {
                either(solve(l, p, values, true), solve(r, p, values, false))
            }
            (BinOp::Implies, true) => both(solve(l, p, values, false), solve(r, p, values, true)),
            (cmp, _) => compare(*cmp, l, r, p, values, negated),
        },
        _ => None,
    }
}

/// The values of `p` for which `l cmp r` holds (or fails), when both
/// sides are linear in it.
fn compare(
    cmp: BinOp,
    l: &Expr,
    r: &Expr,
    p: &str,
    values: &BTreeMap<String, ParamValue>,
    negated: bool,
) -> Option<Interval> {
    let cmp = if negated {
        match cmp {
            BinOp::Le => BinOp::Gt,
            BinOp::Lt => BinOp::Ge,
            BinOp::Ge => BinOp::Lt,
            BinOp::Gt => BinOp::Le,
            BinOp::Eq => BinOp::Ne,
            BinOp::Ne => BinOp::Eq,
            _ => return None,
        }
    } else {
        cmp
    };
    let (la, lb) = linear(l, p, values)?;
    let (ra, rb) = linear(r, p, values)?;
    // a·x + b (cmp) 0
    let (a, b) = (la - ra, lb - rb);
    if !(a.is_finite() && b.is_finite()) {
        return None;
    }
    if a == 0.0 {
        let holds = match cmp {
            BinOp::Le => b <= 0.0,
            BinOp::Lt => b < 0.0,
            BinOp::Ge => b >= 0.0,
            BinOp::Gt => b > 0.0,
            BinOp::Eq => b == 0.0,
            BinOp::Ne => b != 0.0,
            _ => return None,
        };
        return Some(if holds { Interval::ALL } else { Interval::NONE });
    }
    let t = -b / a;
    // Dividing by a negative coefficient turns the comparison around.
    let cmp = match (cmp, a < 0.0) {
        (BinOp::Le, true) => BinOp::Ge,
        (BinOp::Lt, true) => BinOp::Gt,
        (BinOp::Ge, true) => BinOp::Le,
        (BinOp::Gt, true) => BinOp::Lt,
        (other, _) => other,
    };
    let at_most = |open| Interval {
        hi: t,
        hi_open: open,
        ..Interval::ALL
    };
    let at_least = |open| Interval {
        lo: t,
        lo_open: open,
        ..Interval::ALL
    };
    match cmp {
        BinOp::Le => Some(at_most(false)),
        BinOp::Lt => Some(at_most(true)),
        BinOp::Ge => Some(at_least(false)),
        BinOp::Gt => Some(at_least(true)),
        BinOp::Eq => Some(at_most(false).meet(at_least(false))),
        _ => None,
    }
}

/// `e` as `a·p + b`, the other parameters held, when it is linear in `p`.
fn linear(e: &Expr, p: &str, values: &BTreeMap<String, ParamValue>) -> Option<(f64, f64)> {
    Some(match e {
        Expr::Num(n) => (0.0, *n),
        Expr::Param(q) if q == p => (1.0, 0.0),
        Expr::Param(q) => (0.0, values.get(q)?.as_f64()?),
        Expr::Neg(inner) => {
            let (a, b) = linear(inner, p, values)?;
            (-a, -b)
        }
        Expr::Bin(op, l, r) => {
            let (la, lb) = linear(l, p, values)?;
            let (ra, rb) = linear(r, p, values)?;
            match op {
                BinOp::Add => (la + ra, lb + rb),
                BinOp::Sub => (la - ra, lb - rb),
                BinOp::Mul if la == 0.0 => (lb * ra, lb * rb),
                BinOp::Mul if ra == 0.0 => (la * rb, lb * rb),
                _ => return None,
            }
        }
        _ => return None,
    })
}

/// Whether `e` reads parameter `p`.
fn reads(e: &Expr, p: &str) -> bool {
    match e {
        Expr::Param(q) => q == p,
        Expr::Neg(inner) | Expr::Not(inner) => reads(inner, p),
        Expr::Bin(_, l, r) => reads(l, p) || reads(r, p),
        Expr::Num(_) | Expr::Bool(_) | Expr::Text(_) => false,
    }
}

/// The next float above `x` (finite `x`).
fn up(x: f64) -> f64 {
    if x == 0.0 {
        f64::from_bits(1)
    } else if x > 0.0 {
        f64::from_bits(x.to_bits() + 1)
    } else {
        f64::from_bits(x.to_bits() - 1)
    }
}

/// The next float below `x` (finite `x`).
fn down(x: f64) -> f64 {
    -up(-x)
}
