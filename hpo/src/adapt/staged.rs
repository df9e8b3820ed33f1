//! Algorithm selection: uniform random proposals until `warmup`
//! observations are in, then the model's. The model is told everything
//! from the start, so it is ready when its turn comes.

use crate::error::HpoError;
use crate::optimizer::{Candidate, Observation, Optimizer, Prediction, RandomSearch};
use crate::region::Region;
use crate::space::Assignment;
use crate::Rng;

/// Random while warming up, then the model.
pub struct Staged {
    warmup: usize,
    told: usize,
    initial: RandomSearch,
    model: Box<dyn Optimizer>,
}

impl Staged {
    pub fn new(warmup: usize, model: Box<dyn Optimizer>) -> Staged {
        Staged {
            warmup,
            told: 0,
            initial: RandomSearch,
            model,
        }
    }

    /// Whether the model is choosing now.
    pub fn warmed_up(&self) -> bool {
        self.told >= self.warmup
    }
}

impl Optimizer for Staged {
    fn name(&self) -> &'static str {
        "auto"
    }

    fn ask(&mut self, region: &Region, rng: &mut Rng) -> Result<Candidate, HpoError> {
        if self.warmed_up() {
            self.model.ask(region, rng)
        } else {
            self.initial.ask(region, rng)
        }
    }

    fn tell(&mut self, observation: &Observation) {
        self.told += 1;
        self.model.tell(observation);
    }

    fn predict(&self, a: &Assignment) -> Option<Prediction> {
        self.model.predict(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizer::LocalSearch;

    #[test]
    fn random_until_warm_then_the_model() {
        let space = crate::space::tests::one_float();
        let bounds = crate::feedback::LearnedBounds::from_space(&space);
        let live = Assignment::new();
        let region = Region::new(&space, &bounds, &live, 0).unwrap();
        let mut rng = crate::seeded(1);
        let mut staged = Staged::new(2, Box::new(LocalSearch::default()));
        for round in 0..4 {
            let c = staged.ask(&region, &mut rng).unwrap();
            let expected = if round < 2 { "random" } else { "local" };
            assert_eq!(c.algorithm, expected, "round {round}");
            staged.tell(&Observation {
                assignment: c.assignment,
                value: round as f64,
            });
        }
    }
}
