//! The proposal workload: one or more proposer tasks (certificate
//! `proposer`), each with its own `Client`, submitting proposals with
//! unique ids to the target [`PROPOSAL_TARGET`], whose constraints (the
//! chaos constraints: int parameters `k0`..`k199`, 0..=10^12) approve some
//! changes and reject others, so the decisions differ: approved, partially
//! approved, rejected. The decision each proposal should get is worked out
//! here from the same constraints, and checked at the end
//! (`proposal_check.rs`) together with every node's own replica.
//!
//! Each send is recorded in the shared history as a `propose` event, key =
//! the proposal id, by the rules in `chaos/README.md`. A send whose outcome
//! is unknown (`info`) is **re-sent with the same id and content** (the
//! server deduplicates by id) until it is decided or refused, for at most
//! `resend_bound`; after that the workload gives up and the last `info`
//! stands. A share of decided proposals is sent once more on purpose
//! (`duplicate_percent`), to show that a re-sent id gets the recorded
//! decision again.

use crate::outcome::classify_propose;
pub use crate::proposal_plan::decision_name;
use crate::proposal_plan::{event_value, plan_changes, Send};
use crate::recorder::{Event, Kind, Recorder};
use crate::rng::Rng;
use arqonbus_client::{Client, ClientError};
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::message::Proposal;
use arqonbus_proto::reply::{Approval, Decision};
use arqonbus_proto::UnixMillis;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The target every proposal goes to.
pub const PROPOSAL_TARGET: &str = "chaos-proposals";
/// Proposer process numbers start here, apart from the register clients'.
pub const FIRST_PROCESS: u64 = 1_000_000;
/// The pause before re-sending a proposal whose outcome was unknown.
const RESEND_PAUSE: Duration = Duration::from_millis(500);

/// How the proposal workload runs.
#[derive(Debug, Clone)]
pub struct ProposalOptions {
    pub proposers: u64,
    /// Proposals per second over all proposers.
    pub rate: f64,
    pub target: String,
    pub request_timeout: Duration,
    pub retry_budget: Duration,
    /// How long a proposal with an unknown outcome is re-sent.
    pub resend_bound: Duration,
    /// Percent of decided proposals sent once more on purpose.
    pub duplicate_percent: u64,
}

/// Everything the workload learned about one proposal id.
#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    /// The decision the constraints call for.
    pub expected: Decision,
    /// Every decision the cluster answered, in order (one per `ok`).
    pub answers: Vec<Approval>,
    /// `conflict` answers: the id was only ever sent with one content, so
    /// each is a violation.
    pub conflicts: Vec<String>,
    /// Sends after an unknown outcome, and duplicates of a decided one.
    pub resends: u64,
    pub duplicates: u64,
    /// The last send's outcome (`Invoke` while one is in flight).
    pub last: Kind,
}

impl Submitted {
    fn new(expected: Decision) -> Submitted {
        Submitted {
            expected,
            answers: Vec::new(),
            conflicts: Vec::new(),
            resends: 0,
            duplicates: 0,
            last: Kind::Invoke,
        }
    }
}

/// Proposal id -> what happened to it.
pub type Submissions = BTreeMap<String, Submitted>;

/// What every proposer shares.
struct Shared {
    options: ProposalOptions,
    recorder: Arc<Recorder>,
    stop: Arc<AtomicBool>,
    next_id: AtomicU64,
    next_process: AtomicU64,
    submitted: Arc<Mutex<Submissions>>,
}

impl Shared {
    fn update(&self, id: &str, f: impl FnOnce(&mut Submitted)) {
        if let Ok(mut all) = self.submitted.lock() {
            if let Some(s) = all.get_mut(id) {
                f(s);
            }
        }
    }
}

/// The running proposal workload.
pub struct ProposalWorkload {
    tasks: Vec<tokio::task::JoinHandle<anyhow::Result<()>>>,
    stop: Arc<AtomicBool>,
    submitted: Arc<Mutex<Submissions>>,
}

impl ProposalWorkload {
    /// Starts `options.proposers` tasks, each with its own client.
    pub fn start(
        options: ProposalOptions,
        (access, user): (&crate::cluster::Access, &str),
        recorder: Arc<Recorder>,
        rng: &mut Rng,
    ) -> anyhow::Result<ProposalWorkload> {
        let stop = Arc::new(AtomicBool::new(false));
        let submitted = Arc::new(Mutex::new(Submissions::new()));
        let shared = Arc::new(Shared {
            next_process: AtomicU64::new(FIRST_PROCESS),
            options: options.clone(),
            recorder,
            stop: stop.clone(),
            next_id: AtomicU64::new(1),
            submitted: submitted.clone(),
        });
        let mut tasks = Vec::new();
        for _ in 0..options.proposers {
            let client =
                crate::tasks::client(access, user, options.request_timeout, options.retry_budget)?;
            let (shared, rng) = (shared.clone(), rng.fork());
            tasks.push(tokio::spawn(proposer(shared, client, rng)));
        }
        Ok(ProposalWorkload {
            tasks,
            stop,
            submitted,
        })
    }

    /// Stops making new proposals and waits up to `bound` for the ones
    /// being sent or re-sent; then what was submitted, and how many tasks
    /// had to be abandoned.
    pub async fn stop(self, bound: Duration) -> anyhow::Result<(Submissions, usize)> {
        self.stop.store(true, Ordering::SeqCst);
        let abandoned = crate::tasks::join_within(self.tasks, bound, "proposer").await?;
        let submitted = self
            .submitted
            .lock()
            .map_err(|_| anyhow::anyhow!("the proposal table lock is poisoned"))?
            .clone();
        Ok((submitted, abandoned))
    }
}

async fn proposer(shared: Arc<Shared>, client: Client, mut rng: Rng) -> anyhow::Result<()> {
    let mut process = shared.next_process.fetch_add(1, Ordering::Relaxed);
    let mut pace = crate::tasks::pace(shared.options.proposers, shared.options.rate);
    while crate::tasks::next_tick(&mut pace, &shared.stop).await {
        let id = format!("p-{}", shared.next_id.fetch_add(1, Ordering::Relaxed));
        let (changes, expected) = plan_changes(&mut rng);
        let proposal = Proposal {
            proposal_id: id.clone(),
            source: "arqonbus-chaos".into(),
            target_system: shared.options.target.clone(),
            timestamp: UnixMillis::now(),
            changes,
            expected_impact: BTreeMap::from([("latency_p99".to_string(), -1.0)]),
            confidence: 0.8,
            duration_seconds: 60,
        };
        if let Ok(mut all) = shared.submitted.lock() {
            all.insert(id.clone(), Submitted::new(expected));
        }
        let kind = submit(&shared, &client, &mut process, &proposal).await?;
        if kind == Kind::Ok && rng.below(100) < shared.options.duplicate_percent {
            shared.update(&id, |s| s.duplicates += 1);
            send(&shared, &client, &mut process, &proposal, Send::Duplicate).await?;
        }
    }
    Ok(())
}

/// Sends `proposal` until it is decided or refused, re-sending it with the
/// same id after each unknown outcome for at most `resend_bound`.
async fn submit(
    shared: &Shared,
    client: &Client,
    process: &mut u64,
    proposal: &Proposal,
) -> anyhow::Result<Kind> {
    let mut unknown_since: Option<Instant> = None;
    let mut why = Send::First;
    loop {
        let kind = send(shared, client, process, proposal, why).await?;
        if kind != Kind::Info {
            return Ok(kind);
        }
        let since = *unknown_since.get_or_insert_with(Instant::now);
        if since.elapsed() >= shared.options.resend_bound {
            return Ok(Kind::Info);
        }
        tokio::time::sleep(RESEND_PAUSE).await;
        why = Send::Resend;
        shared.update(&proposal.proposal_id, |s| s.resends += 1);
    }
}

/// One send: `invoke`, the call, the completion. A process whose send
/// ended `info` is retired and `process` becomes a fresh one.
async fn send(
    shared: &Shared,
    client: &Client,
    process: &mut u64,
    proposal: &Proposal,
    why: Send,
) -> anyhow::Result<Kind> {
    let id = &proposal.proposal_id;
    let expected = shared
        .submitted
        .lock()
        .ok()
        .and_then(|all| all.get(id).map(|s| s.expected))
        .unwrap_or(Decision::PendingApproval);
    let invoked = event_value(proposal, expected, why, None);
    let record = |kind, value, error| {
        shared.recorder.record(Event {
            process: *process,
            kind,
            f: "propose",
            key: id,
            value,
            error,
        })
    };
    record(Kind::Invoke, invoked.clone(), None)?;
    let reply = client.propose(proposal.clone()).await;
    let (kind, error) = classify_propose(&reply);
    let value = match &reply {
        Ok(a) => event_value(proposal, expected, why, Some(a)),
        Err(_) => invoked,
    };
    record(kind, value, error)?;
    shared.update(id, |s| {
        s.last = kind;
        match &reply {
            Ok(a) => s.answers.push(a.clone()),
            Err(e @ ClientError::Server { error, .. })
                if matches!(error.code, ErrorCode::Conflict { .. }) =>
            {
                s.conflicts.push(e.to_string())
            }
            Err(_) => {}
        }
    });
    if kind == Kind::Info {
        *process = shared.next_process.fetch_add(1, Ordering::Relaxed);
    }
    Ok(kind)
}
