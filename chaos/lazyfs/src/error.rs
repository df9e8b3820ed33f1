//! The library's error type, and how an internal failure becomes an errno.
//!
//! Operations the kernel asks for answer with an [`Errno`]; anything that
//! goes wrong underneath (the backing directory, the metadata file, the
//! control socket) is an [`Error`], logged and answered as `EIO`.

use std::io;
use std::path::PathBuf;

use fuser::Errno;

/// What can go wrong outside a single filesystem operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O call on the host failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done, e.g. "write metadata".
        what: &'static str,
        /// The host path involved.
        path: PathBuf,
        /// The host's error.
        #[source]
        source: io::Error,
    },
    /// The backing directory's metadata file cannot be used.
    #[error("metadata file {path} is not valid: {reason}")]
    Corrupt {
        /// The metadata file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// `/dev/fuse` is missing, so nothing can be mounted.
    #[error("/dev/fuse is missing: this machine cannot mount FUSE filesystems (load the fuse module, or give the container the device)")]
    NoFuseDevice,
    /// The kernel refused the mount, or the session could not start.
    #[error("mount at {path}: {source}")]
    Mount {
        /// The mountpoint.
        path: PathBuf,
        /// The error from fuser or the kernel.
        #[source]
        source: io::Error,
    },
    /// Unmounting failed or did not finish in time.
    #[error("unmount {path}: {reason}")]
    Unmount {
        /// The mountpoint.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Another daemon answers on the control socket's path.
    #[error("control socket {0} is in use by a running daemon")]
    ControlInUse(PathBuf),
    /// The control socket answered with an error, or with something unreadable.
    #[error("control command {command:?}: {reply}")]
    Control {
        /// The command sent.
        command: String,
        /// The reply, or why there was none.
        reply: String,
    },
    /// A thread panicked while it held the filesystem state.
    #[error("filesystem state is poisoned: an operation panicked half-way")]
    Poisoned,
}

impl Error {
    /// An [`Error::Io`] for `what` on `path`.
    pub fn io(what: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io {
            what,
            path: path.into(),
            source,
        }
    }
}

/// Logs an internal failure and turns it into the errno the caller sees.
pub fn to_errno(err: Error) -> Errno {
    tracing::error!(error = %err, "internal failure answered as EIO");
    match err {
        Error::Io { source, .. } if source.raw_os_error() == Some(libc::ENOSPC) => Errno::ENOSPC,
        _ => Errno::EIO,
    }
}
