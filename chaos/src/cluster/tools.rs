//! Running the programs a back end drives (`arqonbus` itself, docker,
//! docker-compose, ip, iptables): to completion, with what they print
//! appended to a log file of the run, failing with their stderr.

use anyhow::{bail, Context};
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use tokio::process::Command;

/// Runs one `arqonbus` command to completion; its output goes to `log`.
pub async fn run_cli(exe: &Path, args: &[String], log: &Path) -> anyhow::Result<()> {
    let out = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| format!("running {} {}", exe.display(), args.join(" ")))?;
    append_output(log, &format!("arqonbus {}", args.join(" ")), &out)?;
    if !out.status.success() {
        bail!(
            "`arqonbus {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Appends a command line and what it printed to `log`.
fn append_output(log: &Path, command: &str, out: &std::process::Output) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("opening {}", log.display()))?;
    writeln!(file, "$ {command}")?;
    file.write_all(&out.stdout)?;
    file.write_all(&out.stderr)?;
    Ok(())
}

/// Runs a helper program (docker, ip, iptables) to completion, logging it
/// to `log`; fails with its stderr when it fails.
pub async fn run_tool(program: &str, args: &[String], log: &Path) -> anyhow::Result<String> {
    run_tool_with_env(program, args, &[], log).await
}

/// [`run_tool`] with extra environment variables.
pub async fn run_tool_with_env(
    program: &str,
    args: &[String],
    env: &[(String, String)],
    log: &Path,
) -> anyhow::Result<String> {
    let out = Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| format!("running {program} (is it installed?)"))?;
    append_output(log, &format!("{program} {}", args.join(" ")), &out)?;
    if !out.status.success() {
        bail!(
            "`{program} {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Turns string literals into the owned arguments [`run_tool`] takes.
pub fn args<const N: usize>(list: [&str; N]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}
