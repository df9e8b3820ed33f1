//! The sequential specification the checker holds histories to: a single
//! register of integers, initially empty (`None`), with read, write and
//! compare-and-set.

use crate::ops::Action;
use std::fmt;

/// The register's value; `None` until the first write.
pub type State = Option<i64>;

/// Why an operation cannot take effect in a given state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A read returned something other than the register's value.
    Read { returned: State, holds: State },
    /// A compare-and-set expected something other than the register's value.
    Cas { expected: State, holds: State },
}

/// The state after `action` takes effect in `state`, or why it cannot.
pub fn step(state: State, action: Action) -> Result<State, Refusal> {
    match action {
        Action::Read(returned) if returned == state => Ok(state),
        Action::Read(returned) => Err(Refusal::Read {
            returned,
            holds: state,
        }),
        Action::Write(value) => Ok(Some(value)),
        Action::Cas { expected, new } if expected == state => Ok(Some(new)),
        Action::Cas { expected, .. } => Err(Refusal::Cas {
            expected,
            holds: state,
        }),
    }
}

/// Shows a register value the way the history writes it.
pub struct Shown(pub State);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(value) => write!(f, "{value}"),
            None => f.write_str("null"),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Refusal::Read { returned, holds } => write!(
                f,
                "it returned {} but the register holds {}",
                Shown(returned),
                Shown(holds)
            ),
            Refusal::Cas { expected, holds } => write!(
                f,
                "it expected {} but the register holds {}",
                Shown(expected),
                Shown(holds)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_must_return_the_current_value() {
        assert_eq!(step(None, Action::Read(None)), Ok(None));
        assert_eq!(step(Some(2), Action::Read(Some(2))), Ok(Some(2)));
        assert!(step(Some(2), Action::Read(Some(1))).is_err());
        assert!(step(None, Action::Read(Some(1))).is_err());
    }

    #[test]
    fn writes_always_apply() {
        assert_eq!(step(None, Action::Write(4)), Ok(Some(4)));
        assert_eq!(step(Some(1), Action::Write(4)), Ok(Some(4)));
    }

    #[test]
    fn cas_applies_only_when_the_compare_matches() {
        let cas = |expected, new| Action::Cas { expected, new };
        assert_eq!(step(Some(1), cas(Some(1), 2)), Ok(Some(2)));
        assert_eq!(step(None, cas(None, 2)), Ok(Some(2)));
        let refused = step(Some(3), cas(Some(1), 2)).expect_err("mismatch");
        assert_eq!(
            refused.to_string(),
            "it expected 1 but the register holds 3"
        );
    }
}
