//! Directory fsync: the one operation that makes names durable.
//!
//! `fsyncdir` records the directory's volatile entries as its durable
//! entries, creating a durable record for each inode newly named (its
//! attributes as of creation or its last fsync; a file's durable data is
//! whatever its own fsyncs made durable, nothing if none). Without the
//! datasync flag the directory's own attributes become durable as well.
//!
//! One rule keeps the durable namespace a tree: a directory has at most one
//! durable entry. When a moved directory's new entry becomes durable, its
//! old durable entry goes, as a journaling filesystem commits a rename
//! whole. A file moved between directories has no such rule: until both
//! are fsynced it may be durable under both names, or under neither.

use fuser::Errno;

use crate::attr::Kind;
use crate::error::to_errno;
use crate::image::Record;
use crate::name::Name;
use crate::state::State;
use crate::volatile::Body;

impl State {
    /// `fsync` (`datasync` false) or `fdatasync` on directory `ino`.
    pub fn fsyncdir(&mut self, ino: u64, datasync: bool) -> Result<(), Errno> {
        self.stats.fsyncdir += 1;
        self.sync_dir(ino, datasync)
    }

    /// Makes directory `ino`'s entries durable (and its attributes, without
    /// `datasync`), uncounted: `fsyncdir` and writeback share it.
    pub(crate) fn sync_dir(&mut self, ino: u64, datasync: bool) -> Result<(), Errno> {
        let inode = self.vol.get_mut(ino)?;
        let Body::Dir(dir) = &inode.body else {
            return Err(Errno::ENOTDIR);
        };
        let entries = dir.entries.clone();
        if !datasync {
            inode.synced = inode.attr;
        }
        let synced = inode.synced;
        for &child in entries.values() {
            if !self.durable.image().records.contains_key(&child) {
                let record = self.new_record(child)?;
                self.durable.image_mut().records.insert(child, record);
            }
        }
        let old = self
            .durable
            .image()
            .records
            .get(&ino)
            .map(|r| r.entries.clone())
            .unwrap_or_default();
        for (name, &child) in &entries {
            if old.get(name) != Some(&child) && self.vol.get(child)?.kind == Kind::Dir {
                self.drop_other_entries(child, ino, name);
            }
        }
        let record = self
            .durable
            .image_mut()
            .records
            .entry(ino)
            .or_insert(Record {
                kind: Kind::Dir,
                attr: synced,
                entries: Default::default(),
                target: None,
            });
        record.entries = entries;
        record.attr = synced;
        self.durable.commit().map_err(to_errno)?;
        self.collect()
    }

    /// The durable record an inode gets when an entry naming it first
    /// becomes durable.
    fn new_record(&self, ino: u64) -> Result<Record, Errno> {
        let inode = self.vol.get(ino)?;
        let target = match &inode.body {
            Body::Symlink(t) => Some(t.clone()),
            _ => None,
        };
        Ok(Record {
            kind: inode.kind,
            attr: inode.synced,
            entries: Default::default(),
            target,
        })
    }

    /// Removes every durable entry naming directory `child` except `dir/name`.
    fn drop_other_entries(&mut self, child: u64, dir: u64, name: &Name) {
        for (&ino, record) in self.durable.image_mut().records.iter_mut() {
            record
                .entries
                .retain(|n, &mut c| c != child || (ino == dir && n == name));
        }
    }
}
