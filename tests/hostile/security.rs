//! Item 3: forbidden attempts cannot amplify. A viewer's forbidden
//! requests, at a follower and at the leader, become at most one
//! `security_summary` audit entry per node per 10 s, with the count, on
//! whichever node saw them; never an entry per request.

use super::{code, hostile_test, Hostile};
use crate::common::sessions::{envelope, proposal};
use arqonbus_core::audit::AuditEntry;
use arqonbus_core::ParamValue;
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::operator::{OperatorReply, OperatorRequest};
use arqonbus_proto::{Message, Reply, Request};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

const PER_NODE: usize = 300;
const INTERVAL: Duration = Duration::from_secs(10);
const GIVE_UP: Duration = Duration::from_secs(60);

/// Node `id`'s audit entries from `from` on (its own replica).
async fn audit_from(h: &Hostile, id: u64, from: u64) -> Vec<AuditEntry> {
    let endpoint = h.cluster.endpoint(id).expect("endpoint");
    let mut out = Vec::new();
    let mut next = from;
    loop {
        let request = Request::Operate(OperatorRequest::AuditRange {
            from_index: next,
            limit: 1000,
            stale: true,
        });
        let reply = h.admin.call_node(&endpoint, &request).await.expect("audit");
        let Reply::Operated(OperatorReply::AuditEntries {
            entries,
            head_index,
        }) = reply
        else {
            panic!("audit range answered {reply:?}")
        };
        let last = entries.last().map(|e| e.index);
        out.extend(entries);
        match last {
            Some(l) if l < head_index => next = l + 1,
            _ => return out,
        }
    }
}

/// The count a summary entry gives `kind` attempts by `identity`.
fn counted(entry: &AuditEntry, identity: &str, kind: &str) -> u64 {
    entry
        .details
        .lines()
        .filter(|l| {
            l.contains(&format!("identity={identity} ")) && l.contains(&format!("kind={kind} "))
        })
        .filter_map(|l| l.split_whitespace().find_map(|w| w.strip_prefix("count=")))
        .filter_map(|n| n.parse::<u64>().ok())
        .sum()
}

async fn forbidden_burst(h: &Hostile, id: u64) {
    let conn = std::sync::Arc::new(h.raw("viewer", id).await);
    let mut sends = JoinSet::new();
    for n in 0..PER_NODE {
        let conn = conn.clone();
        let p = proposal(
            &format!("forbidden-{id}-{n}"),
            &[("batch_size", ParamValue::Int(8))],
        );
        let frame = arqonbus_proto::encode(&Message::Request(envelope(), Request::Proposal(p)))
            .expect("encodes");
        sends.spawn(async move { conn.exchange(&frame).await });
        if sends.len() >= 16 {
            let r = sends.join_next().await.expect("task").expect("joined");
            assert!(matches!(
                code(&r.expect("answered")),
                Ok(ErrorCode::Forbidden)
            ));
        }
    }
    while let Some(r) = sends.join_next().await {
        assert!(matches!(
            code(&r.expect("joined").expect("answered")),
            Ok(ErrorCode::Forbidden)
        ));
    }
}

#[test]
fn forbidden_requests_are_summarised_on_every_node_that_sees_them() {
    hostile_test(async {
        let h = Hostile::start(&[]).await;
        let head = audit_from(&h, h.leader, 1)
            .await
            .last()
            .map_or(0, |e| e.index);
        let started = Instant::now();
        forbidden_burst(&h, h.follower).await;
        forbidden_burst(&h, h.leader).await;
        let sent = started.elapsed();

        let (leader, follower) = (format!("node-{}", h.leader), format!("node-{}", h.follower));
        let mut entries;
        loop {
            entries = audit_from(&h, h.leader, head + 1).await;
            let seen = |actor: &str| -> u64 {
                entries
                    .iter()
                    .filter(|e| e.action == "security_summary" && e.actor == actor)
                    .map(|e| counted(e, "viewer", "forbidden"))
                    .sum()
            };
            if seen(&leader) >= PER_NODE as u64 && seen(&follower) >= PER_NODE as u64 {
                assert_eq!(
                    (seen(&leader), seen(&follower)),
                    (PER_NODE as u64, PER_NODE as u64)
                );
                break;
            }
            assert!(
                started.elapsed() < GIVE_UP,
                "summaries of {PER_NODE} attempts at each node not audited within {GIVE_UP:?}: {entries:#?}"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let elapsed = started.elapsed();
        let intervals = (elapsed.as_secs() / INTERVAL.as_secs() + 2) as usize;
        eprintln!(
            "figure: {} forbidden requests in {sent:?} produced {} audit entries within {elapsed:?}",
            2 * PER_NODE,
            entries.len()
        );
        assert!(
            entries.iter().all(|e| e.action == "security_summary"),
            "{entries:#?}"
        );
        assert!(
            entries.len() <= 3 * intervals,
            "{} entries: {entries:#?}",
            entries.len()
        );
    });
}
