//! Operations on a file's contents: read, write, truncate, fallocate and
//! fsync. Everything but fsync changes only the volatile view; fsync (with
//! or without the datasync flag) makes the file's data and size durable, and
//! without the flag its attributes too.

use fuser::Errno;

use crate::error::to_errno;
use crate::state::State;
use crate::volatile::Body;

impl State {
    /// Reads up to `size` bytes of `ino` at `offset`, as the volatile view has them.
    pub fn read(&mut self, ino: u64, offset: u64, size: u32) -> Result<Vec<u8>, Errno> {
        let file = match &self.vol.get(ino)?.body {
            Body::File(f) => f,
            Body::Dir(_) => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        };
        let end = offset.saturating_add(u64::from(size)).min(file.size);
        if offset >= end {
            return Ok(Vec::new());
        }
        let mut buf = vec![0; (end - offset) as usize];
        let durable_end = end.min(file.floor);
        if offset < durable_end {
            let part = &mut buf[..(durable_end - offset) as usize];
            self.durable.read(ino, offset, part).map_err(to_errno)?;
        }
        file.extents.overlay(offset, &mut buf);
        Ok(buf)
    }

    /// Writes `data` at `offset`. `flags` are the descriptor's open flags:
    /// with `O_DSYNC` or `O_SYNC` the write is made durable before it returns.
    pub fn write(&mut self, ino: u64, offset: u64, data: &[u8], flags: i32) -> Result<u32, Errno> {
        let len = u32::try_from(data.len()).map_err(|_| Errno::EINVAL)?;
        let end = offset.checked_add(u64::from(len)).ok_or(Errno::EFBIG)?;
        let file = self.vol.file_mut(ino)?;
        let added = u64::from(len) - file.extents.held_within(offset, end);
        if self.stats.unsynced_bytes + added > self.max_unsynced {
            self.stats.refused_writes += 1;
            tracing::warn!(
                ino,
                unsynced = self.stats.unsynced_bytes,
                cap = self.max_unsynced,
                "write refused with ENOSPC: unsynced data would pass the cap"
            );
            return Err(Errno::ENOSPC);
        }
        file.extents.write(offset, data);
        file.size = file.size.max(end);
        self.stats.unsynced_bytes += added;
        self.stats.writes += 1;
        self.stats.bytes_written += u64::from(len);
        self.vol.get_mut(ino)?.attr.touch_contents();
        if flags & libc::O_DSYNC != 0 {
            self.stats.sync_writes += 1;
            self.sync(ino, flags & libc::O_SYNC != libc::O_SYNC)?;
        }
        Ok(len)
    }

    /// Sets the size of `ino`: bytes past it are gone, bytes added read as zeros.
    pub fn truncate(&mut self, ino: u64, size: u64) -> Result<(), Errno> {
        let file = self.vol.file_mut(ino)?;
        let before = file.extents.held();
        file.extents.truncate(size);
        self.stats.release(before - file.extents.held());
        file.floor = file.floor.min(size);
        file.size = size;
        self.vol.get_mut(ino)?.attr.touch_contents();
        Ok(())
    }

    /// `fallocate(2)`: mode 0 and `FALLOC_FL_KEEP_SIZE` (allocation only: the
    /// size may grow, contents do not change), `FALLOC_FL_PUNCH_HOLE` and
    /// `FALLOC_FL_ZERO_RANGE` (the range reads as zeros). Other modes are
    /// `EOPNOTSUPP`.
    pub fn fallocate(&mut self, ino: u64, offset: u64, len: u64, mode: i32) -> Result<(), Errno> {
        let end = offset.checked_add(len).ok_or(Errno::EFBIG)?;
        let keep_size = mode & libc::FALLOC_FL_KEEP_SIZE != 0;
        let file = self.vol.file_mut(ino)?;
        let zero = match mode & !libc::FALLOC_FL_KEEP_SIZE {
            0 => false,
            libc::FALLOC_FL_PUNCH_HOLE if keep_size => true,
            libc::FALLOC_FL_ZERO_RANGE => true,
            _ => return Err(Errno::EOPNOTSUPP),
        };
        if zero {
            let before = file.extents.held();
            let zero_end = if keep_size { end.min(file.size) } else { end };
            file.extents.zero(offset, zero_end);
            self.stats.release(before - file.extents.held());
        }
        if !keep_size && end > file.size {
            file.size = end;
        }
        self.vol.get_mut(ino)?.attr.touch_contents();
        Ok(())
    }

    /// `fsync` (`datasync` false) or `fdatasync` (`datasync` true) on `ino`.
    pub fn fsync(&mut self, ino: u64, datasync: bool) -> Result<(), Errno> {
        match datasync {
            true => self.stats.fdatasync += 1,
            false => self.stats.fsync += 1,
        }
        self.sync(ino, datasync)
    }

    /// Makes the data and size of `ino` durable, and with `datasync` false
    /// its attributes as well.
    pub(crate) fn sync(&mut self, ino: u64, datasync: bool) -> Result<(), Errno> {
        let inode = self.vol.get_mut(ino)?;
        if let Body::File(file) = &mut inode.body {
            self.durable
                .sync(ino, file.size, file.floor, &file.extents)
                .map_err(to_errno)?;
            self.stats.release(file.extents.held());
            file.extents.clear();
            file.floor = file.size;
        }
        if datasync {
            return Ok(());
        }
        inode.synced = inode.attr;
        let attr = inode.attr;
        match self.durable.image_mut().records.get_mut(&ino) {
            Some(record) if record.attr != attr => {
                record.attr = attr;
                self.durable.commit().map_err(to_errno)
            }
            _ => Ok(()),
        }
    }
}
