//! Operations on names: create, link, unlink, rename. Each changes only the
//! volatile entries of the directories involved; a directory's entries
//! become durable when that directory is fsynced (`dirsync.rs`).

use fuser::{Errno, FileAttr};

use crate::attr::{Attr, Kind};
use crate::image::ROOT;
use crate::name::{Name, NAME_MAX};
use crate::state::State;
use crate::volatile::{Body, Dir, FileData, Inode};

/// Who creates an inode, and with which permission bits.
#[derive(Clone, Copy, Debug)]
pub struct Creator {
    /// Owner of the new inode.
    pub uid: u32,
    /// Group of the new inode.
    pub gid: u32,
    /// `mode & !umask`, type bits included for `mknod`.
    pub mode: u32,
}

impl State {
    /// Creates a regular file, fifo, socket or device node.
    pub fn mknod(
        &mut self,
        parent: u64,
        name: &[u8],
        who: Creator,
        rdev: u32,
    ) -> Result<FileAttr, Errno> {
        let kind = Kind::from_mode(who.mode).ok_or(Errno::EINVAL)?;
        let body = match kind {
            Kind::File => Body::File(FileData::default()),
            Kind::Dir | Kind::Symlink => return Err(Errno::EINVAL),
            _ => Body::Special,
        };
        self.add(
            parent,
            name,
            Inode::new(kind, Attr::new(who.mode, who.uid, who.gid, rdev), body),
        )
    }

    /// Creates a directory.
    pub fn mkdir(&mut self, parent: u64, name: &[u8], who: Creator) -> Result<FileAttr, Errno> {
        let dir = Body::Dir(Dir {
            entries: Default::default(),
            parent,
        });
        self.add(
            parent,
            name,
            Inode::new(Kind::Dir, Attr::new(who.mode, who.uid, who.gid, 0), dir),
        )
    }

    /// Creates a symlink to `target`.
    pub fn symlink(
        &mut self,
        parent: u64,
        name: &[u8],
        target: &[u8],
        who: Creator,
    ) -> Result<FileAttr, Errno> {
        let attr = Attr::new(0o777, who.uid, who.gid, 0);
        self.add(
            parent,
            name,
            Inode::new(Kind::Symlink, attr, Body::Symlink(Name::new(target))),
        )
    }

    /// Adds a hard link to `ino` (not a directory).
    pub fn link(&mut self, ino: u64, parent: u64, name: &[u8]) -> Result<FileAttr, Errno> {
        if self.vol.get(ino)?.kind == Kind::Dir {
            return Err(Errno::EPERM);
        }
        self.vacant(parent, name)?;
        self.vol
            .dir_mut(parent)?
            .entries
            .insert(Name::new(name), ino);
        self.vol.get_mut(parent)?.attr.touch_contents();
        let inode = self.vol.get_mut(ino)?;
        inode.links += 1;
        inode.lookups += 1;
        inode.attr.touch_meta();
        self.vol.file_attr(ino)
    }

    /// Removes the entry `name` (not a directory) from `parent`.
    pub fn unlink(&mut self, parent: u64, name: &[u8]) -> Result<(), Errno> {
        let ino = self.vol.child(parent, name)?;
        if self.vol.get(ino)?.kind == Kind::Dir {
            return Err(Errno::EISDIR);
        }
        self.remove_entry(parent, name, ino)
    }

    /// Removes the empty directory `name` from `parent`.
    pub fn rmdir(&mut self, parent: u64, name: &[u8]) -> Result<(), Errno> {
        let ino = self.vol.child(parent, name)?;
        if !self.vol.dir(ino)?.entries.is_empty() {
            return Err(Errno::ENOTEMPTY);
        }
        self.remove_entry(parent, name, ino)
    }

    /// Renames `parent/name` to `new_parent/new_name`, with the
    /// `renameat2` flags `RENAME_NOREPLACE` or `RENAME_EXCHANGE`.
    pub fn rename(
        &mut self,
        parent: u64,
        name: &[u8],
        new_parent: u64,
        new_name: &[u8],
        flags: u32,
    ) -> Result<(), Errno> {
        let known = libc::RENAME_NOREPLACE | libc::RENAME_EXCHANGE;
        if flags & !known != 0 || flags == known {
            return Err(Errno::EINVAL);
        }
        check_name(new_name)?;
        let src = self.vol.child(parent, name)?;
        let dst = self.vol.dir(new_parent)?.entries.get(new_name).copied();
        if flags & libc::RENAME_EXCHANGE != 0 {
            let dst = dst.ok_or(Errno::ENOENT)?;
            self.check_move(src, new_parent)?;
            self.check_move(dst, parent)?;
            self.place(parent, name, dst)?;
            return self.place(new_parent, new_name, src);
        }
        if let Some(dst) = dst {
            if flags & libc::RENAME_NOREPLACE != 0 {
                return Err(Errno::EEXIST);
            }
            if dst == src {
                return Ok(());
            }
            self.check_replace(src, dst)?;
        }
        self.check_move(src, new_parent)?;
        self.vol.dir_mut(parent)?.entries.remove(name);
        self.vol.get_mut(parent)?.attr.touch_contents();
        self.place(new_parent, new_name, src)?;
        if let Some(dst) = dst {
            let inode = self.vol.get_mut(dst)?;
            inode.links = inode.links.saturating_sub(1);
            inode.attr.touch_meta();
            self.release_if_dead(dst)?;
        }
        Ok(())
    }

    /// Adds a new inode under `parent/name`.
    fn add(&mut self, parent: u64, name: &[u8], inode: Inode) -> Result<FileAttr, Errno> {
        self.vacant(parent, name)?;
        let ino = self.durable.alloc_ino();
        self.vol.insert(ino, inode);
        self.vol
            .dir_mut(parent)?
            .entries
            .insert(Name::new(name), ino);
        self.vol.get_mut(parent)?.attr.touch_contents();
        self.vol.file_attr(ino)
    }

    /// Checks `parent` is a directory without an entry `name`.
    fn vacant(&self, parent: u64, name: &[u8]) -> Result<(), Errno> {
        check_name(name)?;
        match self.vol.dir(parent)?.entries.contains_key(name) {
            true => Err(Errno::EEXIST),
            false => Ok(()),
        }
    }

    fn remove_entry(&mut self, parent: u64, name: &[u8], ino: u64) -> Result<(), Errno> {
        self.vol.dir_mut(parent)?.entries.remove(name);
        self.vol.get_mut(parent)?.attr.touch_contents();
        let inode = self.vol.get_mut(ino)?;
        inode.links = inode.links.saturating_sub(1);
        inode.attr.touch_meta();
        self.release_if_dead(ino)
    }

    /// Points `dir/name` at `ino`, which now lives there.
    fn place(&mut self, dir: u64, name: &[u8], ino: u64) -> Result<(), Errno> {
        self.vol.dir_mut(dir)?.entries.insert(Name::new(name), ino);
        self.vol.get_mut(dir)?.attr.touch_contents();
        let inode = self.vol.get_mut(ino)?;
        inode.attr.touch_meta();
        if let Body::Dir(d) = &mut inode.body {
            d.parent = dir;
        }
        Ok(())
    }

    /// Whether `src` may replace `dst`: a directory only an empty directory,
    /// anything else only a non-directory.
    fn check_replace(&self, src: u64, dst: u64) -> Result<(), Errno> {
        let src_dir = self.vol.get(src)?.kind == Kind::Dir;
        match (src_dir, &self.vol.get(dst)?.body) {
            (true, Body::Dir(d)) if d.entries.is_empty() => Ok(()),
            (true, Body::Dir(_)) => Err(Errno::ENOTEMPTY),
            (true, _) => Err(Errno::ENOTDIR),
            (false, Body::Dir(_)) => Err(Errno::EISDIR),
            (false, _) => Ok(()),
        }
    }

    /// A directory may not move below itself.
    fn check_move(&self, ino: u64, new_parent: u64) -> Result<(), Errno> {
        if self.vol.get(ino)?.kind != Kind::Dir {
            return Ok(());
        }
        let mut at = new_parent;
        loop {
            if at == ino {
                return Err(Errno::EINVAL);
            }
            if at == ROOT {
                return Ok(());
            }
            at = self.vol.dir(at)?.parent;
        }
    }
}

fn check_name(name: &[u8]) -> Result<(), Errno> {
    match name {
        [] | b"." | b".." => Err(Errno::EINVAL),
        n if n.len() > NAME_MAX => Err(Errno::ENAMETOOLONG),
        n if n.contains(&b'/') || n.contains(&0) => Err(Errno::EINVAL),
        _ => Ok(()),
    }
}
