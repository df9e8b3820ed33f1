//! A minimal proposer on `ProposerSession`: connect, read parameters, send
//! telemetry, propose, react to the decision and to degraded mode.
//!
//! Start a cluster first (`arqonbus dev`, and load the example constraints
//! as the README's walk-through does), then:
//! `cargo run --example proposer -- arqonbus-dev/certs 127.0.0.1:7101 127.0.0.1:7102 127.0.0.1:7103`

use arqonbus_client::{Mode, ProposerSession, SessionError, SessionOptions};
use arqonbus_core::ParamValue;
use arqonbus_proto::message::{
    Cohort, Proposal, ProposedChange, TelemetryContext, TelemetrySample,
};
use arqonbus_proto::reply::{Decision, EventBody};
use arqonbus_proto::UnixMillis;
use arqonbus_transport::TlsCredentials;
use std::collections::BTreeMap;
use std::time::Duration;

const TARGET: &str = "ml-inference-service";

fn sample(latency_ms: f64, parameters: BTreeMap<String, ParamValue>) -> TelemetrySample {
    TelemetrySample {
        timestamp: UnixMillis::now(),
        source: "example-proposer".into(),
        target_system: TARGET.into(),
        metrics: BTreeMap::from([("latency_p99".to_string(), latency_ms)]),
        parameters,
        context: TelemetryContext {
            request_class: None,
            hardware: None,
            load_factor: None,
        },
        cohort: Cohort::Baseline,
    }
}

fn proposal(round: u64, batch_size: i64) -> Proposal {
    Proposal {
        // A stable id per idea: re-sending it returns the same decision.
        proposal_id: format!("example-{}-{round}", std::process::id()),
        source: "example-proposer".into(),
        target_system: TARGET.into(),
        timestamp: UnixMillis::now(),
        changes: vec![ProposedChange {
            parameter: "batch_size".into(),
            current_value: ParamValue::Int(batch_size - 1),
            proposed_value: ParamValue::Int(batch_size),
            reason: "throughput looks better".into(),
        }],
        expected_impact: BTreeMap::new(),
        confidence: 0.6,
        duration_seconds: 60,
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let certs = args.next().unwrap_or_else(|| "arqonbus-dev/certs".into());
    let mut endpoints: Vec<String> = args.collect();
    if endpoints.is_empty() {
        endpoints = (7101..=7103).map(|p| format!("127.0.0.1:{p}")).collect();
    }

    // 1. Connect: endpoints, identity, the local last-known-good file.
    let credentials = TlsCredentials::from_dir(certs.as_ref(), "proposer")?;
    let options = SessionOptions::new(endpoints, credentials, TARGET, "proposer-lkg.json".into());
    let session = ProposerSession::connect(options)?;

    // Mode changes arrive as events (and as `arqonbus_client` log lines).
    let mut changes = session.mode_changes();
    tokio::spawn(async move {
        while let Ok(c) = changes.recv().await {
            println!("mode: {} -> {} ({})", c.from, c.to, c.reason);
        }
    });

    for round in 0..20u64 {
        // 2. Parameters: live from the leader, or last-known-good when cut off.
        let params = session.parameters().await?;
        println!(
            "round {round}: running with {:?} ({:?})",
            params.values, params.source
        );

        // 3. Telemetry: sent, or buffered while degraded (flushed on recovery).
        let outcome = session
            .send_telemetry(vec![sample(40.0 + round as f64, params.values)])
            .await?;
        println!("telemetry: {outcome:?}");

        // 4. Propose; the decision is the answer (and an event on the stream).
        match session.propose(proposal(round, 16 + round as i64)).await {
            Ok(a) if a.decision == Decision::Rejected => {
                println!("rejected: {:?}", a.rejected_changes)
            }
            Ok(a) => println!("{:?}: {:?}", a.decision, a.approved_changes),
            Err(SessionError::Degraded(mode)) => {
                // Nothing was sent. Keep running on last-known-good and wait.
                println!("not proposing: {mode}");
                let mut watch = session.watch_mode();
                let _ = tokio::time::timeout(
                    Duration::from_secs(10),
                    watch.wait_for(|m| *m == Mode::Connected),
                )
                .await;
            }
            // Unknown outcome: re-sending the same proposal is safe.
            Err(e) => println!("proposal failed: {e}"),
        }

        // 5. Rollouts and rollbacks come on the event stream.
        while let Ok(Some(event)) =
            tokio::time::timeout(Duration::from_millis(200), session.next_event()).await
        {
            match event.body {
                EventBody::Rollback(r) => println!("rolled back: {r:?}"),
                other => println!("event {}: {other:?}", event.seq),
            }
        }
    }
    println!("stats: {:?}", session.stats());
    Ok(())
}
