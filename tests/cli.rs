//! The CLI contract against a real cluster: JSON shapes, exit codes
//! (0 done, 1 failed, 2 usage, 3 refused), and bad input that changes
//! nothing and is named clearly.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn arqonbus(c: &arqonbus_testkit::LocalCluster, user: &str, args: &[&str]) -> Run {
    let out = Command::new(exe())
        .args(args)
        .env("ARQONBUS_ENDPOINTS", c.endpoints().join(","))
        .env("ARQONBUS_CERTS", c.cert_dir())
        .env("ARQONBUS_USER", user)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the arqonbus binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write file");
    path.display().to_string()
}

#[test]
fn the_cli_contract_and_bad_input() {
    one_cluster_at_a_time(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let c = three_nodes(dir.path(), &[]).await;

        let r = arqonbus(&c, "viewer", &["cluster", "status", "--output", "json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let status: serde_json::Value = serde_json::from_str(&r.stdout).expect("status JSON");
        assert!(status["leader"].is_u64(), "{status}");
        let members = status["members"].as_array().expect("members");
        assert_eq!(members.len(), 3);
        for m in members {
            assert!(
                m["id"].is_u64() && m["addr"].is_string() && m["role"].is_string(),
                "{m}"
            );
        }

        let r = arqonbus(&c, "admin", &["cluster", "init"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.contains("already formed"), "{}", r.stdout);

        let broken = write(dir.path(), "broken.toml", "[parameters.a]\nkind = \n");
        let r = arqonbus(
            &c,
            "operator",
            &["constraints", "set", "--target", TARGET, "--file", &broken],
        );
        assert_eq!(r.code, 1);
        assert!(
            r.stderr.contains("broken.toml") && r.stderr.contains("line 2"),
            "{}",
            r.stderr
        );

        let bad = write(
            dir.path(),
            "bad.toml",
            "[parameters.a]\nkind = \"int\"\nmin = 5\nmax = 1\ndefault = 2\n[parameters.b]\nkind = \"vector\"\n",
        );
        let r = arqonbus(
            &c,
            "operator",
            &["constraints", "set", "--target", TARGET, "--file", &bad],
        );
        assert_eq!(r.code, 1);
        assert!(
            r.stderr.contains("parameter `a`") && r.stderr.contains("parameter `b`"),
            "{}",
            r.stderr
        );

        let set = |user: &str, target: &str, kv: &str| {
            arqonbus(
                &c,
                user,
                &["params", "set", "--target", target, "--set", kv],
            )
        };
        let r = set("operator", TARGET, "batch_size=64");
        assert_eq!(r.code, 0, "{}", r.stderr);
        let r = set("operator", TARGET, "batch_size=999");
        assert_eq!(r.code, 3, "out of range: {}", r.stderr);
        assert!(r.stderr.contains("max_batch_size"), "{}", r.stderr);
        let r = set("operator", TARGET, "batch_size=true");
        assert_eq!(r.code, 3, "wrong kind: {}", r.stderr);
        let r = set("operator", TARGET, "temperature=NaN");
        assert_eq!(r.code, 2, "NaN is a usage error: {}", r.stderr);
        assert!(r.stderr.contains("finite"), "{}", r.stderr);
        let r = set("operator", "no-such-target", "batch_size=1");
        assert_eq!(r.code, 3);
        assert!(r.stderr.contains("unknown target"), "{}", r.stderr);
        let r = set("viewer", TARGET, "batch_size=2");
        assert_eq!(r.code, 1);
        assert!(r.stderr.contains("forbidden"), "{}", r.stderr);

        let r = arqonbus(
            &c,
            "viewer",
            &["params", "get", "--target", TARGET, "--output", "json"],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let params: serde_json::Value = serde_json::from_str(&r.stdout).expect("params JSON");
        assert_eq!(
            params["live"]["batch_size"], 64,
            "refused writes changed nothing"
        );

        let started = Instant::now();
        let r = arqonbus(
            &c,
            "viewer",
            &[
                "params",
                "get",
                "--target",
                TARGET,
                "--endpoints",
                "127.0.0.1:1",
            ],
        );
        assert_eq!(r.code, 1);
        assert!(r.stderr.contains("127.0.0.1:1"), "{}", r.stderr);
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "an unreachable endpoint took {:?}",
            started.elapsed()
        );

        let r = arqonbus(&c, "viewer", &["audit", "verify", "--output", "json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("verify JSON");
        assert_eq!(v["ok"], true);
        assert!(v["count"].as_u64().unwrap_or(0) >= 5, "{v}");

        // A forbidden request is audited as a security event by the leader
        // (PROTOCOL.md §6.13.1): send one to every node, so one is the leader.
        for endpoint in c.endpoints() {
            let r = arqonbus(
                &c,
                "viewer",
                &[
                    "params",
                    "set",
                    "--target",
                    TARGET,
                    "--set",
                    "batch_size=3",
                    "--endpoints",
                    &endpoint,
                ],
            );
            assert_eq!(r.code, 1, "{endpoint}: {}", r.stderr);
        }
        // Refusals are summarised per identity and kind, at most one
        // security_summary per node every 10 s (PROTOCOL.md §8.3).
        let tried = "identity=viewer kind=forbidden";
        let entry = wait_for(
            "the refusal in the audit log",
            Duration::from_secs(30),
            || {
                let r = arqonbus(
                    &c,
                    "viewer",
                    &["audit", "tail", "-n", "20", "--output", "json"],
                );
                let found = r
                    .stdout
                    .lines()
                    .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
                    .find(|e| e["details"].as_str().is_some_and(|d| d.contains(tried)));
                std::future::ready(found)
            },
        )
        .await;
        assert_eq!(entry["action"], "security_summary", "{entry}");
        assert!(
            entry["actor"]
                .as_str()
                .is_some_and(|a| a.starts_with("node-")),
            "{entry}"
        );
    });
}

#[test]
fn audit_verify_names_an_entry_corrupted_on_disk() {
    one_cluster_at_a_time(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut c = three_nodes(dir.path(), &[]).await;
        let r = arqonbus(
            &c,
            "operator",
            &[
                "params",
                "set",
                "--target",
                TARGET,
                "--set",
                "batch_size=12",
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        c.stop(1).await.expect("stop node 1");
        let data = c.data_dir(1);
        let data_arg = data.display().to_string();
        let r = arqonbus(&c, "viewer", &["audit", "verify", "--data", &data_arg]);
        assert_eq!(r.code, 0, "the untouched chain verifies: {}", r.stderr);

        {
            let db = arqonbus::raft::storage::open_audit_db(
                &arqonbus::raft::storage::audit_db_path(&data),
            )
            .expect("open the stopped node's database");
            let tree = db.open_tree("audit").expect("audit tree");
            let key = 3u64.to_be_bytes();
            let bytes = tree.get(key).expect("read").expect("entry 3 exists");
            let mut entry: arqonbus_core::audit::AuditEntry =
                arqonbus::record::decode(&bytes).expect("decode");
            entry.details.push_str(" (edited)");
            tree.insert(key, arqonbus::record::encode(&entry).expect("encode"))
                .expect("write");
            db.flush().expect("flush");
        }
        let r = arqonbus(&c, "viewer", &["audit", "verify", "--data", &data_arg]);
        assert_eq!(r.code, 1, "corruption went unnoticed: {}", r.stdout);
        assert!(r.stderr.contains("audit entry 3"), "{}", r.stderr);

        // The first entries deleted: a gap, not a chain taken on trust from 3.
        let checkpoint = {
            let db = arqonbus::raft::storage::open_audit_db(
                &arqonbus::raft::storage::audit_db_path(&data),
            )
            .expect("open the stopped node's database");
            let tree = db.open_tree("audit").expect("audit tree");
            let entry = |i: u64| -> arqonbus_core::audit::AuditEntry {
                let bytes = tree.get(i.to_be_bytes()).expect("read").expect("exists");
                arqonbus::record::decode(&bytes).expect("decode")
            };
            let mut third = entry(3);
            third.details = third.details.replace(" (edited)", "");
            tree.insert(
                3u64.to_be_bytes(),
                arqonbus::record::encode(&third).expect("encode"),
            )
            .expect("repair");
            let second = entry(2);
            tree.remove(1u64.to_be_bytes()).expect("delete 1");
            tree.remove(2u64.to_be_bytes()).expect("delete 2");
            db.flush().expect("flush");
            format!("2:{}", hex::encode(second.hash))
        };
        let r = arqonbus(&c, "viewer", &["audit", "verify", "--data", &data_arg]);
        assert_eq!(r.code, 1, "missing entries went unnoticed: {}", r.stdout);
        assert!(r.stderr.contains("gap 1..2"), "{}", r.stderr);
        let r = arqonbus(
            &c,
            "viewer",
            &["audit", "verify", "--data", &data_arg, "--output", "json"],
        );
        let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("verify JSON");
        assert_eq!(v["gap"], serde_json::json!({"from": 1, "to": 2}), "{v}");
        let from = |checkpoint: &str| {
            let args = ["audit", "verify", "--data", &data_arg];
            let mut args = args.to_vec();
            args.extend(["--from-checkpoint", checkpoint]);
            arqonbus(&c, "viewer", &args)
        };
        let r = from(&checkpoint);
        assert_eq!(r.code, 0, "from a checkpoint: {}", r.stderr);
        assert!(r.stdout.contains("(from index 3)"), "{}", r.stdout);
        let r = from("2:00");
        assert_eq!(r.code, 2, "a malformed checkpoint is a usage error");
    });
}

#[test]
fn health_and_resolve_overrides() {
    one_cluster_at_a_time(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let c = three_nodes(dir.path(), &[]).await;
        let endpoints = c.endpoints();

        // A node's own certificate is enough to ask it for its status.
        let r = arqonbus(&c, "node-1", &["health", "--endpoint", &endpoints[0]]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.starts_with("healthy: node 1 "), "{}", r.stdout);

        // Nothing listening: unhealthy, within the bound.
        let started = Instant::now();
        let r = arqonbus(
            &c,
            "node-1",
            &["health", "--endpoint", "127.0.0.1:9", "--timeout-ms", "300"],
        );
        assert_eq!(r.code, 1, "{}", r.stdout);
        assert!(r.stderr.starts_with("unhealthy: "), "{}", r.stderr);
        assert!(started.elapsed() < Duration::from_secs(5));

        // Endpoints named as only the certificates know them (`node-N`,
        // unresolvable here), dialled where `--resolve` says.
        let names: Vec<String> = endpoints
            .iter()
            .enumerate()
            .map(|(i, e)| format!("node-{}:{}", i + 1, e.rsplit_once(':').unwrap().1))
            .collect();
        let resolve: Vec<String> = names
            .iter()
            .zip(&endpoints)
            .map(|(n, e)| format!("{n}={e}"))
            .collect();
        let r = arqonbus(
            &c,
            "operator",
            &[
                "params",
                "set",
                "--target",
                TARGET,
                "--set",
                "batch_size=40",
                "--endpoints",
                &names.join(","),
                "--resolve",
                &resolve.join(","),
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let r = arqonbus(
            &c,
            "viewer",
            &[
                "params",
                "get",
                "--target",
                TARGET,
                "--endpoints",
                &names.join(","),
            ],
        );
        assert_eq!(r.code, 1, "unresolvable without --resolve: {}", r.stdout);
        assert!(r.stderr.contains("--resolve"), "a hint: {}", r.stderr);

        let r = arqonbus(
            &c,
            "operator",
            &[
                "params",
                "set",
                "--target",
                TARGET,
                "--set",
                "batch_size=41",
                "--resolve",
                "node-1:1",
            ],
        );
        assert_eq!(r.code, 2, "{}", r.stderr);
    });
}
