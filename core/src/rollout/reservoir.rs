//! A bounded, uniform sample of one metric in one cohort: at most
//! `capacity` values (10,000 by default) out of any number seen, each seen
//! value equally likely to be kept (Vitter's Algorithm R).
//!
//! The randomness is ChaCha8 from a seed the caller gives, never the
//! operating system's: the same seed and the same values keep the same
//! sample on every platform, which makes a verdict reproducible from a
//! recorded stream. A scheduler would derive the seed from what the
//! reservoir is for (target, proposal, cohort, metric). A reservoir lives
//! on the leader only; after a failover the new leader starts empty.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use thiserror::Error;

/// A value a reservoir refuses.
#[derive(Debug, Clone, Copy, PartialEq, Error)]
pub enum ReservoirError {
    /// NaN or an infinity: the verdict could not rank it.
    #[error("{0} is not a finite number")]
    NonFinite(f64),
}

/// A uniform sample of at most `capacity` values, with the count of every
/// value offered and accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct Reservoir {
    capacity: usize,
    seen: u64,
    kept: Vec<f64>,
    rng: ChaCha8Rng,
}

impl Reservoir {
    /// What the verdict keeps per cohort and metric unless told otherwise.
    pub const DEFAULT_CAPACITY: usize = 10_000;

    /// An empty reservoir keeping at most `capacity` values. A capacity of
    /// zero keeps none and still counts.
    pub fn new(capacity: usize, seed: u64) -> Reservoir {
        Reservoir {
            capacity,
            seen: 0,
            kept: Vec::with_capacity(capacity.min(Self::DEFAULT_CAPACITY)),
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// An empty reservoir of [`Reservoir::DEFAULT_CAPACITY`].
    pub fn with_seed(seed: u64) -> Reservoir {
        Reservoir::new(Self::DEFAULT_CAPACITY, seed)
    }

    /// Offers one value: counted, and kept with probability
    /// `capacity / seen`, replacing a kept value chosen uniformly. A
    /// non-finite value is refused and neither counted nor kept.
    pub fn offer(&mut self, value: f64) -> Result<(), ReservoirError> {
        if !value.is_finite() {
            return Err(ReservoirError::NonFinite(value));
        }
        self.seen += 1;
        if self.kept.len() < self.capacity {
            self.kept.push(value);
            return Ok(());
        }
        let slot = self.rng.random_range(0..self.seen);
        if let Some(kept) = usize::try_from(slot)
            .ok()
            .and_then(|slot| self.kept.get_mut(slot))
        {
            *kept = value;
        }
        Ok(())
    }

    /// The values kept, in no meaningful order.
    pub fn samples(&self) -> &[f64] {
        &self.kept
    }

    /// How many values were accepted in all, kept or not.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// The most values this reservoir keeps.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many values are kept now.
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }
}

#[cfg(test)]
mod tests;
