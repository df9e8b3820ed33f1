//! The model without FUSE: what survives a power loss, operation by operation.

use super::*;
use crate::namespace::Creator;

const FILE: Creator = Creator {
    uid: 0,
    gid: 0,
    mode: libc::S_IFREG | 0o644,
};
const DIR: Creator = Creator {
    uid: 0,
    gid: 0,
    mode: 0o755,
};

fn state(dir: &tempfile::TempDir) -> State {
    State::open(dir.path(), 1 << 20).expect("open state")
}

fn create(s: &mut State, parent: u64, name: &str, data: &[u8]) -> u64 {
    let ino = s
        .mknod(parent, name.as_bytes(), FILE, 0)
        .expect("mknod")
        .ino
        .0;
    s.write(ino, 0, data, 0).expect("write");
    ino
}

fn find(s: &State, parent: u64, name: &str) -> Option<u64> {
    s.vol.child(parent, name.as_bytes()).ok()
}

fn contents(s: &mut State, parent: u64, name: &str) -> Option<Vec<u8>> {
    let ino = find(s, parent, name)?;
    Some(s.read(ino, 0, 1 << 16).expect("read"))
}

/// Checks the unsynced counter against the extents actually held.
fn check_accounting(s: &State) {
    assert_eq!(s.stats.unsynced_bytes, s.vol.held());
}

#[test]
fn only_fsynced_data_under_fsynced_entries_survives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = state(&dir);
    let synced = create(&mut s, ROOT, "synced", b"kept");
    s.fsync(synced, true).expect("fdatasync");
    create(&mut s, ROOT, "unsynced", b"lost");
    s.fsyncdir(ROOT, false).expect("fsyncdir");
    let late = create(&mut s, ROOT, "late", b"late");
    s.fsync(late, false).expect("fsync");
    s.write(synced, 4, b" and more", 0).expect("write");
    check_accounting(&s);
    let lost = s.power_loss().expect("power loss");
    assert_eq!(lost.discarded_bytes, 4 + 9);
    assert_eq!(
        contents(&mut s, ROOT, "synced").as_deref(),
        Some(&b"kept"[..])
    );
    assert_eq!(
        contents(&mut s, ROOT, "unsynced").as_deref(),
        Some(&b""[..])
    );
    assert_eq!(find(&s, ROOT, "late"), None, "entry never made durable");
    assert!(!s.durable.holds(late), "its data file is dropped");
    check_accounting(&s);
}

#[test]
fn an_unlinked_but_durably_linked_file_keeps_its_fsynced_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = state(&dir);
    let ino = create(&mut s, ROOT, "f", b"old");
    s.fsync(ino, true).expect("fsync");
    s.fsyncdir(ROOT, true).expect("fsyncdir");
    s.vol.get_mut(ino).expect("inode").lookups = 1; // an open descriptor
    s.unlink(ROOT, b"f").expect("unlink");
    s.write(ino, 0, b"new", 0)
        .expect("write through the open descriptor");
    s.fsync(ino, true).expect("fsync");
    s.forget(ino, 1).expect("close");
    assert!(s.durable.holds(ino));
    s.power_loss().expect("power loss");
    assert_eq!(contents(&mut s, ROOT, "f").as_deref(), Some(&b"new"[..]));
}

#[test]
fn a_durable_unlink_drops_the_data_once_nothing_holds_the_inode() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = state(&dir);
    let ino = create(&mut s, ROOT, "f", b"x");
    s.fsync(ino, true).expect("fsync");
    s.fsyncdir(ROOT, true).expect("fsyncdir");
    s.forget(ino, 1).expect("forget");
    s.unlink(ROOT, b"f").expect("unlink");
    assert!(s.durable.holds(ino), "still durably linked");
    s.fsyncdir(ROOT, true).expect("fsyncdir");
    assert!(!s.durable.holds(ino));
}

#[test]
fn rename_is_undone_without_a_directory_fsync() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = state(&dir);
    for (name, data) in [("a", &b"A"[..]), ("b", b"B")] {
        let ino = create(&mut s, ROOT, name, data);
        s.fsync(ino, true).expect("fsync");
    }
    s.fsyncdir(ROOT, true).expect("fsyncdir");
    s.rename(ROOT, b"a", ROOT, b"b", 0).expect("rename");
    assert_eq!(contents(&mut s, ROOT, "b").as_deref(), Some(&b"A"[..]));
    s.power_loss().expect("power loss");
    assert_eq!(contents(&mut s, ROOT, "a").as_deref(), Some(&b"A"[..]));
    assert_eq!(contents(&mut s, ROOT, "b").as_deref(), Some(&b"B"[..]));
    s.rename(ROOT, b"a", ROOT, b"b", 0).expect("rename");
    s.fsyncdir(ROOT, true).expect("fsyncdir");
    s.power_loss().expect("power loss");
    assert_eq!(find(&s, ROOT, "a"), None);
    assert_eq!(contents(&mut s, ROOT, "b").as_deref(), Some(&b"A"[..]));
}

#[test]
fn a_subdirectory_needs_its_own_fsync_and_its_parents() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = state(&dir);
    let d = s.mkdir(ROOT, b"d", DIR).expect("mkdir").ino.0;
    let f = create(&mut s, d, "f", b"data");
    s.fsync(f, true).expect("fsync");
    s.fsyncdir(d, true).expect("fsyncdir d");
    s.power_loss().expect("power loss");
    assert_eq!(find(&s, ROOT, "d"), None, "root never fsynced");

    let d = s.mkdir(ROOT, b"d", DIR).expect("mkdir").ino.0;
    let f = create(&mut s, d, "f", b"data");
    s.fsync(f, true).expect("fsync");
    s.fsyncdir(d, true).expect("fsyncdir d");
    s.fsyncdir(ROOT, true).expect("fsyncdir root");
    s.power_loss().expect("power loss");
    let d = find(&s, ROOT, "d").expect("d is durable");
    assert_eq!(contents(&mut s, d, "f").as_deref(), Some(&b"data"[..]));
}

#[test]
fn a_moved_directory_has_one_durable_parent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = state(&dir);
    let a = s.mkdir(ROOT, b"a", DIR).expect("mkdir").ino.0;
    let b = s.mkdir(ROOT, b"b", DIR).expect("mkdir").ino.0;
    let sub = s.mkdir(a, b"sub", DIR).expect("mkdir").ino.0;
    for d in [sub, a, b, ROOT] {
        s.fsyncdir(d, true).expect("fsyncdir");
    }
    s.rename(a, b"sub", b, b"sub", 0).expect("rename");
    s.fsyncdir(b, true).expect("fsyncdir target only");
    s.power_loss().expect("power loss");
    assert_eq!(find(&s, a, "sub"), None);
    assert_eq!(find(&s, b, "sub"), Some(sub));
}

#[test]
fn truncate_and_extend_read_zeros_and_revert() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = state(&dir);
    let ino = create(&mut s, ROOT, "f", b"0123456789");
    s.fsync(ino, true).expect("fsync");
    s.fsyncdir(ROOT, true).expect("fsyncdir");
    s.truncate(ino, 4).expect("truncate");
    s.truncate(ino, 8).expect("extend");
    s.write(ino, 10, b"X", 0).expect("write past the end");
    assert_eq!(s.read(ino, 0, 64).expect("read"), b"0123\0\0\0\0\0\0X");
    s.fallocate(
        ino,
        1,
        2,
        libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
    )
    .expect("punch");
    assert_eq!(s.read(ino, 0, 4).expect("read"), b"0\x00\x003");
    s.fallocate(ino, 0, 20, 0).expect("fallocate");
    assert_eq!(s.getattr(ino).expect("attr").size, 20);
    assert_eq!(
        s.fallocate(ino, 0, 1, 0x8),
        Err(Errno::EOPNOTSUPP),
        "collapse range"
    );
    check_accounting(&s);
    s.power_loss().expect("power loss");
    assert_eq!(
        contents(&mut s, ROOT, "f").as_deref(),
        Some(&b"0123456789"[..])
    );
}

#[test]
fn writes_past_the_cap_fail_with_enospc_until_synced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = State::open(dir.path(), 10).expect("open");
    let ino = s.mknod(ROOT, b"f", FILE, 0).expect("mknod").ino.0;
    s.write(ino, 0, b"12345678", 0).expect("write");
    s.write(ino, 0, b"abcdefgh", 0)
        .expect("an overwrite holds no more");
    assert_eq!(s.write(ino, 8, b"xyz", 0), Err(Errno::ENOSPC));
    assert_eq!(s.stats().refused_writes, 1);
    s.fsync(ino, true).expect("fsync");
    s.write(ino, 8, b"xyz", 0).expect("room again");
    assert_eq!(s.stats().unsynced_bytes, 3);
}

#[test]
fn namespace_errors_are_the_posix_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = state(&dir);
    let d = s.mkdir(ROOT, b"d", DIR).expect("mkdir").ino.0;
    create(&mut s, d, "f", b"");
    create(&mut s, ROOT, "g", b"");
    assert_eq!(s.mkdir(ROOT, b"d", DIR).err(), Some(Errno::EEXIST));
    assert_eq!(s.rmdir(ROOT, b"d"), Err(Errno::ENOTEMPTY));
    assert_eq!(s.rmdir(ROOT, b"g"), Err(Errno::ENOTDIR));
    assert_eq!(s.unlink(ROOT, b"d"), Err(Errno::EISDIR));
    assert_eq!(s.unlink(ROOT, b"nope"), Err(Errno::ENOENT));
    assert_eq!(s.rename(ROOT, b"g", ROOT, b"d", 0), Err(Errno::EISDIR));
    assert_eq!(s.rename(ROOT, b"d", ROOT, b"g", 0), Err(Errno::ENOTDIR));
    assert_eq!(s.rename(ROOT, b"d", d, b"x", 0), Err(Errno::EINVAL));
    assert_eq!(
        s.rename(ROOT, b"g", d, b"f", libc::RENAME_NOREPLACE),
        Err(Errno::EEXIST)
    );
    assert_eq!(s.mknod(d, b"f", FILE, 0).err(), Some(Errno::EEXIST));
    assert_eq!(
        s.mknod(ROOT, &[b'n'; 256], FILE, 0).err(),
        Some(Errno::ENAMETOOLONG)
    );
    s.rename(ROOT, b"g", d, b"f", libc::RENAME_EXCHANGE)
        .expect("exchange");
    assert_eq!(
        s.vol
            .get(find(&s, ROOT, "g").expect("g"))
            .expect("inode")
            .kind,
        Kind::File
    );
}

#[test]
fn writeback_keeps_everything_before_it_and_nothing_after() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = state(&dir);
    let sub = s.mkdir(ROOT, b"sub", DIR).expect("mkdir").ino.0;
    let old = create(&mut s, sub, "old", b"written back");
    s.write_back().expect("writeback");
    assert_eq!(s.stats.unsynced_bytes, 0);
    assert_eq!(
        (s.stats.fsync, s.stats.fsyncdir, s.stats.writebacks),
        (0, 0, 1)
    );
    s.write(old, 12, b", then more", 0).expect("write");
    create(&mut s, sub, "new", b"after");
    check_accounting(&s);
    s.power_loss().expect("power loss");
    let sub = find(&s, ROOT, "sub").expect("the directory came back");
    assert_eq!(
        contents(&mut s, sub, "old").as_deref(),
        Some(&b"written back"[..])
    );
    assert_eq!(find(&s, sub, "new"), None);
    check_accounting(&s);
}
