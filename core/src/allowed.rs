//! What a rejected change would have been allowed to be, as data: an
//! optimizer shrinks its search space from it instead of parsing English.
//!
//! JSON shapes (what `to_json` writes, and what `hpo` reads):
//! `{"min": 1, "max": 256}`, `{"values": ["a", "b"]}`,
//! `{"max_step_abs": 32, "max_step_rel": null}`,
//! `{"quarantine_until_ms": 1700000000000, "distance": 0}`.

use crate::value::ParamValue;
use serde::{Deserialize, Serialize};

/// The machine-readable form of a rejection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Allowed {
    /// The hard range of an int or float parameter.
    Range { min: f64, max: f64 },
    /// The values allowed (an enum's members; a frozen parameter's live value).
    Values(Vec<ParamValue>),
    /// The largest move from the live value.
    Step {
        max_step_abs: Option<f64>,
        max_step_rel: Option<f64>,
    },
    /// The value (or one within `distance` of it) is quarantined until then.
    Quarantine { until_ms: u64, distance: f64 },
}

impl Allowed {
    /// The JSON form documented above.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Allowed::Range { min, max } => json!({ "min": min, "max": max }),
            Allowed::Values(values) => {
                json!({ "values": values.iter().map(ParamValue::to_json).collect::<Vec<_>>() })
            }
            Allowed::Step {
                max_step_abs,
                max_step_rel,
            } => json!({ "max_step_abs": max_step_abs, "max_step_rel": max_step_rel }),
            Allowed::Quarantine { until_ms, distance } => {
                json!({ "quarantine_until_ms": until_ms, "distance": distance })
            }
        }
    }
}
