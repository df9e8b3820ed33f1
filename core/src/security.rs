//! Security summaries: how a node tells the replicated state about the
//! refused and forbidden attempts it saw, without one log entry per
//! attempt. Each node counts attempts per identity and kind in a bounded
//! table and proposes at most one [`SecuritySummary`] per interval; `apply`
//! checks its shape and audits it as one entry (`security_summary`).
//!
//! Kinds are names (`forbidden`, `malformed`, `over_limit`, `deadline`,
//! and later ones), so a new kind needs no new command.

use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// Rows one summary may hold besides the overflow row.
pub const MAX_SUMMARY_ROWS: usize = 256;
/// The identity and kind of the row that sums every attempt that did not
/// fit in [`MAX_SUMMARY_ROWS`].
pub const OVERFLOW: &str = "other";
/// Bytes of an identity, kind or address a row may hold.
pub const MAX_ROW_TEXT: usize = 128;

/// Attempts of one kind by one identity during one interval on one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// The certificate subject (CN), or [`OVERFLOW`].
    pub identity: String,
    /// What was attempted: `forbidden`, `malformed`, `over_limit`, … or
    /// [`OVERFLOW`].
    pub kind: String,
    /// How many times, at least 1.
    pub count: u64,
    /// The remote address of the first attempt of the interval.
    pub first_remote: String,
}

/// What one node saw in one interval.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SecuritySummary {
    /// In the order of the node's table (identity, then kind); an
    /// overflow row last.
    pub rows: Vec<SummaryRow>,
    /// Attempts this node counted but could not report in an earlier
    /// interval (no leader, or the leader did not take them).
    pub lost: u64,
}

impl SecuritySummary {
    /// Why this summary cannot be recorded, if it cannot.
    pub fn problem(&self) -> Option<String> {
        if self.rows.is_empty() && self.lost == 0 {
            return Some("an empty summary".into());
        }
        if self.rows.len() > MAX_SUMMARY_ROWS + 1 {
            return Some(format!(
                "{} rows, at most {} and one `{OVERFLOW}` row",
                self.rows.len(),
                MAX_SUMMARY_ROWS
            ));
        }
        self.rows.iter().find_map(|row| {
            let texts = [&row.identity, &row.kind, &row.first_remote];
            if texts.iter().any(|t| t.is_empty() || t.len() > MAX_ROW_TEXT) {
                Some(format!("a row's texts must be 1-{MAX_ROW_TEXT} bytes"))
            } else if row.count == 0 {
                Some("a row counts no attempt".into())
            } else {
                None
            }
        })
    }

    /// The audit details: one line per row, `identity=… kind=… count=…
    /// first_remote=…`, then `lost=…` when attempts were lost.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for row in &self.rows {
            let _ = writeln!(
                out,
                "identity={} kind={} count={} first_remote={}",
                word(&row.identity),
                word(&row.kind),
                row.count,
                word(&row.first_remote)
            );
        }
        if self.lost > 0 {
            let _ = writeln!(out, "lost={}", self.lost);
        }
        out.pop();
        out
    }

    /// Attempts counted in the rows.
    pub fn attempts(&self) -> u64 {
        self.rows.iter().map(|r| r.count).sum()
    }
}

/// `text` as one word of the details: whitespace, `=` and control
/// characters escaped.
fn word(text: &str) -> String {
    text.chars()
        .flat_map(|c| match c.is_whitespace() || c.is_control() || c == '=' {
            true => c.escape_unicode().collect::<Vec<_>>(),
            false => vec![c],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(identity: &str, count: u64) -> SummaryRow {
        SummaryRow {
            identity: identity.into(),
            kind: "forbidden".into(),
            count,
            first_remote: "127.0.0.1:4000".into(),
        }
    }

    #[test]
    fn a_summary_describes_one_line_per_row_and_escapes_what_would_split_it() {
        let s = SecuritySummary {
            rows: vec![row("viewer", 300), row("mal lory=x", 2)],
            lost: 7,
        };
        assert_eq!(s.problem(), None);
        assert_eq!(s.attempts(), 302);
        assert_eq!(
            s.describe(),
            "identity=viewer kind=forbidden count=300 first_remote=127.0.0.1:4000\n\
             identity=mal\\u{20}lory\\u{3d}x kind=forbidden count=2 first_remote=127.0.0.1:4000\n\
             lost=7"
        );
    }

    #[test]
    fn a_summary_out_of_shape_is_named() {
        let empty = SecuritySummary::default();
        assert!(empty.problem().is_some());
        let many = SecuritySummary {
            rows: (0..=MAX_SUMMARY_ROWS + 1)
                .map(|i| row(&format!("u{i}"), 1))
                .collect(),
            lost: 0,
        };
        assert!(many.problem().unwrap().contains("rows"));
        let zero = SecuritySummary {
            rows: vec![row("v", 0)],
            lost: 0,
        };
        assert!(zero.problem().is_some());
        let long = SecuritySummary {
            rows: vec![row(&"v".repeat(MAX_ROW_TEXT + 1), 1)],
            lost: 0,
        };
        assert!(long.problem().is_some());
    }
}
