//! No two leaders in one term: every node logs `role changed node=N
//! term=T role=leader` when it becomes leader, and a term in which two
//! nodes say so breaks Raft's election safety (a vote forgotten after a
//! power loss can cause it). Reads the nodes' logs after the run, in the
//! text or the JSON log format.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The leaders each node's log names, by term.
pub fn leaders_by_term(logs: &[(u64, String)]) -> BTreeMap<u64, BTreeSet<u64>> {
    let mut terms: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
    for (node, text) in logs {
        for line in text.lines().filter(|l| l.contains("role changed")) {
            if let Some(term) = leader_term(line) {
                terms.entry(term).or_default().insert(*node);
            }
        }
    }
    terms
}

/// The term of a `role changed` line that names the leader role.
fn leader_term(line: &str) -> Option<u64> {
    if line.trim_start().starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        let fields = v.get("fields")?;
        return (fields.get("role")?.as_str()? == "leader")
            .then(|| fields.get("term")?.as_u64())
            .flatten();
    }
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .map(|v| v.trim_matches('"').to_string())
    };
    (field("role=")? == "leader")
        .then(|| field("term=")?.parse().ok())
        .flatten()
}

/// Violations: each term more than one node led.
pub fn check(logs: &[(u64, String)]) -> (usize, Vec<String>) {
    let terms = leaders_by_term(logs);
    let violations = terms
        .iter()
        .filter(|(_, leaders)| leaders.len() > 1)
        .map(|(term, leaders)| format!("term {term} had two leaders: nodes {leaders:?}"))
        .collect();
    (terms.len(), violations)
}

/// Reads `node-N.log` for each node from the run's directory.
pub fn read_logs(dir: &Path, nodes: u64) -> Vec<(u64, String)> {
    (1..=nodes)
        .map(|id| {
            let text = std::fs::read_to_string(dir.join(format!("node-{id}.log")));
            (id, text.unwrap_or_default())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "2026-12-03T00:33:18Z  INFO arqonbus::raft: role changed node=1 term=3 role=\"leader\" leader=Some(1)";

    #[test]
    fn leaders_are_read_from_text_and_json_lines() {
        let json = r#"{"fields":{"message":"role changed","node":2,"term":4,"role":"leader"}}"#;
        let follower = "INFO arqonbus::raft: role changed node=2 term=3 role=\"follower\"";
        let logs = vec![(1, TEXT.to_string()), (2, format!("{follower}\n{json}"))];
        let terms = leaders_by_term(&logs);
        assert_eq!(terms[&3], BTreeSet::from([1]));
        assert_eq!(terms[&4], BTreeSet::from([2]));
        assert_eq!(check(&logs), (2, Vec::new()));
    }

    #[test]
    fn two_leaders_in_one_term_is_a_violation() {
        let other = TEXT.replace("node=1", "node=2");
        let (terms, violations) = check(&[(1, TEXT.to_string()), (2, other)]);
        assert_eq!(terms, 1);
        assert_eq!(violations, ["term 3 had two leaders: nodes {1, 2}"]);
    }
}
