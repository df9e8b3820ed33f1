//! A flood against every node of a cluster at once, with a well-behaved
//! proposer in the middle of it, for the flood test and `arqonbus bench
//! flood`. On each node: a viewer sending the largest frames it can,
//! thousands of streams that send one byte and wait, slow-loris streams,
//! and forbidden requests at full speed. Meanwhile a proposer proposes one
//! proposal at a time and `node_status` is asked on a connection of its
//! own. [`run`] returns what happened (terms before and after, every
//! proposal's fate and latency, each node's peak memory, the audit
//! entries left); the caller asserts or reports. `bursts` is the
//! narrower attack of compressed frames alone.

mod attackers;
pub mod bursts;
mod measure;

pub use measure::Proposals;

use crate::error::Result;
use crate::LocalCluster;
use attackers::Aim;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How hard, how long, and what the proposer proposes.
#[derive(Debug, Clone)]
pub struct Plan {
    pub duration: Duration,
    /// Connections of idle streams per node.
    pub idle_connections: usize,
    /// Idle streams on each of them (at most the node's stream cap).
    pub idle_streams: usize,
    /// Slow-loris streams per node.
    pub loris_streams: usize,
    /// Concurrent loops of maximal frames, and of forbidden requests, per
    /// node.
    pub senders: usize,
    /// The target and integer parameter the proposer changes (1..=200).
    pub target: String,
    pub parameter: String,
    /// How long to wait after the flood for the last security summaries.
    pub settle: Duration,
}

impl Plan {
    /// Thousands of idle streams (3 × 16 × 60), 8 slow-loris and 2 × 2
    /// senders per node, for `duration`.
    pub fn new(duration: Duration, target: &str, parameter: &str) -> Plan {
        Plan {
            duration,
            idle_connections: 16,
            idle_streams: 60,
            loris_streams: 8,
            senders: 2,
            target: target.into(),
            parameter: parameter.into(),
            settle: Duration::from_secs(12),
        }
    }
}

/// What the attackers sent and got, summed over the nodes.
#[derive(Debug, Default)]
pub struct Counters {
    pub maximal_sent: AtomicU64,
    pub forbidden_sent: AtomicU64,
    pub served: AtomicU64,
    pub forbidden: AtomicU64,
    pub too_large: AtomicU64,
    pub invalid: AtomicU64,
    pub rate_limited: AtomicU64,
    pub other_errors: AtomicU64,
    pub unanswered: AtomicU64,
    pub idle_opened: AtomicU64,
    pub idle_reset: AtomicU64,
    pub loris_opened: AtomicU64,
    pub loris_reset: AtomicU64,
    pub connect_failures: AtomicU64,
    /// Why requests went unanswered: attacker and error, counted.
    pub unanswered_why: std::sync::Mutex<BTreeMap<String, u64>>,
}

impl Counters {
    /// Counts one request `attacker` sent that got no answer, and why.
    pub fn unanswered(&self, attacker: &str, why: &dyn std::fmt::Display) {
        self.unanswered.fetch_add(1, Relaxed);
        let text = arqonbus_proto::limits::clip(&format!("{attacker}: {why}"), 96).to_string();
        let mut map = self
            .unanswered_why
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *map.entry(text).or_insert(0) += 1;
    }

    /// Why requests went unanswered so far (emptied).
    pub fn take_unanswered(&self) -> BTreeMap<String, u64> {
        let mut map = self
            .unanswered_why
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        std::mem::take(&mut *map)
    }

    /// Name → value, for reports.
    pub fn snapshot(&self) -> BTreeMap<&'static str, u64> {
        let c = self;
        [
            ("maximal_frames_sent", &c.maximal_sent),
            ("forbidden_requests_sent", &c.forbidden_sent),
            ("answered_served", &c.served),
            ("answered_forbidden", &c.forbidden),
            ("answered_too_large", &c.too_large),
            ("answered_invalid_message", &c.invalid),
            ("answered_rate_limited", &c.rate_limited),
            ("answered_other_error", &c.other_errors),
            ("unanswered", &c.unanswered),
            ("idle_streams_opened", &c.idle_opened),
            ("idle_streams_reset", &c.idle_reset),
            ("slow_loris_opened", &c.loris_opened),
            ("slow_loris_reset", &c.loris_reset),
            ("connect_failures", &c.connect_failures),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.load(Relaxed)))
        .collect()
    }
}

/// One node's memory during the flood.
#[derive(Debug, Clone, Copy)]
pub struct NodeMemory {
    /// Resident before the flood.
    pub before: u64,
    /// The most resident during it.
    pub peak: u64,
}

/// Everything the flood observed.
#[derive(Debug)]
pub struct Outcome {
    pub terms_before: BTreeMap<u64, u64>,
    pub terms_after: BTreeMap<u64, u64>,
    pub leader_before: Option<u64>,
    pub leader_after: Option<u64>,
    pub proposals: Proposals,
    /// Milliseconds of each `node_status` answer, all nodes together.
    pub node_status_ms: Vec<f64>,
    pub node_status_failed: usize,
    pub memory: BTreeMap<u64, NodeMemory>,
    /// Audit entries the flood left on the leader, by action.
    pub audit: BTreeMap<String, u64>,
    pub attack: BTreeMap<&'static str, u64>,
    /// Why attackers' requests went unanswered, counted.
    pub unanswered: BTreeMap<String, u64>,
    pub elapsed: Duration,
}

/// Floods every node of `c` as `plan` says and reports.
pub async fn run(c: &LocalCluster, plan: &Plan) -> Result<Outcome> {
    let admin = c.client("admin")?;
    let leader_before = c.leader(&admin, &c.ids()).await.map(|l| l.0);
    let terms_before = measure::terms(c, &admin).await;
    let audited = match leader_before {
        Some(l) => measure::audit_head(c, &admin, l).await?,
        None => 0,
    };
    let mut before = BTreeMap::new();
    for id in c.ids() {
        c.reset_peak_memory(id)?;
        before.insert(id, c.memory(id)?.rss);
    }
    let (stop_tx, stop) = watch::channel(false);
    let counters = Arc::new(Counters::default());
    let started = Instant::now();
    let mut attack = JoinSet::new();
    let mut pings = JoinSet::new();
    for id in c.ids() {
        let aim = Aim {
            certs: c.cert_dir(),
            addr: c.endpoint(id)?,
            stop: stop.clone(),
            counters: counters.clone(),
        };
        for _ in 0..plan.senders {
            attack.spawn(attackers::maximal(aim.clone()));
            attack.spawn(attackers::forbidden(aim.clone()));
        }
        for _ in 0..plan.idle_connections {
            attack.spawn(attackers::idle(aim.clone(), plan.idle_streams));
        }
        attack.spawn(attackers::slow_loris(aim.clone(), plan.loris_streams));
        pings.spawn(measure::status_pings(
            aim.certs.clone(),
            aim.addr.clone(),
            stop.clone(),
        ));
    }
    let proposer = tokio::spawn(measure::proposer(
        c.client("proposer")?,
        plan.target.clone(),
        plan.parameter.clone(),
        stop.clone(),
    ));
    tokio::time::sleep(plan.duration).await;
    let _ = stop_tx.send(true);
    let proposals = proposer.await.unwrap_or_default();
    let (mut node_status_ms, mut node_status_failed) = (Vec::new(), 0);
    while let Some(Ok((ms, failed))) = pings.join_next().await {
        node_status_ms.extend(ms);
        node_status_failed += failed;
    }
    let _ = tokio::time::timeout(Duration::from_secs(20), async {
        while attack.join_next().await.is_some() {}
    })
    .await;
    attack.abort_all();
    let elapsed = started.elapsed();
    let mut memory = BTreeMap::new();
    for (id, rss) in before {
        let peak = c.memory(id)?.peak;
        memory.insert(id, NodeMemory { before: rss, peak });
    }
    let terms_after = measure::terms(c, &admin).await;
    let leader_after = c.leader(&admin, &c.ids()).await.map(|l| l.0);
    tokio::time::sleep(plan.settle).await;
    let audit = match leader_after {
        Some(l) => measure::audit_after(c, &admin, l, audited).await?.0,
        None => BTreeMap::new(),
    };
    Ok(Outcome {
        terms_before,
        terms_after,
        leader_before,
        leader_after,
        proposals,
        node_status_ms,
        node_status_failed,
        memory,
        audit,
        attack: counters.snapshot(),
        unanswered: counters.take_unanswered(),
        elapsed,
    })
}
