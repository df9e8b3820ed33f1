//! Cross-parameter rules: a small typed expression grammar.
//!
//! ```text
//! rule     := implies
//! implies  := or ( "=>" implies )?          right-associative
//! or       := and ( "||" and )*
//! and      := not ( "&&" not )*
//! not      := "!" not | compare
//! compare  := sum ( ("<="|"<"|">="|">"|"=="|"!=") sum )?
//! sum      := product ( ("+"|"-") product )*
//! product  := unary ( "*" unary )*
//! unary    := "-" unary | atom
//! atom     := number | "true" | "false" | "\"text\"" | parameter | "(" rule ")"
//! parameter := [A-Za-z_][A-Za-z0-9_.]* | "`" name "`"
//! ```
//!
//! A parameter whose name a bare identifier cannot spell (`max-tokens`:
//! `-` is subtraction) is written in backticks: `` `max-tokens` * batch_size
//! <= 131072 ``. Inside them goes any name a constraint file allows
//! (letters, digits, `_`, `-`, `.`).
//!
//! A rule is parsed and type-checked against the target's parameters when
//! the constraint file loads ([`Rule::compile`]): numbers (int and float
//! parameters, literals) take arithmetic and ordering, booleans take the
//! logical operators, an enum parameter is compared (`==`, `!=`) with a
//! string that must be one of its values, and the whole rule is a boolean.
//! A rule that does not check refuses the whole file. Evaluation
//! ([`Compiled::holds`]) walks a tree of at most [`MAX_NODES`] nodes in
//! `f64` arithmetic: bounded, deterministic, and free of any clock or IO.

mod check;
mod parse;
mod range;

pub use check::{Compiled, Type};
pub use parse::{parse, BinOp, Expr, ParseError};

/// The longest rule text, in bytes.
pub const MAX_EXPR_LEN: usize = 1024;
/// The most nodes in one rule's tree (its evaluation cost bound).
pub const MAX_NODES: usize = 256;
/// The deepest nesting of one rule.
pub const MAX_DEPTH: usize = 32;
/// The most rules in one constraint file.
pub const MAX_RULES: usize = 256;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_names;
#[cfg(test)]
mod tests_range;
