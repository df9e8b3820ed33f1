//! The unit cube the models work in: each numeric parameter is one
//! coordinate in [0, 1] (linear or log), a bool is one coordinate (0 or 1),
//! an enum of k members is k one-hot coordinates. An inactive parameter's
//! coordinates are fixed (0.5, or all zero for an enum) so that points
//! differing only there look alike.

use super::{Assignment, Kind, Space, Value};

impl Kind {
    /// How many coordinates the kind takes.
    pub fn dims(&self) -> usize {
        match self {
            Kind::Enum { values } => values.len(),
            _ => 1,
        }
    }

    /// A numeric value's position in [0, 1] (log scale for log kinds).
    pub fn to_unit(&self, v: f64) -> f64 {
        let (lo, hi, log) = self.scale();
        let u = if log {
            (v.ln() - lo.ln()) / (hi.ln() - lo.ln())
        } else {
            (v - lo) / (hi - lo)
        };
        u.clamp(0.0, 1.0)
    }

    /// The numeric value at position `u` of [0, 1]; not rounded.
    pub fn from_unit(&self, u: f64) -> f64 {
        let (lo, hi, log) = self.scale();
        let u = u.clamp(0.0, 1.0);
        if log {
            (lo.ln() + u * (hi.ln() - lo.ln())).exp()
        } else {
            lo + u * (hi - lo)
        }
    }

    fn scale(&self) -> (f64, f64, bool) {
        match self {
            Kind::Int { min, max, log } => (*min as f64, *max as f64, *log),
            Kind::Float { min, max, log } => (*min, *max, *log),
            _ => (0.0, 1.0, false),
        }
    }
}

impl Space {
    /// The number of coordinates of an encoded assignment.
    pub fn dims(&self) -> usize {
        self.parameters.iter().map(|p| p.kind.dims()).sum()
    }

    /// The assignment as a point of the unit cube.
    pub fn encode(&self, assignment: &Assignment) -> Vec<f64> {
        let mut x = Vec::with_capacity(self.dims());
        for p in &self.parameters {
            match (&p.kind, assignment.get(&p.name)) {
                (Kind::Enum { values }, v) => x.extend(values.iter().map(|m| match v {
                    Some(Value::Enum(s)) if s == m => 1.0,
                    _ => 0.0,
                })),
                (Kind::Bool, Some(Value::Bool(b))) => x.push(if *b { 1.0 } else { 0.0 }),
                (kind, Some(v)) => x.push(v.as_f64().map_or(0.5, |f| kind.to_unit(f))),
                (_, None) => x.push(0.5),
            }
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_scale_round_trips_and_centres_on_the_geometric_mean() {
        let k = Kind::Float {
            min: 1e-4,
            max: 1.0,
            log: true,
        };
        assert!((k.to_unit(1e-2) - 0.5).abs() < 1e-12);
        assert!((k.from_unit(k.to_unit(0.003)) - 0.003).abs() < 1e-12);
    }

    #[test]
    fn enum_is_one_hot_and_missing_is_centred() {
        let space = crate::space::tests::example_space();
        let mut a = Assignment::new();
        a.insert("policy".into(), Value::Enum("lfu".into()));
        let x = space.encode(&a);
        assert_eq!(x.len(), space.dims());
        // Sorted: batch, cache_mb, compress, policy(lru, lfu, none), rate.
        assert_eq!(&x[3..6], &[0.0, 1.0, 0.0]);
        assert_eq!(x[0], 0.5);
    }
}
