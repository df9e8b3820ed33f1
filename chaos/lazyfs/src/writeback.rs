//! Writeback: what a kernel does with dirty pages on its own, a while after
//! they were written, whether or not anyone calls fsync.
//!
//! A real machine that loses power keeps what its kernel had already written
//! back, and loses only the recent tail. Under the strict model (no
//! writeback, the default) a program that never syncs loses *everything*,
//! which a replicated system can survive by copying it all back from a peer;
//! the dangerous loss is the tail after older state survived. With
//! [`crate::MountConfig::writeback`] set, a thread makes the whole volatile
//! state durable at that period, as if every file and then every directory,
//! from the root down, had been fsynced. It does not count as an fsync in
//! the counters; `writebacks` counts it.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use fuser::Errno;

use crate::attr::Kind;
use crate::handle::Handle;
use crate::image::ROOT;
use crate::state::State;

impl State {
    /// Makes everything the volatile view holds durable: file data and
    /// attributes first, then directory entries from the root down.
    pub fn write_back(&mut self) -> Result<(), Errno> {
        let files: Vec<u64> = self
            .vol
            .inos()
            .filter(|&ino| self.vol.get(ino).is_ok_and(|i| i.kind == Kind::File))
            .collect();
        for ino in files {
            self.sync(ino, false)?;
        }
        let mut dirs = VecDeque::from([ROOT]);
        while let Some(dir) = dirs.pop_front() {
            self.sync_dir(dir, false)?;
            for &child in self.vol.dir(dir)?.entries.values() {
                if self.vol.get(child)?.kind == Kind::Dir {
                    dirs.push_back(child);
                }
            }
        }
        self.stats.writebacks += 1;
        Ok(())
    }
}

/// Runs [`State::write_back`] on `handle` every `period` until `stop`'s
/// sender is dropped.
pub(crate) fn spawn(
    handle: Handle,
    period: Duration,
    stop: Receiver<()>,
) -> std::io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name("lazyfs-writeback".into())
        .spawn(move || loop {
            match stop.recv_timeout(period) {
                Err(RecvTimeoutError::Timeout) => {
                    if let Err(e) = handle.op(State::write_back) {
                        tracing::error!(error = ?e, "writeback failed");
                    }
                }
                Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
            }
        })
}
