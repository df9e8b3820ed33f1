//! Small helpers that turn results of state operations into FUSE replies.

use std::path::Path;
use std::time::Duration;

use fuser::{
    Errno, FileAttr, FileHandle, FopenFlags, Generation, INodeNo, ReplyAttr, ReplyCreate,
    ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request,
    TimeOrNow,
};

use crate::attr::Time;
use crate::namespace::Creator;
use crate::state::DirEntry;

/// Entries and attributes are never cached by the kernel.
const TTL: Duration = Duration::ZERO;

pub fn entry(reply: ReplyEntry, result: Result<FileAttr, Errno>) {
    match result {
        Ok(attr) => reply.entry(&TTL, &attr, Generation(0)),
        Err(e) => reply.error(e),
    }
}

pub fn attr(reply: ReplyAttr, result: Result<FileAttr, Errno>) {
    match result {
        Ok(attr) => reply.attr(&TTL, &attr),
        Err(e) => reply.error(e),
    }
}

pub fn empty(reply: ReplyEmpty, result: Result<(), Errno>) {
    match result {
        Ok(()) => reply.ok(),
        Err(e) => reply.error(e),
    }
}

pub fn data(reply: ReplyData, result: Result<Vec<u8>, Errno>) {
    match result {
        Ok(data) => reply.data(&data),
        Err(e) => reply.error(e),
    }
}

pub fn written(reply: ReplyWrite, result: Result<u32, Errno>) {
    match result {
        Ok(n) => reply.written(n),
        Err(e) => reply.error(e),
    }
}

/// Files are opened for direct I/O: no page cache, every read and write
/// reaches the daemon.
pub fn opened(reply: ReplyOpen, result: Result<(), Errno>, dir: bool) {
    let flags = match dir {
        true => FopenFlags::empty(),
        false => FopenFlags::FOPEN_DIRECT_IO,
    };
    match result {
        Ok(()) => reply.opened(FileHandle(0), flags),
        Err(e) => reply.error(e),
    }
}

pub fn created(reply: ReplyCreate, result: Result<FileAttr, Errno>) {
    match result {
        Ok(attr) => reply.created(
            &TTL,
            &attr,
            Generation(0),
            FileHandle(0),
            FopenFlags::FOPEN_DIRECT_IO,
        ),
        Err(e) => reply.error(e),
    }
}

/// Fills a `readdir` reply from `offset` (the index after the last entry
/// the kernel has) until the kernel's buffer is full.
pub fn dir(mut reply: ReplyDirectory, result: Result<Vec<DirEntry>, Errno>, offset: u64) {
    let entries = match result {
        Ok(entries) => entries,
        Err(e) => return reply.error(e),
    };
    let skip = usize::try_from(offset).unwrap_or(usize::MAX);
    for (i, e) in entries.iter().enumerate().skip(skip) {
        let next = i as u64 + 1;
        if reply.add(INodeNo(e.ino), next, e.kind.file_type(), e.name.as_os_str()) {
            break;
        }
    }
    reply.ok();
}

/// Reports the backing filesystem's space as this filesystem's.
pub fn statfs(reply: ReplyStatfs, backing: Result<std::path::PathBuf, Errno>) {
    let stat = backing.and_then(|b| statvfs(&b));
    match stat {
        Ok(s) => reply.statfs(
            s.blocks(),
            s.blocks_free(),
            s.blocks_available(),
            s.files(),
            s.files_free(),
            u32::try_from(s.block_size()).unwrap_or(4096),
            u32::try_from(s.name_max()).unwrap_or(255),
            u32::try_from(s.fragment_size()).unwrap_or(4096),
        ),
        Err(e) => reply.error(e),
    }
}

fn statvfs(path: &Path) -> Result<nix::sys::statvfs::Statvfs, Errno> {
    nix::sys::statvfs::statvfs(path).map_err(|e| Errno::from_i32(e as i32))
}

/// Owner and mode of an inode `req` creates.
pub fn creator(req: &Request, mode: u32, umask: u32) -> Creator {
    Creator {
        uid: req.uid(),
        gid: req.gid(),
        mode: mode & !umask,
    }
}

pub fn time(t: Option<TimeOrNow>) -> Option<Time> {
    t.map(|t| match t {
        TimeOrNow::SpecificTime(t) => Time::from_system(t),
        TimeOrNow::Now => Time::now(),
    })
}
