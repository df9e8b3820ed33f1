//! Making file-system changes durable against power loss: `fdatasync` or
//! `fsync` on the file, and `fsync` on the directory of anything created,
//! renamed or removed. `sync_file_range` and `syncfs` do not count (they
//! leave the device's write cache and the metadata behind); nothing here
//! uses them.
//!
//! Every sync the node's storage makes goes through this module, so the
//! chaos suite's teeth build (`crate::teeth`, `no-fsync`) can turn all of
//! them off at once and show that the power-loss nemesis catches it.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// `fdatasync`: the file's data and the metadata needed to read it back.
pub fn sync_data(file: &File) -> io::Result<()> {
    if crate::teeth::broken("no-fsync") {
        return Ok(());
    }
    file.sync_data()
}

/// `fsync`: the file's data and all its metadata.
pub fn sync_all(file: &File) -> io::Result<()> {
    if crate::teeth::broken("no-fsync") {
        return Ok(());
    }
    file.sync_all()
}

/// [`sync_all`] for a file tokio opened.
pub async fn sync_all_async(file: &tokio::fs::File) -> io::Result<()> {
    if crate::teeth::broken("no-fsync") {
        return Ok(());
    }
    file.sync_all().await
}

/// `fsync` on a directory: the entries created, renamed or removed in it.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    if crate::teeth::broken("no-fsync") {
        return Ok(());
    }
    File::open(dir)?.sync_all()
}

/// Creates `dir` and any missing parents, each new directory's entry made
/// durable in its parent. An existing directory is left as it is.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir_all(parent)?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(e),
    }
    sync_dir(dir)?;
    match dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => sync_dir(parent),
        None => sync_dir(Path::new(".")),
    }
}

/// Replaces `path` with `bytes` atomically and durably: a temporary file
/// in the same directory, written and synced, renamed over `path`, and the
/// directory synced. A reader sees the old contents or the new, never half.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => dir,
        None => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let tmp = dir.join(format!(".{}.tmp", name.to_string_lossy()));
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        file.write_all(bytes)?;
        sync_data(&file)?;
        std::fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_dir_all_makes_every_missing_level() {
        let root = tempfile::tempdir().expect("tempdir");
        let deep = root.path().join("a/b/c");
        create_dir_all(&deep).expect("created");
        assert!(deep.is_dir());
        create_dir_all(&deep).expect("an existing directory is fine");
    }

    #[test]
    fn write_atomic_replaces_the_whole_file_and_leaves_no_temporary() {
        let root = tempfile::tempdir().expect("tempdir");
        let path = root.path().join("meta");
        write_atomic(&path, b"first").expect("write");
        write_atomic(&path, b"second").expect("replace");
        assert_eq!(std::fs::read(&path).expect("read"), b"second");
        let names: Vec<_> = std::fs::read_dir(root.path())
            .expect("list")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, ["meta"], "only the file itself is left");
    }
}
