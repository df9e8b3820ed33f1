//! `arqonbus rollout pause|resume|promote --target T [--reason TEXT]`:
//! steer a target's rollout (`promote --full` goes to the last phase).
//! Prints the status the change left (as `arqonbus status` does). A target
//! with no rollout in progress (`no_rollout`) is refused: a message and
//! exit code 3, nothing changed.

use super::connect::GlobalArgs;
use super::{output, status};
use arqonbus_client::ClientError;
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::rollout::RolloutRequest;
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum Rollout {
    /// Hold the rollout in its current phase (a breach still rolls it back).
    Pause(SteerArgs),
    /// Let a paused rollout advance again.
    Resume(SteerArgs),
    /// Advance to the next phase now (`--full`: to the last phase).
    Promote(PromoteArgs),
}

#[derive(Debug, Args)]
pub struct SteerArgs {
    #[arg(long)]
    pub target: String,
    /// Why (recorded in the audit log).
    #[arg(long, default_value = "")]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct PromoteArgs {
    #[command(flatten)]
    pub steer: SteerArgs,
    /// Go to the last phase (100%) at once.
    #[arg(long)]
    pub full: bool,
}

pub async fn run(g: &GlobalArgs, r: Rollout) -> anyhow::Result<i32> {
    let (action, request) = match r {
        Rollout::Pause(a) => (
            "pause",
            RolloutRequest::Pause {
                target_system: a.target,
                reason: a.reason,
            },
        ),
        Rollout::Resume(a) => (
            "resume",
            RolloutRequest::Resume {
                target_system: a.target,
                reason: a.reason,
            },
        ),
        Rollout::Promote(a) => (
            "promote",
            RolloutRequest::Promote {
                target_system: a.steer.target,
                full: a.full,
                reason: a.steer.reason,
            },
        ),
    };
    match g.client()?.rollout(request).await {
        Ok(s) => {
            status::print(g.json(), &s)?;
            Ok(super::exit::OK)
        }
        Err(ClientError::Server { error, .. }) => match &error.code {
            ErrorCode::NoRollout { target_system } => {
                let message =
                    format!("{target_system} has no rollout in progress: nothing to {action}");
                if g.json() {
                    output::json(&serde_json::json!({
                        "error": error.code.name(), "code": error.code, "message": message
                    }))?;
                } else {
                    eprintln!("refused (no_rollout): {message}");
                }
                Ok(super::exit::REFUSED)
            }
            _ => anyhow::bail!("refused ({}): {}", error.code.name(), error.message),
        },
        Err(e) => Err(e.into()),
    }
}
