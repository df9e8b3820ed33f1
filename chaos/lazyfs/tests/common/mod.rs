//! A filesystem mounted in a temporary directory, and helpers to sync,
//! wait and read what a test needs. Every wait is bounded.
#![allow(dead_code)]

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::Duration;

use arqonbus_lazyfs::{Mount, MountConfig, PowerLoss, Stats};
use tempfile::TempDir;

/// How long any single wait in a test may take before it fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// A mounted filesystem; unmounted, then removed, on drop.
pub struct Fs {
    mount: Option<Mount>,
    pub config: MountConfig,
    dir: TempDir,
}

impl Fs {
    /// Mounts a fresh filesystem with a control socket and a 64 MiB cap.
    pub fn new() -> Fs {
        Fs::with_cap(64 << 20)
    }

    /// Mounts a fresh filesystem holding at most `cap` unsynced bytes.
    pub fn with_cap(cap: u64) -> Fs {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = MountConfig {
            backing: dir.path().join("backing"),
            mountpoint: dir.path().join("mnt"),
            control: Some(dir.path().join("control.sock")),
            max_unsynced: cap,
            writeback: None,
        };
        let mount = Some(start(&config));
        Fs { mount, config, dir }
    }

    /// A path inside the mount.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.config.mountpoint.join(rel)
    }

    /// The temporary directory holding backing, mountpoint and socket.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The control socket.
    pub fn control(&self) -> &Path {
        self.config.control.as_deref().expect("a control socket")
    }

    pub fn power_loss(&self) -> PowerLoss {
        self.mount().handle().power_loss().expect("power loss")
    }

    pub fn stats(&self) -> Stats {
        self.mount().handle().stats().expect("stats")
    }

    /// Unmounts (the daemon going away) and mounts the same backing again.
    pub fn remount(&mut self) {
        if let Some(mount) = self.mount.take() {
            mount.unmount().expect("unmount");
        }
        self.mount = Some(start(&self.config));
    }

    /// Unmounts, leaving the backing directory to a daemon process.
    pub fn unmount(&mut self) {
        if let Some(mount) = self.mount.take() {
            mount.unmount().expect("unmount");
        }
    }

    fn mount(&self) -> &Mount {
        self.mount.as_ref().expect("mounted")
    }
}

impl Drop for Fs {
    fn drop(&mut self) {
        if let Some(mount) = self.mount.take() {
            if let Err(e) = mount.unmount() {
                eprintln!("unmount at the end of a test failed: {e}");
            }
        }
    }
}

fn start(config: &MountConfig) -> Mount {
    assert!(
        Path::new("/dev/fuse").exists(),
        "/dev/fuse is missing: these tests mount a FUSE filesystem and need the device (and root)"
    );
    Mount::start(config).unwrap_or_else(|e| panic!("mount {:?}: {e}", config.mountpoint))
}

/// Creates (or truncates) `path` and writes `data`, with no sync.
pub fn write(path: &Path, data: &[u8]) {
    let mut f = File::create(path).unwrap_or_else(|e| panic!("create {path:?}: {e}"));
    f.write_all(data).expect("write");
}

/// `fsync` on `path` (a file or a directory).
pub fn fsync(path: &Path) {
    File::open(path)
        .and_then(|f| f.sync_all())
        .unwrap_or_else(|e| panic!("fsync {path:?}: {e}"));
}

/// `fdatasync` on file `path`.
pub fn fdatasync(path: &Path) {
    OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| f.sync_data())
        .unwrap_or_else(|e| panic!("fdatasync {path:?}: {e}"));
}

/// The contents of `path`, or `None` if it does not exist.
pub fn read(path: &Path) -> Option<Vec<u8>> {
    match fs::read(path) {
        Ok(data) => Some(data),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => panic!("read {path:?}: {e}"),
    }
}

/// Lines a child prints on `stdout`, delivered as they come.
pub fn lines(out: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// Waits for a line holding `marker` and returns the line from the marker
/// on (libtest may print `test name ... ` before a child test's output);
/// fails after [`WAIT`].
pub fn expect_line(lines: &Receiver<String>, marker: &str) -> String {
    loop {
        match lines.recv_timeout(WAIT) {
            Ok(line) => match line.find(marker) {
                Some(at) => return line[at..].to_string(),
                None => continue,
            },
            Err(e) => panic!("no line holding {marker:?} within {WAIT:?}: {e}"),
        }
    }
}

/// Waits for `child` to exit; fails after [`WAIT`].
pub fn wait_exit(mut child: Child) -> ExitStatus {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    match rx.recv_timeout(WAIT) {
        Ok(status) => status.expect("wait for child"),
        Err(e) => panic!("child did not exit within {WAIT:?}: {e}"),
    }
}
