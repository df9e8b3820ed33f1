//! Helpers of the sessions test: proposals, telemetry samples, event
//! streams forwarded to channels, and raw frames that bypass the encoder.

use super::{within, Cluster};
use arqonbus_client::{Client, ClientError, Subscription};
use arqonbus_core::constraint_file;
use arqonbus_core::ParamValue;
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::message::{
    Cohort, Proposal, ProposedChange, SubscribeTarget, TelemetryContext, TelemetrySample,
};
use arqonbus_proto::operator::{OperatorReply, OperatorRequest};
use arqonbus_proto::reply::{Approval, Event, EventBody};
use arqonbus_proto::{Envelope, Reply, UnixMillis};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::mpsc;

pub const SVC: &str = "ml-inference-service";
pub const WAIT: Duration = Duration::from_secs(30);

/// When this test process makes its proposals: one time for all, so a
/// proposal built again for a retry repeats its timestamp, as a retry must.
fn made_at() -> UnixMillis {
    static AT: std::sync::OnceLock<UnixMillis> = std::sync::OnceLock::new();
    *AT.get_or_init(UnixMillis::now)
}

pub fn proposal(id: &str, changes: &[(&str, ParamValue)]) -> Proposal {
    Proposal {
        proposal_id: id.into(),
        source: "test-hpo".into(),
        target_system: SVC.into(),
        timestamp: made_at(),
        changes: changes
            .iter()
            .map(|(p, v)| ProposedChange {
                parameter: p.to_string(),
                current_value: v.clone(),
                proposed_value: v.clone(),
                reason: "test".into(),
            })
            .collect(),
        expected_impact: BTreeMap::new(),
        confidence: 0.5,
        duration_seconds: 60,
    }
}

/// Proposal `n`: approved, partially approved or rejected by turns.
pub fn nth(prefix: &str, n: i64) -> Proposal {
    let id = format!("{prefix}-{n}");
    match n % 3 {
        0 => proposal(&id, &[("batch_size", ParamValue::Int(1 + n))]),
        1 => proposal(
            &id,
            &[
                ("batch_size", ParamValue::Int(2 + n)),
                ("temperature", ParamValue::Float(-1.0)),
            ],
        ),
        _ => proposal(&id, &[("max_tokens", ParamValue::Int(1_000_000))]),
    }
}

pub async fn set_constraints(cluster: &Cluster) {
    let constraints = constraint_file::parse(
        "examples/constraints.toml",
        include_str!("../../examples/constraints.toml"),
    )
    .expect("example parses");
    let reply = within(
        "set constraints",
        WAIT,
        cluster
            .client("operator")
            .operate(OperatorRequest::SetConstraints {
                target_system: SVC.into(),
                constraints,
            }),
    )
    .await;
    assert!(
        matches!(reply, Ok(OperatorReply::ConstraintsSet { .. })),
        "{reply:?}"
    );
}

/// Forwards a subscription's events to a channel until it ends.
pub fn forward(mut sub: Subscription, tx: mpsc::UnboundedSender<Event>) {
    tokio::spawn(async move {
        while let Ok(Some(e)) = sub.next().await {
            if tx.send(e).is_err() {
                return;
            }
        }
    });
}

pub async fn watch(client: &Client, endpoint: &str, from: u64) -> mpsc::UnboundedReceiver<Event> {
    let target = SubscribeTarget {
        target_system: SVC.into(),
        from_seq: Some(from),
    };
    let sub = within(
        "subscribe",
        WAIT,
        client.subscribe_at(endpoint, vec![target]),
    )
    .await
    .expect("subscribed");
    assert_eq!(sub.streams()[0].next_seq, from);
    let (tx, rx) = mpsc::unbounded_channel();
    forward(sub, tx);
    rx
}

pub async fn receive(rx: &mut mpsc::UnboundedReceiver<Event>, n: usize) -> Vec<Event> {
    let mut got = Vec::new();
    while got.len() < n {
        let what = format!("event {} of {n}", got.len() + 1);
        match within(&what, WAIT, rx.recv()).await {
            Some(e) => got.push(e),
            None => panic!("the stream ended after {} of {n} events", got.len()),
        }
    }
    got
}

pub fn approval_of(e: &Event) -> &Approval {
    match &e.body {
        EventBody::Approval(a) => a,
        other => panic!("expected an approval event, got {other:?}"),
    }
}

pub async fn propose_all(
    client: &Client,
    proposals: Vec<Proposal>,
) -> Vec<Result<Approval, ClientError>> {
    let tasks: Vec<_> = proposals
        .into_iter()
        .map(|p| {
            let client = client.clone();
            tokio::spawn(async move { client.propose(p).await })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(within("a proposal", WAIT * 2, t).await.expect("task"));
    }
    out
}

pub trait CloneWith {
    fn clone_with(&self, batch_size: i64) -> Proposal;
}

impl CloneWith for Proposal {
    /// The same id with different content.
    fn clone_with(&self, batch_size: i64) -> Proposal {
        let mut p = self.clone();
        p.changes = vec![ProposedChange {
            parameter: "batch_size".into(),
            current_value: ParamValue::Int(batch_size),
            proposed_value: ParamValue::Int(batch_size),
            reason: "different".into(),
        }];
        p
    }
}

pub fn sample(target: &str, latency: f64) -> TelemetrySample {
    TelemetrySample {
        timestamp: UnixMillis::now(),
        source: "agent-1".into(),
        target_system: target.into(),
        metrics: BTreeMap::from([("latency_p99".to_string(), latency)]),
        parameters: BTreeMap::new(),
        context: TelemetryContext {
            request_class: None,
            hardware: None,
            load_factor: None,
        },
        cohort: Cohort::Candidate,
    }
}

pub fn envelope() -> Envelope {
    Envelope {
        session: Envelope::random_session(),
        seq: 1,
        sent_at: UnixMillis::now(),
        signature: None,
    }
}

/// A frame around a body, bypassing the encoder's validation.
pub fn raw_frame(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut f = ((body.len() + 3) as u32).to_le_bytes().to_vec();
    f.extend([arqonbus_proto::FRAME_VERSION, 0, msg_type]);
    f.extend(body);
    f
}

pub fn invalid_field(r: &Reply) -> String {
    match r {
        Reply::Error(e) => match &e.code {
            ErrorCode::InvalidMessage { field, .. } => field.clone(),
            other => format!("{other:?}"),
        },
        other => panic!("expected an error frame, got {other:?}"),
    }
}
