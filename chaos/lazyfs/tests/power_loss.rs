//! Through the kernel: what a power loss keeps and what it throws away.

mod common;

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::{FileExt, OpenOptionsExt};

use common::{fdatasync, fsync, read, write, Fs};
use nix::fcntl::{fallocate, FallocateFlags};

#[test]
fn a_write_is_kept_only_after_fsync_or_fdatasync() {
    let fs = Fs::new();
    for name in ["plain", "fsynced", "fdatasynced"] {
        write(&fs.path(name), b"");
    }
    fsync(&fs.path(""));
    let before = fs.stats();
    write(&fs.path("plain"), b"lost");
    write(&fs.path("fsynced"), b"kept by fsync");
    fsync(&fs.path("fsynced"));
    write(&fs.path("fdatasynced"), b"kept by fdatasync");
    fdatasync(&fs.path("fdatasynced"));
    let after = fs.stats();
    assert_eq!(after.fsync - before.fsync, 1);
    assert_eq!(after.fdatasync - before.fdatasync, 1);
    assert_eq!(after.unsynced_bytes, 4);
    assert_eq!(
        read(&fs.path("plain")).as_deref(),
        Some(&b"lost"[..]),
        "reads see the page cache"
    );

    let lost = fs.power_loss();
    assert_eq!(lost.discarded_bytes, 4);
    assert_eq!(read(&fs.path("plain")).as_deref(), Some(&b""[..]));
    assert_eq!(
        read(&fs.path("fsynced")).as_deref(),
        Some(&b"kept by fsync"[..])
    );
    assert_eq!(
        read(&fs.path("fdatasynced")).as_deref(),
        Some(&b"kept by fdatasync"[..])
    );
}

#[test]
fn a_new_file_needs_its_directory_fsynced() {
    let fs = Fs::new();
    write(&fs.path("orphan"), b"data");
    fsync(&fs.path("orphan"));
    fs.power_loss();
    assert_eq!(
        read(&fs.path("orphan")),
        None,
        "file fsynced, directory not"
    );

    fs::create_dir(fs.path("d")).expect("mkdir");
    write(&fs.path("d/f"), b"data");
    fsync(&fs.path("d/f"));
    fsync(&fs.path("d"));
    fsync(&fs.path(""));
    fs.power_loss();
    assert_eq!(read(&fs.path("d/f")).as_deref(), Some(&b"data"[..]));
}

#[test]
fn rename_over_a_file_needs_the_directory_fsynced() {
    let fs = Fs::new();
    write(&fs.path("target"), b"old");
    fsync(&fs.path("target"));
    fsync(&fs.path(""));
    for sync_dir in [false, true] {
        write(&fs.path("tmp"), b"new");
        fsync(&fs.path("tmp"));
        fs::rename(fs.path("tmp"), fs.path("target")).expect("rename");
        assert_eq!(read(&fs.path("target")).as_deref(), Some(&b"new"[..]));
        if sync_dir {
            fsync(&fs.path(""));
        }
        fs.power_loss();
        let want: &[u8] = if sync_dir { b"new" } else { b"old" };
        assert_eq!(
            read(&fs.path("target")).as_deref(),
            Some(want),
            "dir fsynced: {sync_dir}"
        );
        assert_eq!(read(&fs.path("tmp")), None);
    }
}

#[test]
fn an_unlink_is_undone_without_a_directory_fsync() {
    let fs = Fs::new();
    write(&fs.path("f"), b"durable");
    fsync(&fs.path("f"));
    fsync(&fs.path(""));
    fs::remove_file(fs.path("f")).expect("unlink");
    assert_eq!(read(&fs.path("f")), None);
    fs.power_loss();
    assert_eq!(read(&fs.path("f")).as_deref(), Some(&b"durable"[..]));
    fs::remove_file(fs.path("f")).expect("unlink");
    fsync(&fs.path(""));
    fs.power_loss();
    assert_eq!(read(&fs.path("f")), None);
}

#[test]
fn truncate_fallocate_and_sparse_writes() {
    let fs = Fs::new();
    let path = fs.path("f");
    write(&path, b"0123456789");
    fsync(&path);
    fsync(&fs.path(""));
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .expect("open");
    f.write_all_at(b"XY", 4).expect("overwrite in the middle");
    f.set_len(6).expect("truncate");
    f.set_len(8).expect("extend");
    assert_eq!(read(&path).as_deref(), Some(&b"0123XY\0\0"[..]));
    let punch = FallocateFlags::FALLOC_FL_PUNCH_HOLE | FallocateFlags::FALLOC_FL_KEEP_SIZE;
    fallocate(f.as_fd(), punch, 1, 2).expect("punch a hole");
    fallocate(f.as_fd(), FallocateFlags::empty(), 0, 12).expect("allocate past the end");
    assert_eq!(read(&path).as_deref(), Some(&b"0\0\x003XY\0\0\0\0\0\0"[..]));
    f.write_all_at(b"far", 1 << 20).expect("sparse write");
    let mut buf = vec![1u8; 4096];
    f.read_exact_at(&mut buf, 4096).expect("read the hole");
    assert!(buf.iter().all(|&b| b == 0), "a hole reads as zeros");
    drop(f);
    fs.power_loss();
    assert_eq!(read(&path).as_deref(), Some(&b"0123456789"[..]));
}

#[test]
fn o_dsync_writes_are_durable_when_they_return() {
    let fs = Fs::new();
    write(&fs.path("log"), b"");
    fsync(&fs.path(""));
    let before = fs.stats();
    let mut f = OpenOptions::new()
        .append(true)
        .custom_flags(libc::O_DSYNC)
        .open(fs.path("log"))
        .expect("open O_DSYNC");
    f.write_all(b"entry\n").expect("write");
    drop(f);
    let after = fs.stats();
    assert_eq!(after.sync_writes - before.sync_writes, 1);
    assert_eq!(after.unsynced_bytes, 0);
    fs.power_loss();
    assert_eq!(read(&fs.path("log")).as_deref(), Some(&b"entry\n"[..]));
}

#[test]
fn errnos_reach_the_caller() {
    let fs = Fs::new();
    fs::create_dir(fs.path("d")).expect("mkdir");
    write(&fs.path("d/f"), b"");
    let code = |r: std::io::Result<()>| r.err().and_then(|e| e.raw_os_error());
    assert_eq!(code(fs::create_dir(fs.path("d"))), Some(libc::EEXIST));
    assert_eq!(code(fs::remove_dir(fs.path("d"))), Some(libc::ENOTEMPTY));
    assert_eq!(code(fs::remove_dir(fs.path("d/f"))), Some(libc::ENOTDIR));
    assert_eq!(code(fs::remove_file(fs.path("d"))), Some(libc::EISDIR));
    assert_eq!(code(fs::remove_file(fs.path("nope"))), Some(libc::ENOENT));
    assert_eq!(
        code(fs::rename(fs.path("d"), fs.path("d/f"))),
        Some(libc::EINVAL)
    );
    let names: Vec<String> = fs::read_dir(fs.path("d"))
        .expect("readdir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["f"]);
    let st = nix::sys::statvfs::statvfs(&fs.path("")).expect("statfs");
    assert!(st.blocks() > 0);
}

#[test]
fn writes_past_the_cap_fail_with_enospc() {
    let fs = Fs::with_cap(64 * 1024);
    let mut f = File::create(fs.path("big")).expect("create");
    f.write_all(&[7u8; 64 * 1024]).expect("up to the cap");
    let err = f.write_all(b"one more").expect_err("past the cap");
    assert_eq!(err.raw_os_error(), Some(libc::ENOSPC));
    assert_eq!(fs.stats().refused_writes, 1);
    f.sync_data().expect("fdatasync frees the memory");
    f.write_all(b"one more").expect("room again");
}

#[test]
fn a_descriptor_open_across_a_power_loss_on_a_lost_file_is_stale() {
    let fs = Fs::new();
    let f = File::create(fs.path("gone")).expect("create");
    fs.power_loss();
    let err = f.write_all_at(b"x", 0).expect_err("its inode is gone");
    assert_eq!(err.raw_os_error(), Some(libc::ESTALE), "{err}");
    assert_eq!(
        File::open(fs.path("gone"))
            .map(|_| ())
            .map_err(|e| e.kind()),
        Err(ErrorKind::NotFound)
    );
}

#[test]
fn flock_is_handled_by_the_kernel() {
    let fs = Fs::new();
    write(&fs.path("lock"), b"");
    let a = File::open(fs.path("lock")).expect("open");
    let b = File::open(fs.path("lock")).expect("open");
    let lock = |f: &File| {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a descriptor this closure borrows; no memory involved.
        match unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } {
            0 => Ok(()),
            _ => Err(std::io::Error::last_os_error().raw_os_error()),
        }
    };
    assert_eq!(lock(&a), Ok(()));
    assert_eq!(lock(&b), Err(Some(libc::EWOULDBLOCK)));
    drop(a);
    assert_eq!(lock(&b), Ok(()));
}
