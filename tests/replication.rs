//! Replication never stalls on large entries: a follower that was down
//! while the others committed entries near the size limit, more of them
//! than one peer message may carry (64 MiB), catches up once it is back.

mod common;

use arqonbus_core::constraints::{ConstraintSet, ParamConstraint};
use arqonbus_proto::operator::{OperatorReply, OperatorRequest};
use common::{one_cluster_at_a_time, started, WAIT};
use std::collections::BTreeMap;
use std::time::Duration;

/// A constraint set that the log stores in about 0.93 MB (an operate
/// body may take 1 MiB): 28 enum parameters of 256 128-byte values.
fn large_constraints(version: usize) -> ConstraintSet {
    // About 0.93 MB encoded: just under an operate body's 1 MiB limit
    // (PROTOCOL.md §8.1), so each write is one large log entry.
    // The first value, each parameter's default and so its live value,
    // is the same in every version: a set that made the live values
    // illegal would be refused (`live_out_of_bounds`).
    let parameters = (0..28)
        .map(|p| {
            let values: Vec<String> = (0..256)
                .map(|v| match v {
                    0 => format!("live-{p:03}-{v:0>118}"),
                    _ => format!("v{version}-{p:03}-{v:0>118}"),
                })
                .collect();
            let default = values[0].clone();
            (
                format!("param_{p:03}"),
                ParamConstraint::Enum { values, default },
            )
        })
        .collect::<BTreeMap<_, _>>();
    ConstraintSet { parameters }
}

#[test]
fn a_follower_catches_up_across_entries_near_the_size_limit() {
    one_cluster_at_a_time(async {
        let dir = tempfile::tempdir().expect("tempdir");
        // A generous heartbeat: openraft gives each append one heartbeat,
        // and this debug build on two shared cores must not be what fails.
        let timings = [
            "--heartbeat-ms",
            "1000",
            "--election-min-ms",
            "5000",
            "--election-max-ms",
            "7000",
            "--request-deadline-ms",
            "20000",
        ];
        let (mut c, admin) = started(dir.path(), 3, &timings).await;
        c.bootstrap(&admin).await.expect("cluster init");
        let (leader, _) = c
            .wait_for_leader(&admin, &c.ids(), 0, WAIT)
            .await
            .expect("a leader");
        let follower = c
            .ids()
            .into_iter()
            .find(|&id| id != leader)
            .expect("a follower");
        c.kill(follower).await.expect("follower killed");

        let operator = c.client("operator").expect("operator client");
        // 75 entries of about 0.93 MB: 70 MB, more than one 64 MiB append.
        let writes = 75;
        for version in 0..writes {
            let reply = operator
                .operate(OperatorRequest::SetConstraints {
                    target_system: "large".into(),
                    constraints: large_constraints(version),
                })
                .await
                .unwrap_or_else(|e| panic!("write {version}: {e}"));
            assert!(
                matches!(reply, OperatorReply::ConstraintsSet { .. }),
                "{reply:?}"
            );
        }
        let applied = common::leader_applied(&c, &admin, &c.ids()).await;

        c.start(follower).expect("follower restarts");
        let caught_up = c
            .wait_for_applied(&admin, &[follower], applied, Duration::from_secs(180))
            .await;
        let log = std::fs::read_to_string(c.log_path(follower)).unwrap_or_default();
        caught_up.unwrap_or_else(|e| {
            panic!(
                "node {follower} did not catch up across {writes} entries of ~3.6 MiB: {e}\n{}",
                log.lines().rev().take(30).collect::<Vec<_>>().join("\n")
            )
        });
        c.stop_all().await.expect("stop");
    });
}
