//! `audit verify` against a cluster that is writing: every page the
//! leader sends is consistent with the head it reports, so verification
//! passes however fast the chain grows. The nodes keep only 20 entries in
//! their database, so most pages come from the archive while it grows.

mod common;

use arqonbus_core::ParamValue;
use arqonbus_proto::operator::OperatorRequest;
use common::{exe, one_cluster_at_a_time, three_nodes, TARGET};
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

#[test]
fn audit_verify_passes_under_write_load() {
    one_cluster_at_a_time(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let c = three_nodes(dir.path(), &["--audit-keep", "20", "--audit-chunk", "10"]).await;
        let stop = Arc::new(AtomicBool::new(false));
        let written = Arc::new(AtomicU64::new(0));
        let mut writers = Vec::new();
        for w in 0..4 {
            let client = c.client("operator").expect("operator client");
            let (stop, written) = (stop.clone(), written.clone());
            writers.push(tokio::spawn(async move {
                let mut n = 0i64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let values = BTreeMap::from([(
                        "batch_size".to_string(),
                        ParamValue::Int(1 + (n * 4 + w) % 200),
                    )]);
                    let op = OperatorRequest::SetParameters {
                        target_system: TARGET.into(),
                        values,
                        expected: None,
                    };
                    if client.operate(op).await.is_ok() {
                        written.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
        let run = |args: &[&str]| {
            Command::new(exe())
                .args(args)
                .env("ARQONBUS_ENDPOINTS", c.endpoints().join(","))
                .env("ARQONBUS_CERTS", c.cert_dir())
                .env("ARQONBUS_USER", "viewer")
                .env("RUST_LOG", "warn")
                .output()
                .expect("the arqonbus binary runs")
        };
        let mut heads = Vec::new();
        for round in 0..8 {
            let args = ["audit", "verify", "--output", "json"];
            let out = tokio::task::block_in_place(|| run(&args));
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "round {round}: {stderr}");
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("verify JSON");
            assert_eq!(v["ok"], true, "{v}");
            assert_eq!(v["first_index"], 1, "{v}");
            heads.push(v["head_index"].as_u64().expect("head"));
        }
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.await.expect("writer");
        }
        assert!(
            heads.windows(2).any(|p| p[1] > p[0]),
            "the chain did not grow while it was verified: {heads:?} ({} writes)",
            written.load(Ordering::Relaxed)
        );
        // A page inconsistent with its head is refused by the node's own
        // encoder; the client would retry it, so look where it shows.
        for id in c.ids() {
            let log = std::fs::read_to_string(c.log_path(id)).unwrap_or_default();
            assert!(
                !log.contains("cannot encode a reply"),
                "node {id} built a reply it could not send"
            );
        }
    });
}
