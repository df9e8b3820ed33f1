//! `arqonbus rollback --target T --reason TEXT`: roll the target's
//! rollout back now (`workflow` `Rollback`): agents return to the
//! last-known-good values, the candidate's values are quarantined. Exit
//! code 3 when there is nothing to roll back.

use super::approval;
use super::connect::GlobalArgs;
use arqonbus_proto::workflow::WorkflowRequest;
use clap::Args;

#[derive(Debug, Args)]
pub struct RollbackArgs {
    #[arg(long)]
    pub target: String,
    /// Why (required; recorded in the audit log and the rollback).
    #[arg(long)]
    pub reason: String,
}

pub async fn run(g: &GlobalArgs, a: RollbackArgs) -> anyhow::Result<i32> {
    approval::send(
        g,
        WorkflowRequest::Rollback {
            target_system: a.target,
            reason: a.reason,
        },
    )
    .await
}
