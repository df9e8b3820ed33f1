//! Mounting: in-process for tests and the harness ([`Mount::start`], which
//! unmounts on drop), and the daemon's foreground run ([`Mount::wait`]).
//!
//! Unmounting, however it happens, keeps nothing volatile: stopping the
//! daemon is a power loss, so a clean stop cannot hide a missing fsync.

use std::fs;
use std::io::{self, ErrorKind};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use fuser::{Config, MountOption, Session, SessionACL, SessionUnmounter};
use nix::mount::{umount2, MntFlags};

use crate::control::ControlServer;
use crate::error::Error;
use crate::fs::LazyFs;
use crate::handle::Handle;
use crate::state::State;
use crate::writeback;

/// Default cap on unsynced bytes held in memory: 1 GiB.
pub const DEFAULT_MAX_UNSYNCED: u64 = 1 << 30;
/// How long an unmount waits for the session to end.
const UNMOUNT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and how to mount.
#[derive(Clone, Debug)]
pub struct MountConfig {
    /// The backing directory holding the durable state (made if missing).
    pub backing: PathBuf,
    /// Where the filesystem appears (made if missing).
    pub mountpoint: PathBuf,
    /// The control socket's path, if one is wanted.
    pub control: Option<PathBuf>,
    /// Cap on unsynced bytes; a write past it fails with `ENOSPC`.
    pub max_unsynced: u64,
    /// With a period, everything volatile becomes durable at that period,
    /// as a kernel's writeback would (see `writeback.rs`); `None` (the
    /// default) is the strict model: only syncs make anything durable.
    pub writeback: Option<Duration>,
}

impl MountConfig {
    /// A configuration with no control socket and the default cap.
    pub fn new(backing: impl Into<PathBuf>, mountpoint: impl Into<PathBuf>) -> MountConfig {
        MountConfig {
            backing: backing.into(),
            mountpoint: mountpoint.into(),
            control: None,
            max_unsynced: DEFAULT_MAX_UNSYNCED,
            writeback: None,
        }
    }
}

/// Unmounts a mounted filesystem from any thread (a signal handler's, say).
#[derive(Clone, Debug)]
pub struct Unmounter {
    inner: Arc<Mutex<SessionUnmounter>>,
    mountpoint: PathBuf,
}

impl Unmounter {
    /// Unmounts; if the mount is busy, detaches it lazily (the session then
    /// ends when the last file on it is closed).
    pub fn unmount(&self) -> Result<(), Error> {
        let result = match self.inner.lock() {
            Ok(mut inner) => inner.unmount(),
            Err(_) => Err(io::Error::other("unmounter lock poisoned")),
        };
        let Err(e) = result else { return Ok(()) };
        tracing::warn!(mountpoint = ?self.mountpoint, error = %e, "unmount failed; detaching lazily");
        umount2(&self.mountpoint, MntFlags::MNT_DETACH).map_err(|e2| Error::Unmount {
            path: self.mountpoint.clone(),
            reason: format!("{e}; lazy detach: {e2}"),
        })
    }
}

/// A mounted filesystem.
#[derive(Debug)]
pub struct Mount {
    handle: Handle,
    unmounter: Unmounter,
    done: Receiver<io::Result<()>>,
    thread: Option<JoinHandle<()>>,
    control: Option<ControlServer>,
    /// Dropping it stops the writeback thread, if there is one.
    _writeback: Option<mpsc::Sender<()>>,
}

impl Mount {
    /// Mounts the filesystem over `config.backing` at `config.mountpoint`.
    /// A stale FUSE mount left there by a killed daemon is detached first.
    /// When this returns the filesystem answers, and so does the control
    /// socket if one was asked for.
    pub fn start(config: &MountConfig) -> Result<Mount, Error> {
        require_fuse_device()?;
        let mp = &config.mountpoint;
        clear_stale_mount(mp)?;
        fs::create_dir_all(mp).map_err(|e| Error::io("create mountpoint", mp, e))?;
        let handle = Handle::new(State::open(&config.backing, config.max_unsynced)?);
        let mount_err = |source| Error::Mount {
            path: mp.clone(),
            source,
        };
        let mut session =
            Session::new(LazyFs::new(handle.clone()), mp, &fuse_config()).map_err(mount_err)?;
        let unmounter = Unmounter {
            inner: Arc::new(Mutex::new(session.unmount_callable())),
            mountpoint: mp.clone(),
        };
        let (tx, done) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("lazyfs-session".into())
            .spawn(move || {
                let _ = tx.send(session.run());
            })
            .map_err(mount_err)?;
        let mut mount = Mount {
            handle: handle.clone(),
            unmounter,
            done,
            thread: Some(thread),
            control: None,
            _writeback: None,
        };
        if let Some(period) = config.writeback {
            let (stop, stopped) = mpsc::channel();
            writeback::spawn(handle.clone(), period, stopped).map_err(mount_err)?;
            mount._writeback = Some(stop);
        }
        if let Some(path) = &config.control {
            mount.control = Some(ControlServer::start(path, handle)?);
        }
        tracing::info!(mountpoint = ?mp, backing = ?config.backing, "mounted");
        Ok(mount)
    }

    /// The filesystem's state, for power losses and counters in-process.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Something that can unmount this filesystem from another thread.
    pub fn unmounter(&self) -> Unmounter {
        self.unmounter.clone()
    }

    /// Blocks until the filesystem is unmounted (by [`Unmounter::unmount`]
    /// or from outside), as the daemon's main thread does.
    pub fn wait(mut self) -> Result<(), Error> {
        let result = self.done.recv();
        self.finish(result.unwrap_or(Ok(())))
    }

    /// Unmounts and waits (up to 10 s) for the session to end.
    pub fn unmount(mut self) -> Result<(), Error> {
        self.unmount_now()
    }

    fn unmount_now(&mut self) -> Result<(), Error> {
        if self.thread.is_none() {
            return Ok(());
        }
        self.unmounter.unmount()?;
        match self.done.recv_timeout(UNMOUNT_TIMEOUT) {
            Ok(result) => self.finish(result),
            Err(RecvTimeoutError::Disconnected) => self.finish(Ok(())),
            Err(RecvTimeoutError::Timeout) => Err(Error::Unmount {
                path: self.unmounter.mountpoint.clone(),
                reason: format!(
                    "session still running {UNMOUNT_TIMEOUT:?} after unmount (files open?)"
                ),
            }),
        }
    }

    fn finish(&mut self, result: io::Result<()>) -> Result<(), Error> {
        tracing::info!(mountpoint = ?self.unmounter.mountpoint, "unmounted; volatile state discarded");
        self.control = None;
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("session thread panicked");
            }
        }
        result.map_err(|source| Error::Mount {
            path: self.unmounter.mountpoint.clone(),
            source,
        })
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        if let Err(e) = self.unmount_now() {
            tracing::error!(error = %e, "unmount on drop failed");
        }
    }
}

/// Mount options: default_permissions (the kernel checks access), any user
/// may enter, no atime updates. fuser asks for no writeback cache.
fn fuse_config() -> Config {
    let mut config = Config::default();
    config.mount_options = vec![
        MountOption::FSName("arqonbus-lazyfs".into()),
        MountOption::Subtype("lazyfs".into()),
        MountOption::DefaultPermissions,
        MountOption::NoAtime,
    ];
    config.acl = SessionACL::All;
    config
}

fn require_fuse_device() -> Result<(), Error> {
    match fs::metadata("/dev/fuse") {
        Ok(m) if m.file_type().is_char_device() => Ok(()),
        _ => Err(Error::NoFuseDevice),
    }
}

/// Detaches a FUSE mount whose daemon died ("Transport endpoint is not connected").
fn clear_stale_mount(mountpoint: &Path) -> Result<(), Error> {
    match fs::metadata(mountpoint) {
        Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => {
            tracing::warn!(
                ?mountpoint,
                "stale FUSE mount from a dead daemon; detaching it"
            );
            umount2(mountpoint, MntFlags::MNT_DETACH).map_err(|e| Error::Unmount {
                path: mountpoint.to_path_buf(),
                reason: format!("detach stale mount: {e}"),
            })
        }
        Err(e) if e.kind() != ErrorKind::NotFound => {
            Err(Error::io("stat mountpoint", mountpoint, e))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The harness keeps mounts in async tasks and calls power losses from
    /// any thread.
    #[test]
    fn mounts_and_handles_move_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send>() {}
        send::<Mount>();
        send_sync::<Handle>();
        send_sync::<Unmounter>();
    }
}
