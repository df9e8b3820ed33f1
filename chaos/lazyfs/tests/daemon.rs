//! The daemon: durable state survives it stopping (cleanly or by SIGKILL)
//! and mounting again, and `arqonbus-lazyfs ctl` drives a running one.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::Receiver;

use arqonbus_lazyfs::Stats;
use common::{expect_line, fsync, lines, read, wait_exit, write, Fs};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

const BIN: &str = env!("CARGO_BIN_EXE_arqonbus-lazyfs");

/// Writes one durable file and one unsynced one, and an unsynced change to
/// the durable one.
fn durable_and_not(dir: &Path) {
    write(&dir.join("durable"), b"kept");
    fsync(&dir.join("durable"));
    fsync(dir);
    write(&dir.join("volatile"), b"lost");
    fs::OpenOptions::new()
        .append(true)
        .open(dir.join("durable"))
        .and_then(|mut f| std::io::Write::write_all(&mut f, b" and lost"))
        .expect("append");
}

fn check_after_restart(dir: &Path) {
    assert_eq!(read(&dir.join("durable")).as_deref(), Some(&b"kept"[..]));
    assert_eq!(read(&dir.join("volatile")), None);
}

#[test]
fn durable_state_survives_an_in_process_remount() {
    let mut fs = Fs::new();
    durable_and_not(&fs.path(""));
    fs.remount();
    check_after_restart(&fs.path(""));
    assert_eq!(
        fs.stats(),
        Stats::default(),
        "counters start again with the daemon"
    );
}

struct Daemon {
    child: Child,
    out: Receiver<String>,
}

fn spawn(fs: &Fs) -> Daemon {
    let c = &fs.config;
    let mut child = Command::new(BIN)
        .arg("mount")
        .arg("--backing")
        .arg(&c.backing)
        .arg("--mountpoint")
        .arg(fs.dir().join("daemon-mnt"))
        .arg("--control")
        .arg(fs.dir().join("daemon.sock"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn arqonbus-lazyfs mount");
    let out = lines(child.stdout.take().expect("stdout"));
    expect_line(&out, "ready mountpoint=");
    Daemon { child, out }
}

fn ctl(fs: &Fs, command: &str) -> Output {
    let sock = fs.dir().join("daemon.sock");
    let out = Command::new(BIN)
        .arg("ctl")
        .arg(sock)
        .arg(command)
        .output()
        .expect("run ctl");
    assert!(out.stderr.len() < 4096, "ctl said too much");
    out
}

fn ctl_ok(fs: &Fs, command: &str) -> String {
    let out = ctl(fs, command);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "ctl {command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.trim().to_string()
}

#[test]
fn the_daemon_serves_ctl_and_survives_sigkill_and_sigterm() {
    // The daemon takes over the fixture's backing directory, never while
    // the in-process mount still has it.
    let mut fs = Fs::new();
    fs.unmount();
    let mnt = fs.dir().join("daemon-mnt");
    let daemon = spawn(&fs);
    durable_and_not(&mnt);

    let stats: Stats = ctl_ok(&fs, "stats").parse().expect("stats line");
    assert_eq!(
        (stats.fsync, stats.fsyncdir, stats.unsynced_bytes),
        (1, 1, 4 + 9)
    );
    assert_eq!(ctl_ok(&fs, "crash"), "power_losses=1 discarded_bytes=13");
    check_after_restart(&mnt);
    let bad = ctl(&fs, "bogus");
    assert!(!bad.status.success(), "an unknown command fails");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown command"));

    durable_and_not(&mnt);
    kill(Pid::from_raw(daemon.child.id() as i32), Signal::SIGKILL).expect("SIGKILL the daemon");
    assert!(!wait_exit(daemon.child).success());
    drop(daemon.out);
    let err = fs::metadata(&mnt).expect_err("the mount is stale");
    assert_eq!(err.raw_os_error(), Some(libc::ENOTCONN), "{err}");

    let daemon = spawn(&fs);
    check_after_restart(&mnt);
    kill(Pid::from_raw(daemon.child.id() as i32), Signal::SIGTERM).expect("SIGTERM the daemon");
    let status = wait_exit(daemon.child);
    assert!(status.success(), "SIGTERM unmounts cleanly: {status}");
    assert!(
        read(&mnt.join("durable")).is_none(),
        "nothing mounted there any more"
    );
    assert!(
        !fs.dir().join("daemon.sock").exists(),
        "the control socket is removed"
    );
}
