//! A shared handle on the filesystem state: the FUSE session, the control
//! socket and the harness (in-process) all go through one.

use std::sync::{Arc, Mutex, MutexGuard};

use fuser::Errno;

use crate::error::Error;
use crate::state::{PowerLoss, State};
use crate::stats::Stats;

/// A cloneable handle on one mounted filesystem's state.
#[derive(Clone, Debug)]
pub struct Handle(Arc<Mutex<State>>);

impl Handle {
    /// Wraps `state`.
    pub fn new(state: State) -> Handle {
        Handle(Arc::new(Mutex::new(state)))
    }

    /// Cuts the power: see [`State::power_loss`].
    pub fn power_loss(&self) -> Result<PowerLoss, Error> {
        self.lock()?.power_loss()
    }

    /// The counters now.
    pub fn stats(&self) -> Result<Stats, Error> {
        Ok(self.lock()?.stats())
    }

    /// Runs one filesystem operation under the lock.
    pub(crate) fn op<T>(&self, f: impl FnOnce(&mut State) -> Result<T, Errno>) -> Result<T, Errno> {
        match self.lock() {
            Ok(mut state) => f(&mut state),
            Err(e) => {
                tracing::error!(error = %e, "operation refused");
                Err(Errno::EIO)
            }
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>, Error> {
        self.0.lock().map_err(|_| Error::Poisoned)
    }
}
