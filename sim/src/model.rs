//! The simulated system's response to its parameters: per request,
//! `latency_p99 = base + per_batch * batch_size + noise_ms * LogNormal(0,
//! sigma)` milliseconds and `error_rate = error_rate * LogNormal(0,
//! sigma)` (at most 1), then each matching [`Degrade`] multiplies its
//! metric. Seeded by the caller: the same seed gives the same samples.

use arqonbus_client::proto::message::{Metrics, Parameters};
use arqonbus_client::ParamValue;
use rand::Rng;

/// Why a model knob could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("`{0}`: expected PARAM=VALUE:METRIC*FACTOR, e.g. batch_size=40:latency_p99*3")]
    Degrade(String),
}

/// When a parameter has a value, a metric is multiplied by a factor.
#[derive(Debug, Clone, PartialEq)]
pub struct Degrade {
    pub parameter: String,
    pub value: ParamValue,
    pub metric: String,
    pub factor: f64,
}

impl std::str::FromStr for Degrade {
    type Err = ModelError;

    /// `batch_size=40:latency_p99*3`.
    fn from_str(text: &str) -> Result<Self, ModelError> {
        let bad = || ModelError::Degrade(text.to_string());
        let (when, effect) = text.split_once(':').ok_or_else(bad)?;
        let (parameter, value) = when.split_once('=').ok_or_else(bad)?;
        let (metric, factor) = effect.split_once('*').ok_or_else(bad)?;
        let value = ParamValue::parse_text(value).map_err(|_| bad())?;
        let factor: f64 = factor.parse().map_err(|_| bad())?;
        if parameter.is_empty() || metric.is_empty() || !factor.is_finite() || factor < 0.0 {
            return Err(bad());
        }
        Ok(Degrade {
            parameter: parameter.to_string(),
            value,
            metric: metric.to_string(),
            factor,
        })
    }
}

/// How the simulated system responds to its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Milliseconds of latency at batch size 0.
    pub base_latency_ms: f64,
    /// Milliseconds added per unit of `batch_size`.
    pub latency_per_batch_ms: f64,
    /// Scale of the log-normal latency noise, in milliseconds.
    pub noise_ms: f64,
    /// The log-normal's sigma (0: no noise).
    pub noise_sigma: f64,
    /// Median error rate, a fraction.
    pub error_rate: f64,
    pub degrade: Vec<Degrade>,
}

impl Default for Model {
    fn default() -> Self {
        Model {
            base_latency_ms: 100.0,
            latency_per_batch_ms: 1.0,
            noise_ms: 5.0,
            noise_sigma: 0.25,
            error_rate: 0.001,
            degrade: Vec::new(),
        }
    }
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut impl Rng) -> f64 {
    // In (0, 1]: the logarithm stays finite.
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

impl Model {
    /// One request's metrics under `parameters`.
    pub fn metrics(&self, parameters: &Parameters, rng: &mut impl Rng) -> Metrics {
        let batch = parameters
            .get("batch_size")
            .and_then(ParamValue::as_f64)
            .unwrap_or(0.0);
        let lognormal = |rng: &mut _| (self.noise_sigma * normal(rng)).exp();
        let latency = self.base_latency_ms
            + self.latency_per_batch_ms * batch
            + self.noise_ms * lognormal(rng);
        let errors = (self.error_rate * lognormal(rng)).clamp(0.0, 1.0);
        let mut m = Metrics::from([
            ("latency_p99".to_string(), latency),
            ("error_rate".to_string(), errors),
        ]);
        for d in &self.degrade {
            if parameters.get(&d.parameter) == Some(&d.value) {
                if let Some(v) = m.get_mut(&d.metric) {
                    *v = (*v * d.factor).min(if d.metric == "error_rate" {
                        1.0
                    } else {
                        f64::MAX
                    });
                }
            }
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn params(batch: i64) -> Parameters {
        Parameters::from([("batch_size".to_string(), ParamValue::Int(batch))])
    }

    #[test]
    fn a_degrade_knob_parses_and_applies_to_its_value_only() {
        let d: Degrade = "batch_size=40:latency_p99*3".parse().expect("parses");
        assert_eq!(d.value, ParamValue::Int(40));
        assert!("batch_size:latency_p99*3".parse::<Degrade>().is_err());
        assert!("batch_size=40:latency_p99*x".parse::<Degrade>().is_err());
        let model = Model {
            noise_sigma: 0.0,
            degrade: vec![d],
            ..Model::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let good = model.metrics(&params(32), &mut rng)["latency_p99"];
        let bad = model.metrics(&params(40), &mut rng)["latency_p99"];
        assert_eq!(good, 100.0 + 32.0 + 5.0);
        assert_eq!(bad, (100.0 + 40.0 + 5.0) * 3.0);
    }

    #[test]
    fn the_same_seed_gives_the_same_metrics() {
        let model = Model::default();
        let run = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..100)
                .map(|_| model.metrics(&params(32), &mut rng)["latency_p99"])
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        assert!(run(7).iter().all(|l| l.is_finite() && *l > 132.0));
    }
}
