//! `arqonbus watch`: print a target system's events as JSON lines. When a
//! node goes away it resubscribes on another from the last event printed
//! plus one, so nothing is printed twice and nothing is skipped.

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
    #[arg(long)]
    pub from: Option<u64>,
}

/// Attempts to resubscribe before giving up.
const ATTEMPTS: u32 = 50;

pub async fn run(g: &GlobalArgs, a: WatchArgs) -> anyhow::Result<i32> {
    let client = g.client()?;
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
