//! The `[security]` table of a constraint file: the target's security
//! policy. One small struct of its own, beside the constraint set, so the
//! constraint file's format 2 can take it over unchanged.
//!
//! ```toml
//! [security]
//! signing_required = true   # the default
//! ```

use serde_json::Value;

/// A target's security policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityPolicy {
    /// State changes of this target must carry a valid Ed25519 signature
    /// of the sender's certificate key (PROTOCOL.md §5).
    pub signing_required: bool,
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        SecurityPolicy {
            signing_required: true,
        }
    }
}

/// Reads the `security` entry of a parsed file's root (absent: the
/// default), pushing what is wrong with it to `problems`.
pub fn read_policy(
    root: &serde_json::Map<String, Value>,
    problems: &mut Vec<String>,
) -> SecurityPolicy {
    let mut policy = SecurityPolicy::default();
    let Some(table) = root.get("security") else {
        return policy;
    };
    let Some(table) = table.as_object() else {
        problems.push("`security` must be a table/object".into());
        return policy;
    };
    for (key, value) in table {
        match (key.as_str(), value.as_bool()) {
            ("signing_required", Some(b)) => policy.signing_required = b,
            ("signing_required", None) => {
                problems.push("`security.signing_required` must be true or false".into())
            }
            _ => problems.push(format!("unknown field `security.{key}`")),
        }
    }
    policy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> (SecurityPolicy, Vec<String>) {
        let v: Value = serde_json::from_str(json).expect("json");
        let mut problems = Vec::new();
        let p = read_policy(v.as_object().expect("object"), &mut problems);
        (p, problems)
    }

    #[test]
    fn signing_is_required_unless_the_file_says_otherwise() {
        assert_eq!(read("{}").0, SecurityPolicy::default());
        assert!(read("{}").0.signing_required);
        let (p, problems) = read(r#"{"security": {"signing_required": false}}"#);
        assert!(!p.signing_required && problems.is_empty());
        assert_eq!(read(r#"{"security": {"signing_required": 1}}"#).1.len(), 1);
        assert_eq!(read(r#"{"security": {"sign": true}}"#).1.len(), 1);
    }
}
