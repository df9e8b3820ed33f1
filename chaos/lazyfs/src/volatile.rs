//! The volatile view: what reads and lookups see, as a page cache and
//! dentry cache would, before anything is made durable.
//!
//! Every inode the view knows is here with its attributes and, for a
//! directory, its entries. A file's contents are the durable data file's
//! bytes below `floor`, overlaid with the unsynced extents; only those
//! extents hold memory, never whole files.

use std::collections::{BTreeMap, HashMap};
use std::time::SystemTime;

use fuser::{Errno, FileAttr, INodeNo};

use crate::attr::{Attr, Kind};
use crate::durable::Durable;
use crate::error::Error;
use crate::extents::Extents;
use crate::image::{Record, ROOT};
use crate::name::Name;

/// A regular file's volatile contents.
#[derive(Debug, Default)]
pub struct FileData {
    /// Its size in the volatile view.
    pub size: u64,
    /// Durable bytes at or past this offset are gone (truncated away);
    /// never more than the durable size, nor than `size`.
    pub floor: u64,
    /// Unsynced changes.
    pub extents: Extents,
}

/// A directory's volatile entries.
#[derive(Debug, Default)]
pub struct Dir {
    /// Entries by name.
    pub entries: BTreeMap<Name, u64>,
    /// The directory holding this one (the root holds itself).
    pub parent: u64,
}

/// What an inode holds besides attributes.
#[derive(Debug)]
pub enum Body {
    /// A regular file.
    File(FileData),
    /// A directory.
    Dir(Dir),
    /// A symlink and its target.
    Symlink(Name),
    /// A fifo, socket or device node.
    Special,
}

/// One inode in the volatile view.
#[derive(Debug)]
pub struct Inode {
    /// Its kind.
    pub kind: Kind,
    /// Its current attributes.
    pub attr: Attr,
    /// Its attributes as of creation or the last fsync: what a directory
    /// fsync that makes its entry durable records.
    pub synced: Attr,
    /// Volatile directory entries naming it (a directory: 1 while linked).
    pub links: u32,
    /// References the kernel holds (lookups not yet forgotten).
    pub lookups: u64,
    /// Contents.
    pub body: Body,
}

impl Inode {
    /// A new inode as `mknod`, `mkdir` or `symlink` makes it.
    pub fn new(kind: Kind, attr: Attr, body: Body) -> Inode {
        Inode {
            kind,
            attr,
            synced: attr,
            links: 1,
            lookups: 1,
            body,
        }
    }

    /// Whether nothing (no entry, no kernel reference) keeps it.
    pub fn is_dead(&self) -> bool {
        self.links == 0 && self.lookups == 0
    }

    /// Unsynced bytes held for it.
    pub fn held(&self) -> u64 {
        match &self.body {
            Body::File(f) => f.extents.held(),
            _ => 0,
        }
    }
}

/// All inodes of the volatile view.
#[derive(Debug, Default)]
pub struct Volatile {
    inodes: HashMap<u64, Inode>,
}

impl Volatile {
    /// The view right after mounting or a power loss: exactly what is
    /// durable and reachable from the root.
    pub fn from_durable(durable: &mut Durable) -> Result<Volatile, Error> {
        let reachable = durable.image().closure([ROOT]);
        let links = durable.image().link_counts();
        let records: Vec<(u64, Record)> = durable
            .image()
            .records
            .iter()
            .filter(|(ino, _)| reachable.contains(ino))
            .map(|(&ino, r)| (ino, r.clone()))
            .collect();
        let mut parents = HashMap::from([(ROOT, ROOT)]);
        for (ino, record) in &records {
            for &child in record.entries.values() {
                parents.insert(child, *ino);
            }
        }
        let mut inodes = HashMap::new();
        for (ino, record) in records {
            let body = match record.kind {
                Kind::File => {
                    let size = durable.len(ino)?;
                    Body::File(FileData {
                        size,
                        floor: size,
                        extents: Extents::default(),
                    })
                }
                Kind::Dir => Body::Dir(Dir {
                    entries: record.entries,
                    parent: parents.get(&ino).copied().unwrap_or(ROOT),
                }),
                Kind::Symlink => Body::Symlink(record.target.unwrap_or_else(|| Name::new(b""))),
                _ => Body::Special,
            };
            let inode = Inode {
                kind: record.kind,
                attr: record.attr,
                synced: record.attr,
                links: if ino == ROOT {
                    1
                } else {
                    links.get(&ino).copied().unwrap_or(0)
                },
                lookups: 0,
                body,
            };
            inodes.insert(ino, inode);
        }
        Ok(Volatile { inodes })
    }

    /// The inode `ino`; `ESTALE` for a number the view does not know (one
    /// a power loss took away while the kernel still held it).
    pub fn get(&self, ino: u64) -> Result<&Inode, Errno> {
        self.inodes.get(&ino).ok_or(Errno::ESTALE)
    }

    /// The inode `ino`, to change.
    pub fn get_mut(&mut self, ino: u64) -> Result<&mut Inode, Errno> {
        self.inodes.get_mut(&ino).ok_or(Errno::ESTALE)
    }

    /// The directory `ino`; `ENOTDIR` if it is something else.
    pub fn dir(&self, ino: u64) -> Result<&Dir, Errno> {
        match &self.get(ino)?.body {
            Body::Dir(d) => Ok(d),
            _ => Err(Errno::ENOTDIR),
        }
    }

    /// The directory `ino`, to change.
    pub fn dir_mut(&mut self, ino: u64) -> Result<&mut Dir, Errno> {
        match &mut self.get_mut(ino)?.body {
            Body::Dir(d) => Ok(d),
            _ => Err(Errno::ENOTDIR),
        }
    }

    /// The regular file `ino`, to change; `EISDIR` for a directory.
    pub fn file_mut(&mut self, ino: u64) -> Result<&mut FileData, Errno> {
        match &mut self.get_mut(ino)?.body {
            Body::File(f) => Ok(f),
            Body::Dir(_) => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    /// The inode `name` in directory `parent` names.
    pub fn child(&self, parent: u64, name: &[u8]) -> Result<u64, Errno> {
        self.dir(parent)?
            .entries
            .get(name)
            .copied()
            .ok_or(Errno::ENOENT)
    }

    /// Adds an inode.
    pub fn insert(&mut self, ino: u64, inode: Inode) {
        self.inodes.insert(ino, inode);
    }

    /// Removes an inode, returning it.
    pub fn remove(&mut self, ino: u64) -> Option<Inode> {
        self.inodes.remove(&ino)
    }

    /// The numbers of every inode in the view.
    pub fn inos(&self) -> impl Iterator<Item = u64> + '_ {
        self.inodes.keys().copied()
    }

    /// Unsynced bytes held across all files.
    #[cfg(test)]
    pub fn held(&self) -> u64 {
        self.inodes.values().map(Inode::held).sum()
    }

    /// Attributes of `ino` in the form the kernel takes.
    pub fn file_attr(&self, ino: u64) -> Result<FileAttr, Errno> {
        let inode = self.get(ino)?;
        let (size, nlink) = match &inode.body {
            Body::File(f) => (f.size, inode.links),
            Body::Dir(d) => (4096, 2 + self.subdirs(d)),
            Body::Symlink(t) => (t.as_bytes().len() as u64, inode.links),
            Body::Special => (0, inode.links),
        };
        let ctime: SystemTime = inode.attr.ctime.to_system();
        Ok(FileAttr {
            ino: INodeNo(ino),
            size,
            blocks: size.div_ceil(512),
            atime: inode.attr.atime.to_system(),
            mtime: inode.attr.mtime.to_system(),
            ctime,
            crtime: ctime,
            kind: inode.kind.file_type(),
            perm: inode.attr.perm,
            nlink,
            uid: inode.attr.uid,
            gid: inode.attr.gid,
            rdev: inode.attr.rdev,
            blksize: 4096,
            flags: 0,
        })
    }

    fn subdirs(&self, dir: &Dir) -> u32 {
        let count = dir
            .entries
            .values()
            .filter(|c| self.inodes.get(c).is_some_and(|i| i.kind == Kind::Dir))
            .count();
        u32::try_from(count).unwrap_or(u32::MAX)
    }
}
