//! The FUSE side: each kernel request becomes one call on the state, under
//! its lock, and one reply.
//!
//! Files are opened `FOPEN_DIRECT_IO` and entries and attributes get a zero
//! timeout: every read and write reaches the daemon, and the kernel keeps
//! no page cache or dentry a power loss could leave stale. No writeback
//! cache is requested. Lock operations are not implemented, so the kernel
//! keeps `flock`/`fcntl` locks itself; nor are extended attributes.

mod reply;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::SystemTime;

use fuser::{
    AccessFlags, BsdFileFlags, FileHandle, Filesystem, INodeNo, LockOwner, OpenFlags, RenameFlags,
    ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyOpen,
    ReplyStatfs, ReplyWrite, Request, TimeOrNow, WriteFlags,
};

use crate::handle::Handle;
use crate::state::SetAttr;
use reply::{attr, creator, empty, entry};

/// The filesystem fuser runs.
#[derive(Debug)]
pub struct LazyFs {
    handle: Handle,
}

impl LazyFs {
    /// A filesystem over the state behind `handle`.
    pub fn new(handle: Handle) -> LazyFs {
        LazyFs { handle }
    }
}

impl Filesystem for LazyFs {
    fn lookup(&self, _: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let result = self.handle.op(|s| s.lookup(parent.0, name.as_bytes()));
        entry(reply, result);
    }

    fn forget(&self, _: &Request, ino: INodeNo, nlookup: u64) {
        if let Err(e) = self.handle.op(|s| s.forget(ino.0, nlookup)) {
            tracing::warn!(ino = ino.0, error = ?e, "forget failed");
        }
    }

    fn getattr(&self, _: &Request, ino: INodeNo, _: Option<FileHandle>, reply: ReplyAttr) {
        attr(reply, self.handle.op(|s| s.getattr(ino.0)));
    }

    fn setattr(
        &self,
        _: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _: Option<SystemTime>,
        _: Option<FileHandle>,
        _: Option<SystemTime>,
        _: Option<SystemTime>,
        _: Option<SystemTime>,
        _: Option<BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let (atime, mtime) = (reply::time(atime), reply::time(mtime));
        let set = SetAttr {
            mode,
            uid,
            gid,
            size,
            atime,
            mtime,
        };
        attr(reply, self.handle.op(|s| s.setattr(ino.0, &set)));
    }

    fn readlink(&self, _: &Request, ino: INodeNo, reply: ReplyData) {
        reply::data(reply, self.handle.op(|s| s.readlink(ino.0)));
    }

    fn mknod(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        rdev: u32,
        reply: ReplyEntry,
    ) {
        let who = creator(req, mode, umask);
        let result = self
            .handle
            .op(|s| s.mknod(parent.0, name.as_bytes(), who, rdev));
        entry(reply, result);
    }

    fn mkdir(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let who = creator(req, mode, umask);
        let result = self.handle.op(|s| s.mkdir(parent.0, name.as_bytes(), who));
        entry(reply, result);
    }

    fn unlink(&self, _: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let result = self.handle.op(|s| s.unlink(parent.0, name.as_bytes()));
        empty(reply, result);
    }

    fn rmdir(&self, _: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let result = self.handle.op(|s| s.rmdir(parent.0, name.as_bytes()));
        empty(reply, result);
    }

    fn symlink(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        target: &Path,
        reply: ReplyEntry,
    ) {
        let (who, name, target) = (
            creator(req, 0o777, 0),
            name.as_bytes(),
            target.as_os_str().as_bytes(),
        );
        let result = self.handle.op(|s| s.symlink(parent.0, name, target, who));
        entry(reply, result);
    }

    fn rename(
        &self,
        _: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let (from, to, flags) = (name.as_bytes(), newname.as_bytes(), flags.bits());
        let result = self
            .handle
            .op(|s| s.rename(parent.0, from, newparent.0, to, flags));
        empty(reply, result);
    }

    fn link(
        &self,
        _: &Request,
        ino: INodeNo,
        newparent: INodeNo,
        newname: &OsStr,
        reply: ReplyEntry,
    ) {
        let result = self
            .handle
            .op(|s| s.link(ino.0, newparent.0, newname.as_bytes()));
        entry(reply, result);
    }

    fn open(&self, _: &Request, ino: INodeNo, _: OpenFlags, reply: ReplyOpen) {
        reply::opened(reply, self.handle.op(|s| s.check_open(ino.0, false)), false);
    }

    fn read(
        &self,
        _: &Request,
        ino: INodeNo,
        _: FileHandle,
        offset: u64,
        size: u32,
        _: OpenFlags,
        _: Option<LockOwner>,
        reply: ReplyData,
    ) {
        reply::data(reply, self.handle.op(|s| s.read(ino.0, offset, size)));
    }

    fn write(
        &self,
        _: &Request,
        ino: INodeNo,
        _: FileHandle,
        offset: u64,
        data: &[u8],
        _: WriteFlags,
        flags: OpenFlags,
        _: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let written = self.handle.op(|s| s.write(ino.0, offset, data, flags.0));
        reply::written(reply, written);
    }

    /// Close is not a durability point: nothing to do.
    fn flush(&self, _: &Request, _: INodeNo, _: FileHandle, _: LockOwner, reply: ReplyEmpty) {
        reply.ok();
    }

    fn fsync(&self, _: &Request, ino: INodeNo, _: FileHandle, datasync: bool, reply: ReplyEmpty) {
        empty(reply, self.handle.op(|s| s.fsync(ino.0, datasync)));
    }

    fn opendir(&self, _: &Request, ino: INodeNo, _: OpenFlags, reply: ReplyOpen) {
        reply::opened(reply, self.handle.op(|s| s.check_open(ino.0, true)), true);
    }

    fn readdir(
        &self,
        _: &Request,
        ino: INodeNo,
        _: FileHandle,
        offset: u64,
        reply: ReplyDirectory,
    ) {
        reply::dir(reply, self.handle.op(|s| s.readdir(ino.0)), offset);
    }

    fn fsyncdir(
        &self,
        _: &Request,
        ino: INodeNo,
        _: FileHandle,
        datasync: bool,
        reply: ReplyEmpty,
    ) {
        empty(reply, self.handle.op(|s| s.fsyncdir(ino.0, datasync)));
    }

    fn statfs(&self, _: &Request, _: INodeNo, reply: ReplyStatfs) {
        reply::statfs(reply, self.handle.op(|s| Ok(s.backing().to_path_buf())));
    }

    fn access(&self, _: &Request, ino: INodeNo, _: AccessFlags, reply: ReplyEmpty) {
        empty(reply, self.handle.op(|s| s.getattr(ino.0).map(|_| ())));
    }

    fn create(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _: i32,
        reply: ReplyCreate,
    ) {
        let who = creator(req, mode, umask);
        let result = self
            .handle
            .op(|s| s.mknod(parent.0, name.as_bytes(), who, 0));
        reply::created(reply, result);
    }

    fn fallocate(
        &self,
        _: &Request,
        ino: INodeNo,
        _: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        let result = self.handle.op(|s| s.fallocate(ino.0, offset, length, mode));
        empty(reply, result);
    }
}
