//! `arqonbus audit tail|verify`. `verify` fetches every entry and
//! recomputes every hash and re-verifies every signature a signed entry
//! keeps, itself: it does not take the server's word. It
//! starts at genesis, or at a checkpoint given as `INDEX:HASH` (the head
//! an earlier run printed); entries it cannot get from there on are a
//! `gap FROM..TO`, and a failure.

use super::connect::GlobalArgs;
use super::output;
use arqonbus::audit::store::{AuditStore, Retention};
use arqonbus::raft::storage;
use arqonbus_client::Client;
use arqonbus_core::audit::verify::{parse_checkpoint, Verifier, VerifyError, VerifyReport};
use arqonbus_core::audit::{AuditEntry, AuditHead};
use arqonbus_proto::limits::MAX_AUDIT_ENTRIES;
use arqonbus_proto::operator::{OperatorReply, OperatorRequest};
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum Audit {
    /// Print the newest entries.
    Tail(Tail),
    /// Fetch the whole chain and check every hash, link and signature.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Check the replica of the node answering (the first endpoint that
    /// does) instead of the leader's linearizable copy.
    #[arg(long)]
    pub stale: bool,
    /// Check a stopped node's data directory on this machine instead
    /// (its archive file and database), without the network.
    #[arg(long, conflicts_with = "stale")]
    pub data: Option<std::path::PathBuf>,
    /// Start after this entry, known good from an earlier run, instead of
    /// at genesis: `INDEX:HASH` (the head that run printed).
    #[arg(long, value_name = "INDEX:HASH", value_parser = parse_checkpoint)]
    pub from_checkpoint: Option<AuditHead>,
}

#[derive(Debug, Args)]
pub struct Tail {
    /// How many entries.
    #[arg(short = 'n', default_value_t = 20)]
    pub n: u64,
}

/// Entries from `from` on (one page) and the newest index there is.
async fn page(
    client: &Client,
    from: u64,
    limit: usize,
    stale: bool,
) -> anyhow::Result<(Vec<AuditEntry>, u64)> {
    let reply = client
        .operate(OperatorRequest::AuditRange {
            from_index: from,
            limit: limit as u32,
            stale,
        })
        .await?;
    match reply {
        OperatorReply::AuditEntries {
            entries,
            head_index,
        } => Ok((entries, head_index)),
        other => anyhow::bail!("unexpected answer: {other:?}"),
    }
}

/// Verifies a stopped node's chain from its files.
fn verify_offline(
    g: &GlobalArgs,
    dir: &std::path::Path,
    checkpoint: Option<AuditHead>,
) -> anyhow::Result<i32> {
    let path = storage::audit_db_path(dir);
    anyhow::ensure!(
        path.is_dir(),
        "{} holds no audit database ({} is missing): is it a node's data directory?",
        dir.display(),
        path.display()
    );
    let db = storage::open_audit_db(&path).map_err(|e| {
        anyhow::anyhow!(
            "opening {} (is the node still running?): {e}",
            dir.display()
        )
    })?;
    let store = AuditStore::open(&db, dir, Retention::default())?;
    report(g, store.verify(checkpoint)?)
}

fn report(g: &GlobalArgs, result: Result<VerifyReport, VerifyError>) -> anyhow::Result<i32> {
    match result {
        Err(VerifyError::Missing { from, to }) => {
            eprintln!(
                "gap {from}..{to}: these entries are not available to check (deleted, archived \
                 away, or never held by a node that caught up by snapshot); verify against a \
                 node that holds them, or from a checkpoint with --from-checkpoint INDEX:HASH"
            );
            if g.json() {
                output::json(&serde_json::json!({
                    "ok": false, "bad_index": from, "gap": { "from": from, "to": to },
                    "error": format!("gap {from}..{to}")
                }))?;
            }
            Ok(super::exit::FAILED)
        }
        Err(err) => {
            eprintln!("audit chain broken: {err}");
            if g.json() {
                output::json(
                    &serde_json::json!({ "ok": false, "bad_index": err.index(), "error": err.to_string() }),
                )?;
            }
            Ok(super::exit::FAILED)
        }
        Ok(report) => {
            let hash = hex::encode(report.head.hash);
            if g.json() {
                output::json(&serde_json::json!({
                    "ok": true, "count": report.count, "first_index": report.first_index,
                    "head_index": report.head.index, "head_hash": hash
                }))?;
            } else {
                println!(
                    "verified {} entries (from index {}), head {} {hash}",
                    report.count, report.first_index, report.head.index
                );
            }
            Ok(super::exit::OK)
        }
    }
}

/// Fetches the chain page by page from the cluster and checks it.
async fn verify_online(g: &GlobalArgs, v: &VerifyArgs) -> anyhow::Result<i32> {
    let client = g.client()?;
    let mut verifier = v
        .from_checkpoint
        .map_or_else(Verifier::new, Verifier::from_checkpoint);
    // From the checkpoint's own entry, so its hash is checked too.
    let mut from = v.from_checkpoint.map_or(1, |c| c.index.max(1));
    let head = loop {
        let (entries, head) = page(&client, from, MAX_AUDIT_ENTRIES, v.stale).await?;
        for e in &entries {
            if let Err(err) = verifier.push(e) {
                return report(g, Err(err));
            }
        }
        match entries.last() {
            Some(last) if last.index < head => from = last.index + 1,
            _ => break head,
        }
    };
    let done = verifier.finish();
    if done.head.index < head {
        return report(
            g,
            Err(VerifyError::Missing {
                from: done.head.index + 1,
                to: head,
            }),
        );
    }
    if done.head.index != head {
        eprintln!(
            "audit chain ends at {} but the server's head is {head}",
            done.head.index
        );
        return Ok(super::exit::FAILED);
    }
    report(g, Ok(done))
}

pub async fn run(g: &GlobalArgs, a: Audit) -> anyhow::Result<i32> {
    if let Audit::Verify(VerifyArgs {
        data: Some(dir),
        from_checkpoint,
        ..
    }) = &a
    {
        return verify_offline(g, dir, *from_checkpoint);
    }
    let client = g.client()?;
    match a {
        Audit::Tail(t) => {
            let (_, head) = page(&client, u64::MAX, 1, false).await?;
            let from = head.saturating_sub(t.n.saturating_sub(1)).max(1);
            let (entries, _) = page(&client, from, t.n as usize, false).await?;
            for e in &entries {
                if g.json() {
                    println!("{}", serde_json::to_string(e)?);
                } else {
                    println!(
                        "{:>6} {} {:<10} {:<16} {} {}",
                        e.index, e.at_ms, e.actor, e.action, e.target, e.details
                    );
                }
            }
            Ok(super::exit::OK)
        }
        Audit::Verify(v) => verify_online(g, &v).await,
    }
}
