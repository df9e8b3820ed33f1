//! An acknowledged write is durable before it is acknowledged, seen from
//! outside: a one-node cluster runs under `strace`, a client makes
//! sequential writes and notes when each was sent and acknowledged, and
//! every write must have an `fdatasync` or `fsync` of a file in the node's
//! data directory (the Raft log, in practice) that started after it was
//! sent and finished before it was acknowledged. `sync_file_range` (sled's
//! flush, which the log relied on before) does not count.
//!
//! Needs `strace` (Debian's package; `.ci/run` installs it) and ptrace
//! permission (root in CI); without them the test fails and says so.

mod common;

use arqonbus_core::constraint_file;
use arqonbus_proto::operator::OperatorRequest;
use arqonbus_testkit::LocalCluster;
use common::{exe, one_cluster_at_a_time, within, WAIT};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const WRITES: usize = 40;

/// Unix seconds, as strace's `-ttt` prints them.
fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// A sync of the log seen by strace: when it started and finished.
#[derive(Debug, Clone, Copy)]
struct Sync {
    start: f64,
    end: f64,
}

/// Reads `strace -f -ttt -T -y` output: each `fsync`/`fdatasync` of a file
/// whose path contains `under` (the node's data directory), with its start
/// and end, unfinished calls joined with their resumption.
fn syncs_under(trace: &str, under: &str) -> Vec<Sync> {
    let mut pending: HashMap<String, f64> = HashMap::new();
    let mut out = Vec::new();
    for line in trace.lines() {
        let mut words = line.split_whitespace();
        let (Some(pid), Some(ts)) = (words.next(), words.next()) else {
            continue;
        };
        let Ok(ts) = ts.parse::<f64>() else { continue };
        let rest: String = words.collect::<Vec<_>>().join(" ");
        let is_sync = rest.starts_with("fsync(") || rest.starts_with("fdatasync(");
        if is_sync && rest.contains(under) && rest.contains("<unfinished") {
            pending.insert(pid.to_string(), ts);
        } else if is_sync && rest.contains(under) && rest.contains("= 0") {
            out.push(Sync {
                start: ts,
                end: ts + duration(&rest),
            });
        } else if rest.starts_with("<... fsync resumed>")
            || rest.starts_with("<... fdatasync resumed>")
        {
            if let Some(start) = pending.remove(pid) {
                if rest.contains("= 0") {
                    out.push(Sync {
                        start,
                        end: ts + duration(&rest),
                    });
                }
            }
        }
    }
    out
}

/// The `<0.000123>` time strace's `-T` appends.
fn duration(rest: &str) -> f64 {
    rest.rsplit_once('<')
        .and_then(|(_, d)| d.trim_end_matches('>').parse().ok())
        .unwrap_or(0.0)
}

async fn start_strace(pid: u32, out: &Path) -> tokio::process::Child {
    let err_path = out.with_extension("stderr");
    let err = std::fs::File::create(&err_path).expect("strace stderr file");
    let child = tokio::process::Command::new("strace")
        .args([
            "-f",
            "-ttt",
            "-T",
            "-y",
            "-e",
            "trace=fsync,fdatasync,sync_file_range",
            "-o",
        ])
        .arg(out)
        .args(["-p", &pid.to_string()])
        .stderr(err)
        .kill_on_drop(true)
        .spawn()
        .expect("strace runs (install Debian's strace package)");
    within("strace attaching to the node", WAIT, async {
        loop {
            let text = std::fs::read_to_string(&err_path).unwrap_or_default();
            assert!(
                !text.contains("Operation not permitted"),
                "strace may not trace the node: {text}"
            );
            if text.contains("attached") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    child
}

#[test]
fn every_acknowledged_write_was_synced_to_the_log_before_its_acknowledgement() {
    one_cluster_at_a_time(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut c = LocalCluster::new(&exe(), dir.path(), 1, None)
            .await
            .expect("prepared");
        c.start_all().expect("node starts");
        let admin = c.client("admin").expect("admin");
        c.wait_until_up(&admin, &[1], WAIT).await.expect("up");
        c.bootstrap(&admin).await.expect("one-node cluster");
        c.wait_for_leader(&admin, &[1], 0, WAIT)
            .await
            .expect("leader");
        let operator = c.client("operator").expect("operator");
        let constraints = constraint_file::parse(
            "t",
            "[parameters.n]\nkind = \"int\"\nmin = 0\nmax = 1000000\ndefault = 0\n",
        )
        .expect("constraints");
        operator
            .operate(OperatorRequest::SetConstraints {
                target_system: "t".into(),
                constraints,
            })
            .await
            .expect("constraints set");

        let trace = dir.path().join("strace.out");
        let pid = c.processes().process_id(1).expect("node 1 runs");
        let mut strace = start_strace(pid, &trace).await;
        let mut windows = Vec::with_capacity(WRITES);
        for n in 0..WRITES {
            let sent = now();
            operator
                .operate(OperatorRequest::SetParameters {
                    target_system: "t".into(),
                    values: BTreeMap::from([(
                        "n".into(),
                        arqonbus_core::ParamValue::Int(n as i64),
                    )]),
                    expected: None,
                })
                .await
                .expect("write acknowledged");
            windows.push((sent, now()));
        }
        // SIGINT makes strace detach and write out what it saw.
        if let Some(id) = strace.id() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(id as i32),
                nix::sys::signal::Signal::SIGINT,
            );
        }
        within("strace exiting", WAIT, strace.wait())
            .await
            .expect("strace exits");
        let text = std::fs::read_to_string(&trace).expect("trace");
        let data = c.data_dir(1).display().to_string();
        let syncs = syncs_under(&text, &data);
        let uncovered: Vec<usize> = windows
            .iter()
            .enumerate()
            .filter(|(_, (sent, acked))| !syncs.iter().any(|s| s.start >= *sent && s.end <= *acked))
            .map(|(i, _)| i)
            .collect();
        assert!(
            uncovered.is_empty(),
            "{} of {WRITES} acknowledged writes had no fsync/fdatasync in the data directory between \
             being sent and being acknowledged: {uncovered:?}\n{} syncs under {data} seen; trace head:\n{}",
            uncovered.len(),
            syncs.len(),
            text.lines().take(20).collect::<Vec<_>>().join("\n")
        );
        c.stop_all().await.expect("clean stop");
    });
}

#[test]
fn the_trace_reader_joins_unfinished_calls_and_ignores_other_files() {
    let trace = "\
10 100.000000 fdatasync(7</d/raft-log/00000000000000000001.wal>) = 0 <0.000200>
11 100.100000 fdatasync(8</d/raft-log/00000000000000000001.wal> <unfinished ...>
12 100.100100 sync_file_range(9</d/audit.db/db>, 0, 4096, 7) = 0 <0.000010>
11 100.100500 <... fdatasync resumed>) = 0 <0.000600>
12 100.200000 fsync(9</d/audit.db/db>) = 0 <0.000100>
";
    let syncs = syncs_under(trace, "raft-log");
    assert_eq!(syncs.len(), 2, "{syncs:?}");
    assert_eq!(
        syncs_under(trace, "/d/").len(),
        3,
        "the audit db's fsync too"
    );
    assert!((syncs[0].end - 100.0002).abs() < 1e-9);
    assert!((syncs[1].start - 100.1).abs() < 1e-9);
    assert!((syncs[1].end - 100.1011).abs() < 1e-6);
}
