//! Parsing a rule's text into an [`Expr`] tree (the grammar is in
//! `rules`), with the length, node and depth bounds checked here.

use super::{MAX_DEPTH, MAX_EXPR_LEN, MAX_NODES};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BinOp {
    Implies,
    Or,
    And,
    Le,
    Lt,
    Ge,
    Gt,
    Eq,
    Ne,
    Add,
    Sub,
    Mul,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Implies => "=>",
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::Le => "<=",
            BinOp::Lt => "<",
            BinOp::Ge => ">=",
            BinOp::Gt => ">",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
        }
    }
}

/// A parsed rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    Num(f64),
    Bool(bool),
    Text(String),
    Param(String),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
}

/// Why a rule's text does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at byte {at}: {message}")]
pub struct ParseError {
    pub at: usize,
    pub message: String,
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Num(n) => write!(f, "{n}"),
            Expr::Bool(b) => write!(f, "{b}"),
            Expr::Text(t) => write!(f, "{t:?}"),
            Expr::Param(p) if is_bare(p) => f.write_str(p),
            Expr::Param(p) => write!(f, "`{p}`"),
            Expr::Neg(e) => write!(f, "-({e})"),
            Expr::Not(e) => write!(f, "!({e})"),
            Expr::Bin(op, l, r) => write!(f, "({l} {} {r})", op.symbol()),
        }
    }
}

/// Parses one rule.
pub fn parse(text: &str) -> Result<Expr, ParseError> {
    if text.len() > MAX_EXPR_LEN {
        return Err(ParseError {
            at: MAX_EXPR_LEN,
            message: format!("a rule is at most {MAX_EXPR_LEN} bytes"),
        });
    }
    let mut p = Parser {
        src: text.as_bytes(),
        pos: 0,
        nodes: 0,
        depth: 0,
    };
    let e = p.implies()?;
    p.skip_space();
    if p.pos < p.src.len() {
        return Err(p.error("unexpected text after the rule"));
    }
    Ok(e)
}

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    nodes: usize,
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            at: self.pos,
            message: message.into(),
        }
    }

    fn skip_space(&mut self) {
        while self.pos < self.src.len() && self.src[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_space();
        if self.src[self.pos..].starts_with(token.as_bytes()) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    fn node(&mut self, e: Expr) -> Result<Expr, ParseError> {
        self.nodes += 1;
        if self.nodes > super::MAX_NODES {
            return Err(self.error(format!("a rule has at most {MAX_NODES} terms")));
        }
        Ok(e)
    }

    fn bin(&mut self, op: BinOp, l: Expr, r: Expr) -> Result<Expr, ParseError> {
        self.node(Expr::Bin(op, Box::new(l), Box::new(r)))
    }

    fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, ParseError>,
    ) -> Result<T, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!("a rule nests at most {MAX_DEPTH} deep")));
        }
        let out = f(self);
        self.depth -= 1;
        out
    }

    fn implies(&mut self) -> Result<Expr, ParseError> {
        let l = self.or()?;
        if self.eat("=>") {
            let r = self.nested(Self::implies)?;
            return self.bin(BinOp::Implies, l, r);
        }
        Ok(l)
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.and()?;
        while self.eat("||") {
            let r = self.and()?;
            l = self.bin(BinOp::Or, l, r)?;
        }
        Ok(l)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.not()?;
        while self.eat("&&") {
            let r = self.not()?;
            l = self.bin(BinOp::And, l, r)?;
        }
        Ok(l)
    }

    fn not(&mut self) -> Result<Expr, ParseError> {
        self.skip_space();
        if self.src.get(self.pos) == Some(&b'!') && self.src.get(self.pos + 1) != Some(&b'=') {
            self.pos += 1;
            let e = self.nested(Self::not)?;
            return self.node(Expr::Not(Box::new(e)));
        }
        self.compare()
    }

    fn compare(&mut self) -> Result<Expr, ParseError> {
        let l = self.sum()?;
        // Longest operators first, so `<=` is not read as `<`.
        for (token, op) in [
            ("<=", BinOp::Le),
            (">=", BinOp::Ge),
            ("==", BinOp::Eq),
            ("!=", BinOp::Ne),
            ("<", BinOp::Lt),
            (">", BinOp::Gt),
        ] {
            if self.eat(token) {
                let r = self.sum()?;
                return self.bin(op, l, r);
            }
        }
        Ok(l)
    }

    fn sum(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.product()?;
        loop {
            self.skip_space();
            // `=>` is not a minus; `-` followed by anything else is.
            let op = match self.src.get(self.pos) {
                Some(b'+') => BinOp::Add,
                Some(b'-') => BinOp::Sub,
                _ => return Ok(l),
            };
            self.pos += 1;
            let r = self.product()?;
            l = self.bin(op, l, r)?;
        }
    }

    fn product(&mut self) -> Result<Expr, ParseError> {
        let mut l = self.unary()?;
        while self.eat("*") {
            let r = self.unary()?;
            l = self.bin(BinOp::Mul, l, r)?;
        }
        Ok(l)
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.eat("-") {
            let e = self.nested(Self::unary)?;
            return self.node(Expr::Neg(Box::new(e)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, ParseError> {
        self.skip_space();
        let start = self.pos;
        let Some(&c) = self.src.get(self.pos) else {
            return Err(self.error("the rule ends where a value was expected"));
        };
        if c == b'(' {
            self.pos += 1;
            let e = self.nested(Self::implies)?;
            if !self.eat(")") {
                return Err(self.error("expected `)`"));
            }
            return Ok(e);
        }
        if c == b'`' {
            return self.quoted_name(start);
        }
        if c == b'"' {
            self.pos += 1;
            while self.pos < self.src.len() && self.src[self.pos] != b'"' {
                self.pos += 1;
            }
            if self.pos >= self.src.len() {
                return Err(self.error("a string is not closed"));
            }
            let text = String::from_utf8_lossy(&self.src[start + 1..self.pos]).into_owned();
            self.pos += 1;
            return self.node(Expr::Text(text));
        }
        if c.is_ascii_digit() || c == b'.' {
            while self.pos < self.src.len()
                && (self.src[self.pos].is_ascii_alphanumeric()
                    || self.src[self.pos] == b'.'
                    || self.src[self.pos] == b'_'
                    || ((self.src[self.pos] == b'-' || self.src[self.pos] == b'+')
                        && matches!(self.src[self.pos - 1], b'e' | b'E')))
            {
                self.pos += 1;
            }
            let text: String = String::from_utf8_lossy(&self.src[start..self.pos]).replace('_', "");
            return match text.parse::<f64>() {
                Ok(n) if n.is_finite() => self.node(Expr::Num(n)),
                _ => Err(ParseError {
                    at: start,
                    message: format!("`{text}` is not a finite number"),
                }),
            };
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            while self.pos < self.src.len()
                && (self.src[self.pos].is_ascii_alphanumeric()
                    || matches!(self.src[self.pos], b'_' | b'.'))
            {
                self.pos += 1;
            }
            let word = String::from_utf8_lossy(&self.src[start..self.pos]).into_owned();
            return match word.as_str() {
                "true" => self.node(Expr::Bool(true)),
                "false" => self.node(Expr::Bool(false)),
                _ => self.node(Expr::Param(word)),
            };
        }
        Err(self.error(format!("unexpected `{}`", c as char)))
    }

    /// A parameter name in backticks (`` `max-tokens` ``): any name the
    /// constraint file allows, `-` included.
    fn quoted_name(&mut self, start: usize) -> Result<Expr, ParseError> {
        self.pos += 1;
        while self.pos < self.src.len() && self.src[self.pos] != b'`' {
            self.pos += 1;
        }
        if self.pos >= self.src.len() {
            return Err(ParseError {
                at: start,
                message: "a backticked name is not closed".into(),
            });
        }
        let name = String::from_utf8_lossy(&self.src[start + 1..self.pos]).into_owned();
        self.pos += 1;
        if let Err(m) = crate::constraints::check_name(&name) {
            return Err(ParseError {
                at: start,
                message: format!("`{name}` is not a parameter name: {m}"),
            });
        }
        self.node(Expr::Param(name))
    }
}

/// Whether a parameter name reads back bare: otherwise it is printed in
/// backticks.
fn is_bare(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && name != "true"
        && name != "false"
}
