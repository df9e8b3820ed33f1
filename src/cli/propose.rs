//! `arqonbus propose`: submit a proposal and print the decision.
//! Exit code 3 ("refused") when every change was rejected, or when the id
//! was already used for a different proposal.

use super::connect::GlobalArgs;
use super::output;
use super::target::parse_assignment;
use arqonbus_client::ClientError;
use arqonbus_core::value::ParamValue;
use arqonbus_proto::error::ErrorCode;
use arqonbus_proto::json_reply::JsonApproval;
use arqonbus_proto::message::{Proposal, ProposedChange};
use arqonbus_proto::operator::{OperatorReply, OperatorRequest};
use arqonbus_proto::reply::{Approval, Decision};
use arqonbus_proto::UnixMillis;
use clap::Args;
use std::collections::BTreeMap;

#[derive(Debug, Args)]
pub struct ProposeArgs {
    /// The target system.
    #[arg(long)]
    pub target: String,
    /// `name=value` (repeatable): an integer, a float, true/false, or an enum member.
    #[arg(long = "set", required = true, value_parser = parse_assignment)]
    pub set: Vec<(String, ParamValue)>,
    /// The proposal id (default: `cli-<unix ms>-<pid>`). Re-sending the same
    /// proposal with the same id returns the recorded decision.
    #[arg(long)]
    pub id: Option<String>,
    /// Why (recorded with each change).
    #[arg(long, default_value = "proposed from the command line")]
    pub reason: String,
    /// How long the change should be observed, in seconds.
    #[arg(long, default_value_t = 300)]
    pub duration: u64,
}

/// The live values, to fill in each change's `current_value`.
async fn live_values(g: &GlobalArgs, target: &str) -> BTreeMap<String, ParamValue> {
    let request = OperatorRequest::GetParameters {
        target_system: target.to_string(),
        stale: true,
    };
    let client = match g.client() {
        Ok(c) => c,
        Err(_) => return BTreeMap::new(),
    };
    match client.operate(request).await {
        Ok(OperatorReply::Parameters { live, .. }) => live,
        _ => BTreeMap::new(),
    }
}

pub async fn run(g: &GlobalArgs, a: ProposeArgs) -> anyhow::Result<i32> {
    let client = g.client()?;
    let live = live_values(g, &a.target).await;
    let now = UnixMillis::now();
    let id =
        a.id.unwrap_or_else(|| format!("cli-{}-{}", now.0, std::process::id()));
    let proposal = Proposal {
        proposal_id: id,
        source: "arqonbus-cli".into(),
        target_system: a.target,
        timestamp: now,
        changes: a
            .set
            .into_iter()
            .map(|(parameter, proposed_value)| ProposedChange {
                current_value: live
                    .get(&parameter)
                    .cloned()
                    .unwrap_or_else(|| proposed_value.clone()),
                parameter,
                proposed_value,
                reason: a.reason.clone(),
            })
            .collect(),
        expected_impact: BTreeMap::new(),
        confidence: 0.5,
        duration_seconds: a.duration.max(1),
    };
    match client.propose(proposal).await {
        Ok(approval) => print_approval(g.json(), &approval),
        Err(ClientError::Server { error, .. })
            if matches!(error.code, ErrorCode::Conflict { .. }) =>
        {
            eprintln!("refused: {}", error.message);
            Ok(super::exit::REFUSED)
        }
        Err(e) => Err(e.into()),
    }
}

/// Prints an approval; the exit code says whether anything was approved.
pub fn print_approval(as_json: bool, a: &Approval) -> anyhow::Result<i32> {
    if as_json {
        output::json(&JsonApproval::from_wire(a)?)?;
    } else {
        let decision = serde_json::to_value(a.decision)?;
        println!(
            "{} ({}): {}",
            a.proposal_id,
            a.target_system,
            decision.as_str().unwrap_or("?")
        );
        for c in &a.approved_changes {
            println!("  approved {} = {}", c.parameter, c.approved_value);
        }
        for c in &a.rejected_changes {
            let constraint = c.constraint_violated.as_deref().unwrap_or("-");
            println!("  rejected {}: {} ({constraint})", c.parameter, c.reason);
        }
    }
    Ok(if a.decision == Decision::Rejected {
        super::exit::REFUSED
    } else {
        super::exit::OK
    })
}
