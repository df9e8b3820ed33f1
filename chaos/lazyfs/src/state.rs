//! The filesystem's state: the durable store, the volatile view over it,
//! and the counters. Operations on names live in `namespace.rs`, on
//! contents in `data.rs`, directory fsync in `dirsync.rs`; this file has
//! the rest and the inode lifetime rules.
//!
//! An inode stays in the volatile view while a volatile entry names it or
//! the kernel holds a reference. Its durable record and data file stay while
//! the root or a live volatile inode reaches it through durable entries, so
//! a file unlinked (volatile) but still durably linked keeps its durable
//! data, and a file fsynced whose entry never was durable is dropped once
//! nothing refers to it, or at the next power loss.

use std::iter;
use std::path::{Path, PathBuf};

use fuser::{Errno, FileAttr};

use crate::attr::{Kind, Time};
use crate::durable::Durable;
use crate::error::{to_errno, Error};
use crate::image::ROOT;
use crate::name::Name;
use crate::stats::Stats;
use crate::volatile::{Body, Volatile};

/// Attribute changes a `setattr` asks for.
#[derive(Clone, Copy, Debug, Default)]
pub struct SetAttr {
    /// New permission bits (the file type bits are ignored).
    pub mode: Option<u32>,
    /// New owner.
    pub uid: Option<u32>,
    /// New group.
    pub gid: Option<u32>,
    /// New size: a truncate or an extension with zeros.
    pub size: Option<u64>,
    /// New access time.
    pub atime: Option<Time>,
    /// New modification time.
    pub mtime: Option<Time>,
}

/// One entry of a directory listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// The inode it names.
    pub ino: u64,
    /// That inode's kind.
    pub kind: Kind,
    /// The entry's name.
    pub name: Name,
}

/// What a power loss threw away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PowerLoss {
    /// Unsynced written bytes discarded.
    pub discarded_bytes: u64,
    /// Power losses so far, this one included.
    pub power_losses: u64,
}

/// The whole filesystem.
#[derive(Debug)]
pub struct State {
    pub(crate) durable: Durable,
    pub(crate) vol: Volatile,
    pub(crate) stats: Stats,
    pub(crate) max_unsynced: u64,
    backing: PathBuf,
}

impl State {
    /// Opens the backing directory; `max_unsynced` caps the unsynced bytes
    /// held in memory (writes past it fail with `ENOSPC`).
    pub fn open(backing: &Path, max_unsynced: u64) -> Result<State, Error> {
        let mut durable = Durable::open(backing)?;
        let vol = Volatile::from_durable(&mut durable)?;
        Ok(State {
            durable,
            vol,
            stats: Stats::default(),
            max_unsynced,
            backing: backing.to_path_buf(),
        })
    }

    /// The backing directory.
    pub fn backing(&self) -> &Path {
        &self.backing
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Looks `name` up in `parent`; the kernel now holds one more reference.
    pub fn lookup(&mut self, parent: u64, name: &[u8]) -> Result<FileAttr, Errno> {
        let ino = self.vol.child(parent, name)?;
        self.vol.get_mut(ino)?.lookups += 1;
        self.vol.file_attr(ino)
    }

    /// The kernel drops `n` references to `ino`.
    pub fn forget(&mut self, ino: u64, n: u64) -> Result<(), Errno> {
        if let Ok(inode) = self.vol.get_mut(ino) {
            inode.lookups = inode.lookups.saturating_sub(n);
            self.release_if_dead(ino)?;
        }
        Ok(())
    }

    /// Attributes of `ino`.
    pub fn getattr(&self, ino: u64) -> Result<FileAttr, Errno> {
        self.vol.file_attr(ino)
    }

    /// Changes attributes of `ino` in the volatile view.
    pub fn setattr(&mut self, ino: u64, set: &SetAttr) -> Result<FileAttr, Errno> {
        if let Some(size) = set.size {
            self.truncate(ino, size)?;
        }
        let attr = &mut self.vol.get_mut(ino)?.attr;
        if let Some(mode) = set.mode {
            attr.perm = (mode & 0o7777) as u16;
        }
        if let Some(uid) = set.uid {
            attr.uid = uid;
        }
        if let Some(gid) = set.gid {
            attr.gid = gid;
        }
        if let Some(atime) = set.atime {
            attr.atime = atime;
        }
        if let Some(mtime) = set.mtime {
            attr.mtime = mtime;
        }
        attr.touch_meta();
        self.vol.file_attr(ino)
    }

    /// The target of symlink `ino`.
    pub fn readlink(&self, ino: u64) -> Result<Vec<u8>, Errno> {
        match &self.vol.get(ino)?.body {
            Body::Symlink(target) => Ok(target.as_bytes().to_vec()),
            _ => Err(Errno::EINVAL),
        }
    }

    /// The entries of directory `ino`, `.` and `..` first.
    pub fn readdir(&self, ino: u64) -> Result<Vec<DirEntry>, Errno> {
        let dir = self.vol.dir(ino)?;
        let dots = [(ino, &b"."[..]), (dir.parent, &b".."[..])];
        let mut out: Vec<DirEntry> = dots
            .into_iter()
            .map(|(ino, name)| DirEntry {
                ino,
                kind: Kind::Dir,
                name: Name::new(name),
            })
            .collect();
        for (name, &child) in &dir.entries {
            out.push(DirEntry {
                ino: child,
                kind: self.vol.get(child)?.kind,
                name: name.clone(),
            });
        }
        Ok(out)
    }

    /// Checks `ino` can be opened as a file (`dir` false) or directory.
    pub fn check_open(&self, ino: u64, dir: bool) -> Result<(), Errno> {
        match (self.vol.get(ino)?.kind, dir) {
            (Kind::Dir, false) => Err(Errno::EISDIR),
            (Kind::Dir, true) | (_, false) => Ok(()),
            (_, true) => Err(Errno::ENOTDIR),
        }
    }

    /// Cuts the power: every unsynced write and namespace change is gone,
    /// the view is what is durable. The filesystem keeps serving; inode
    /// numbers only the lost view knew answer `ESTALE`.
    pub fn power_loss(&mut self) -> Result<PowerLoss, Error> {
        let discarded_bytes = self.stats.unsynced_bytes;
        self.durable.collect(iter::empty())?;
        self.vol = Volatile::from_durable(&mut self.durable)?;
        self.stats.unsynced_bytes = 0;
        self.stats.power_losses += 1;
        tracing::info!(
            discarded_bytes,
            power_losses = self.stats.power_losses,
            "power loss"
        );
        Ok(PowerLoss {
            discarded_bytes,
            power_losses: self.stats.power_losses,
        })
    }

    /// Drops `ino` from the volatile view if nothing keeps it, and its
    /// durable record and data if nothing durable keeps those either.
    pub(crate) fn release_if_dead(&mut self, ino: u64) -> Result<(), Errno> {
        if ino == ROOT || !self.vol.get(ino).is_ok_and(|i| i.is_dead()) {
            return Ok(());
        }
        if let Some(inode) = self.vol.remove(ino) {
            self.stats.release(inode.held());
        }
        if self.durable.holds(ino) {
            self.collect()?;
        }
        Ok(())
    }

    /// Drops durable records and data nothing reaches any more.
    pub(crate) fn collect(&mut self) -> Result<(), Errno> {
        let alive: Vec<u64> = self.vol.inos().collect();
        self.durable.collect(alive).map_err(to_errno)
    }
}

#[cfg(test)]
mod tests;
