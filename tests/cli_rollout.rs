//! The rollout commands of the CLI against a real cluster: `status`
//! (text, and the JSON shape with Unix-millisecond times), `rollout pause`
//! on a target with no rollout (exit 3, a clear message), a pause during a
//! rollout, `watch --assignments` printing the shadow assignment, then the
//! rollback's line and the steady assignment after `rollback`.

mod common;

use arqonbus_core::ParamValue;
use arqonbus_proto::reply::Decision;
use common::sessions::proposal;
use common::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn command(c: &arqonbus_testkit::LocalCluster, user: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(exe());
    cmd.args(args)
        .env("ARQONBUS_ENDPOINTS", c.endpoints().join(","))
        .env("ARQONBUS_CERTS", c.cert_dir())
        .env("ARQONBUS_USER", user)
        .env("RUST_LOG", "warn");
    cmd
}

fn arqonbus(c: &arqonbus_testkit::LocalCluster, user: &str, args: &[&str]) -> Run {
    let out = command(c, user, args)
        .output()
        .expect("the arqonbus binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A plan whose phases wait for 1000 samples: it stays where it is put.
const PLAN: &str = r#"
format = 2

[parameters.batch_size]
kind = "int"
min = 1
max = 256
default = 32
max_step_abs = 32
auto_approve = 4

[rollout]
phases = [
  { name = "shadow", share = 0, min_seconds = 1, min_samples = 1000 },
  { name = "full", share = 100, min_seconds = 1, min_samples = 1000 },
]
rollback_timeout_s = 600
"#;

fn json(r: &Run) -> serde_json::Value {
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("JSON ({e}): {}", r.stdout))
}

/// The next JSON line `watch --assignments` printed, within `WAIT`.
fn next_line(lines: &mpsc::Receiver<String>, what: &str) -> serde_json::Value {
    let line = lines
        .recv_timeout(WAIT)
        .unwrap_or_else(|_| panic!("timed out after {WAIT:?} waiting for {what}"));
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("{what} ({e}): {line}"))
}

#[test]
fn the_rollout_commands() {
    one_cluster_at_a_time(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let c = three_nodes(dir.path(), &[]).await;
        let status = ["status", "--target", TARGET, "--output", "json"];

        let s = json(&arqonbus(&c, "viewer", &status));
        let keys: Vec<&String> = s.as_object().expect("an object").keys().collect();
        assert_eq!(
            keys,
            [
                "epoch",
                "recent_rollbacks",
                "recent_verdicts",
                "rollout",
                "target_system"
            ],
            "{s}"
        );
        assert_eq!(s["target_system"], TARGET);
        assert!(s["epoch"].is_u64() && s["rollout"].is_null(), "{s}");
        assert_eq!(s["recent_rollbacks"], serde_json::json!([]));

        let r = arqonbus(&c, "viewer", &["status", "--target", TARGET]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.contains("no rollout in progress"), "{}", r.stdout);

        let r = arqonbus(&c, "operator", &["rollout", "pause", "--target", TARGET]);
        assert_eq!(r.code, 3, "no rollout is a refusal: {}", r.stderr);
        assert!(
            r.stderr.contains("no_rollout") && r.stderr.contains("no rollout in progress"),
            "{}",
            r.stderr
        );
        let r = arqonbus(
            &c,
            "operator",
            &["rollback", "--target", TARGET, "--reason", "nothing"],
        );
        assert_eq!(r.code, 3, "nothing to roll back: {}", r.stderr);
        let r = arqonbus(&c, "viewer", &["status", "--target", "no-such-target"]);
        assert_eq!(r.code, 1);
        assert!(r.stderr.contains("unknown target"), "{}", r.stderr);

        let plan = dir.path().join("plan.toml");
        std::fs::write(&plan, PLAN).expect("plan written");
        let plan = plan.display().to_string();
        let r = arqonbus(
            &c,
            "operator",
            &["constraints", "set", "--target", TARGET, "--file", &plan],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);

        let mut watch = command(&c, "agent", &["watch", "--target", TARGET, "--assignments"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("watch runs");
        let (tx, lines) = mpsc::channel();
        let out = watch.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let first = next_line(&lines, "the steady assignment");
        assert_eq!(first["phase"], "steady", "{first}");
        assert!(first["candidate"].is_null() && first["proposal_id"].is_null());

        let proposer = c.client("proposer").expect("proposer");
        let approval = proposer
            .propose(proposal("cli-1", &[("batch_size", ParamValue::Int(34))]))
            .await
            .expect("proposal answered");
        assert_eq!(approval.decision, Decision::Approved, "{approval:?}");

        let shadow = next_line(&lines, "the shadow assignment");
        let keys: Vec<&String> = shadow.as_object().expect("an object").keys().collect();
        assert_eq!(
            keys,
            [
                "baseline",
                "candidate",
                "epoch",
                "phase",
                "proposal_id",
                "share",
                "target_system"
            ]
        );
        assert_eq!(shadow["phase"], "shadow");
        assert_eq!(shadow["share"], 0);
        assert_eq!(shadow["proposal_id"], "cli-1");
        assert_eq!(shadow["candidate"]["batch_size"], 34);
        assert_eq!(shadow["baseline"]["batch_size"], 32);
        assert!(shadow["epoch"].as_u64() > first["epoch"].as_u64());

        let s = json(&arqonbus(&c, "viewer", &status));
        let rollout = &s["rollout"];
        assert_eq!(rollout["proposal_id"], "cli-1");
        assert_eq!(
            (&rollout["phase"], &rollout["share"]),
            (&"shadow".into(), &0.into())
        );
        assert!(rollout["phase_started_ms"]
            .as_u64()
            .is_some_and(|t| t > 1_600_000_000_000));
        assert!(rollout["violations"].is_u64() && rollout["observed_impact"].is_object());

        let r = arqonbus(
            &c,
            "operator",
            &[
                "rollout", "pause", "--target", TARGET, "--reason", "look", "--output", "json",
            ],
        );
        assert_eq!(json(&r)["rollout"]["paused"], true);

        let r = arqonbus(
            &c,
            "operator",
            &["rollback", "--target", TARGET, "--reason", "cli test"],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let rollback = next_line(&lines, "the rollback");
        assert_eq!(rollback["type"], "rollback", "{rollback}");
        assert_eq!(rollback["proposal_id"], "cli-1");
        assert_eq!(rollback["reason"], "operator");
        assert_eq!(rollback["parameters_to_restore"]["batch_size"], 32);
        let steady = next_line(&lines, "the steady assignment after the rollback");
        assert_eq!(steady["phase"], "steady", "{steady}");
        assert!(steady["epoch"].as_u64() > shadow["epoch"].as_u64());
        let _ = watch.kill();
        let _ = watch.wait();

        let s = json(&arqonbus(&c, "viewer", &status));
        assert!(s["rollout"].is_null(), "{s}");
        let back = &s["recent_rollbacks"][0];
        assert_eq!(back["proposal_id"], "cli-1");
        assert_eq!(back["reason"], "operator");
        assert!(
            back["at_ms"]
                .as_u64()
                .is_some_and(|t| t > 1_600_000_000_000),
            "{back}"
        );
    });
}
