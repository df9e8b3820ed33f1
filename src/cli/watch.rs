//! `arqonbus watch`: print a target system's events as JSON lines. When a
//! node goes away it resubscribes on another from the last event printed
//! plus one, so nothing is printed twice and nothing is skipped.
//!
//! `arqonbus watch --target T --assignments` prints the target's traffic
//! assignment instead, one JSON line per change: `{"target_system",
//! "epoch", "proposal_id", "phase", "share", "baseline": {…}, "candidate":
//! {…} | null}` (parameter values plain JSON), and before an assignment a
//! rollback produced, the rollback's line (`{"type": "rollback", …}`, the
//! JSON view of §6.9). It follows the stream from node to node
//! (`AssignmentWatch`), printing an epoch only once and never an older one.

use super::connect::GlobalArgs;
use anyhow::bail;
use arqonbus_client::ClientError;
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::message::SubscribeTarget;
use arqonbus_proto::Reply;
use clap::Args;
use std::io::Write;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[arg(long)]
    pub target: String,
    /// First event number to print (default: only new events).
    #[arg(long, conflicts_with = "assignments")]
    pub from: Option<u64>,
    /// Print the target's assignment (which traffic runs which
    /// parameters) on every change, instead of its events.
    #[arg(long)]
    pub assignments: bool,
}

/// Attempts to resubscribe before giving up.
const ATTEMPTS: u32 = 50;

pub async fn run(g: &GlobalArgs, a: WatchArgs) -> anyhow::Result<i32> {
    let client = g.client()?;
    if a.assignments {
        return assignments(client, &a.target).await;
    }
    let mut next = a.from;
    let mut failures = 0;
    loop {
        let target = SubscribeTarget {
            target_system: a.target.clone(),
            from_seq: next,
        };
        let outcome = match client.subscribe(vec![target]).await {
            Ok(mut sub) => {
                failures = 0;
                loop {
                    match sub.next().await {
                        Ok(Some(event)) => {
                            next = Some(event.seq + 1);
                            let line = serde_json::to_string(&arqonbus_proto::json::reply_json(
                                &Reply::Event(event),
                            )?)?;
                            let mut out = std::io::stdout().lock();
                            writeln!(out, "{line}")?;
                            out.flush()?;
                        }
                        Ok(None) => break Ok(()),
                        Err(e) => break Err(e),
                    }
                }
            }
            Err(e) => Err(e),
        };
        if let Err(ClientError::Server { error, .. }) = &outcome {
            if let ErrorCode::ResyncRequired { oldest_seq, .. } = error.code {
                bail!(
                    "events before {oldest_seq} are gone: query the proposals' status, then watch --from {oldest_seq}"
                );
            }
        }
        failures += 1;
        if failures > ATTEMPTS {
            bail!("the stream failed {ATTEMPTS} times in a row: {outcome:?}");
        }
        tracing::info!(target: "arqonbus::cli", ?outcome, "stream ended, resubscribing");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Prints every assignment change (and rollback) of `target`, forever.
async fn assignments(client: arqonbus_client::Client, target: &str) -> anyhow::Result<i32> {
    use arqonbus_client::{AssignmentUpdate, AssignmentWatch, WatchOptions};
    use arqonbus_proto::json_rollout::JsonAssignment;
    // One plain attempt first, so an unknown target or a refusal is an
    // error now rather than a watch that retries forever.
    drop(client.watch_assignment(target).await?);
    let watch = AssignmentWatch::start(client, WatchOptions::new(target))?;
    while let Some(update) = watch.next_update().await {
        let line = match &update {
            AssignmentUpdate::Assignment(a) => {
                serde_json::to_string(&JsonAssignment::from_wire(a))?
            }
            AssignmentUpdate::Rollback(r) => serde_json::to_string(
                &arqonbus_proto::json::reply_json(&Reply::Rollback(r.clone()))?,
            )?,
        };
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    bail!("the assignment watch ended")
}
