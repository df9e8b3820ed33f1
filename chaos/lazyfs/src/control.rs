//! The control socket: a Unix socket taking one-line text commands, one
//! reply line each, as LazyFS takes `lazyfs::clear-cache` on its FIFO.
//!
//! | command | reply |
//! |---|---|
//! | `crash` (or `lazyfs::clear-cache`) | `ok power_losses=N discarded_bytes=M` |
//! | `stats` | `ok fsync=… fdatasync=… fsyncdir=… …` (see [`Stats`]) |
//! | `help` | `ok commands: …` |
//! | anything else | `error …` |

use std::fs;
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::error::Error;
use crate::handle::Handle;
#[cfg(doc)]
use crate::stats::Stats;

/// A client that sends nothing for this long is dropped.
const CLIENT_IDLE: Duration = Duration::from_secs(30);
/// How long [`request`] waits for a reply.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// The listening socket and its thread; dropping it stops both and
/// removes the socket file.
#[derive(Debug)]
pub struct ControlServer {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ControlServer {
    /// Listens on `path`, replacing a socket file no daemon answers on.
    pub fn start(path: &Path, handle: Handle) -> Result<ControlServer, Error> {
        remove_stale(path)?;
        let listener =
            UnixListener::bind(path).map_err(|e| Error::io("bind control socket", path, e))?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::Builder::new()
            .name("lazyfs-control".into())
            .spawn(move || serve(listener, handle, flag))
            .map_err(|e| Error::io("spawn control thread", path, e))?;
        Ok(ControlServer {
            path: path.to_path_buf(),
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept call, which then sees the flag.
        let _ = UnixStream::connect(&self.path);
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("control thread panicked");
            }
        }
        if let Err(e) = fs::remove_file(&self.path) {
            tracing::warn!(path = ?self.path, error = %e, "could not remove control socket");
        }
    }
}

/// Sends one command to the daemon listening on `path` and returns what
/// follows `ok` in its reply; an `error` reply is an [`Error::Control`].
pub fn request(path: &Path, command: &str) -> Result<String, Error> {
    let failed = |reply: String| Error::Control {
        command: command.to_string(),
        reply,
    };
    let mut stream =
        UnixStream::connect(path).map_err(|e| Error::io("connect to control socket", path, e))?;
    stream
        .set_read_timeout(Some(REPLY_TIMEOUT))
        .and_then(|()| writeln!(stream, "{command}"))
        .map_err(|e| Error::io("send control command", path, e))?;
    let mut line = String::new();
    BufReader::new(&stream)
        .read_line(&mut line)
        .map_err(|e| Error::io("read control reply", path, e))?;
    match line
        .trim_end()
        .split_once(' ')
        .unwrap_or((line.trim_end(), ""))
    {
        ("ok", rest) => Ok(rest.to_string()),
        ("", _) => Err(failed("connection closed without a reply".into())),
        _ => Err(failed(line.trim_end().to_string())),
    }
}

/// The reply to one command line.
pub fn answer(handle: &Handle, command: &str) -> String {
    match command.trim() {
        "crash" | "lazyfs::clear-cache" => match handle.power_loss() {
            Ok(p) => format!(
                "ok power_losses={} discarded_bytes={}",
                p.power_losses, p.discarded_bytes
            ),
            Err(e) => format!("error {e}"),
        },
        "stats" => match handle.stats() {
            Ok(stats) => format!("ok {stats}"),
            Err(e) => format!("error {e}"),
        },
        "help" => "ok commands: crash lazyfs::clear-cache stats help".to_string(),
        other => format!("error unknown command {other:?} (try help)"),
    }
}

fn serve(listener: UnixListener, handle: Handle, stop: Arc<AtomicBool>) {
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let stream = match conn {
            Ok(stream) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "control socket accept failed");
                continue;
            }
        };
        let handle = handle.clone();
        let spawned = thread::Builder::new()
            .name("lazyfs-control-client".into())
            .spawn(move || {
                if let Err(e) = client(stream, &handle) {
                    tracing::debug!(error = %e, "control client gone");
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "could not serve a control client");
        }
    }
}

fn client(stream: UnixStream, handle: &Handle) -> std::io::Result<()> {
    stream.set_read_timeout(Some(CLIENT_IDLE))?;
    let mut out = &stream;
    for line in BufReader::new(&stream).lines() {
        let line = line?;
        let reply = answer(handle, &line);
        tracing::info!(command = %line.trim(), %reply, "control");
        writeln!(out, "{reply}")?;
    }
    Ok(())
}

/// Removes a socket file left by a daemon that is gone; refuses to touch a
/// socket someone answers on, or anything that is not a socket.
fn remove_stale(path: &Path) -> Result<(), Error> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("stat control socket", path, e)),
    };
    if !meta.file_type().is_socket() {
        let e = std::io::Error::new(ErrorKind::AlreadyExists, "exists and is not a socket");
        return Err(Error::io("control socket path", path, e));
    }
    if UnixStream::connect(path).is_ok() {
        return Err(Error::ControlInUse(path.to_path_buf()));
    }
    fs::remove_file(path).map_err(|e| Error::io("remove stale control socket", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::State;

    #[test]
    fn commands_are_answered_over_the_socket() {
        let dir = tempfile::tempdir().expect("tempdir");
        let handle = Handle::new(State::open(&dir.path().join("backing"), 1 << 20).expect("state"));
        let sock = dir.path().join("control.sock");
        let server = ControlServer::start(&sock, handle.clone()).expect("start");
        assert!(matches!(
            ControlServer::start(&sock, handle),
            Err(Error::ControlInUse(_))
        ));
        assert!(request(&sock, "stats")
            .expect("stats")
            .starts_with("fsync=0 "));
        let crash = request(&sock, "lazyfs::clear-cache").expect("crash");
        assert_eq!(crash, "power_losses=1 discarded_bytes=0");
        let err = request(&sock, "reboot").expect_err("unknown");
        assert!(err.to_string().contains("unknown command"), "{err}");
        drop(server);
        assert!(!sock.exists(), "socket removed on drop");
    }

    #[test]
    fn a_stale_socket_file_is_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sock = dir.path().join("control.sock");
        drop(UnixListener::bind(&sock).expect("bind"));
        let handle = Handle::new(State::open(&dir.path().join("backing"), 1).expect("state"));
        let _server = ControlServer::start(&sock, handle).expect("replaces the dead socket");
        assert_eq!(
            request(&sock, "help")
                .map(|r| r.starts_with("commands:"))
                .ok(),
            Some(true)
        );
    }
}
