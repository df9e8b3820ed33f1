//! `arqonbus constraints set|get` and `arqonbus params set|get`.

use super::connect::GlobalArgs;
use super::output;
use anyhow::Context;
use arqonbus_core::constraint_file;
use arqonbus_core::value::ParamValue;
use arqonbus_proto::operator::{OperatorReply, OperatorRequest};
use arqonbus_proto::workflow::WorkflowRequest;
use clap::{Args, Subcommand};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum Constraints {
    /// Replace a target system's constraints with a TOML or JSON file.
    Set(SetConstraints),
    /// Print a target system's constraints (an old version with `--version`).
    Get(GetConstraints),
}

#[derive(Debug, Args)]
pub struct GetConstraints {
    #[arg(long)]
    pub target: String,
    /// An older constraint version (the newest 32 are kept).
    #[arg(long)]
    pub version: Option<u64>,
    /// Read this node's replica instead of a linearizable read.
    #[arg(long)]
    pub stale: bool,
}

#[derive(Debug, Subcommand)]
pub enum Params {
    /// Override parameters (sets live and last-known-good).
    Set(SetParams),
    /// Print live and last-known-good parameters.
    Get(Get),
}

#[derive(Debug, Args)]
pub struct SetConstraints {
    #[arg(long)]
    pub target: String,
    #[arg(long)]
    pub file: PathBuf,
    /// Accept constraints that make live values illegal, or that land while
    /// a proposal is pending (which aborts it); audited `constraints_forced`.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct Get {
    #[arg(long)]
    pub target: String,
    /// Read this node's replica instead of a linearizable read.
    #[arg(long)]
    pub stale: bool,
}

#[derive(Debug, Args)]
pub struct SetParams {
    #[arg(long)]
    pub target: String,
    /// `name=value` (repeatable): an integer, a float, true/false, or an enum member.
    #[arg(long = "set", required = true, value_parser = parse_assignment)]
    pub set: Vec<(String, ParamValue)>,
    /// Override while a proposal is pending (aborting it); audited
    /// `params_forced`.
    #[arg(long)]
    pub force: bool,
}

pub(super) fn parse_assignment(text: &str) -> Result<(String, ParamValue), String> {
    let (k, v) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not name=value"))?;
    let value = ParamValue::parse_text(v).map_err(|e| format!("`{text}`: {e}"))?;
    Ok((k.to_string(), value))
}

fn params_json(values: &BTreeMap<String, ParamValue>) -> serde_json::Value {
    serde_json::Value::Object(
        values
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect(),
    )
}

pub async fn constraints(g: &GlobalArgs, c: Constraints) -> anyhow::Result<i32> {
    let request = match c {
        Constraints::Set(a) => {
            let path = a.file.display().to_string();
            let text =
                std::fs::read_to_string(&a.file).with_context(|| format!("reading {path}"))?;
            // Checked here first, so problems are reported by line or
            // pointer before anything is sent; the server parses it again.
            constraint_file::parse_file(&path, &text)?;
            let request = WorkflowRequest::SetConstraints {
                target_system: a.target,
                text,
                force: a.force,
            };
            return super::approval::send(g, request).await;
        }
        Constraints::Get(a) if a.version.is_some() => {
            let request = WorkflowRequest::GetConstraints {
                target_system: a.target,
                version: a.version,
                stale: a.stale,
            };
            return super::approval::send(g, request).await;
        }
        Constraints::Get(a) => OperatorRequest::GetConstraints {
            target_system: a.target,
            stale: a.stale,
        },
    };
    match g.client()?.operate(request).await? {
        OperatorReply::ConstraintsSet {
            target_system,
            version,
            out_of_bounds,
        } => {
            if g.json() {
                output::json(&serde_json::json!({
                    "target_system": target_system, "version": version, "out_of_bounds": out_of_bounds
                }))?;
            } else {
                println!("{target_system}: constraints version {version}");
                if !out_of_bounds.is_empty() {
                    println!(
                        "live values outside the new constraints: {}",
                        out_of_bounds.join(", ")
                    );
                }
            }
            Ok(super::exit::OK)
        }
        OperatorReply::Constraints {
            target_system,
            version,
            constraints,
        } => {
            if g.json() {
                output::json(&serde_json::json!({
                    "target_system": target_system, "version": version, "constraints": constraints
                }))?;
            } else {
                println!("{target_system}: constraints version {version}");
                for (name, c) in &constraints.parameters {
                    println!("  {name}: {c:?}");
                }
            }
            Ok(super::exit::OK)
        }
        other => output::refused(g.json(), &other),
    }
}

pub async fn params(g: &GlobalArgs, p: Params) -> anyhow::Result<i32> {
    let request = match p {
        Params::Set(a) => {
            let request = WorkflowRequest::SetParameters {
                target_system: a.target,
                values: a.set.into_iter().collect(),
                expected: None,
                force: a.force,
            };
            return super::approval::send(g, request).await;
        }
        Params::Get(a) => OperatorRequest::GetParameters {
            target_system: a.target,
            stale: a.stale,
        },
    };
    match g.client()?.operate(request).await? {
        OperatorReply::ParametersSet {
            target_system,
            values,
        } => {
            if g.json() {
                output::json(
                    &serde_json::json!({ "target_system": target_system, "values": params_json(&values) }),
                )?;
            } else {
                for (k, v) in &values {
                    println!("{target_system}: {k} = {v}");
                }
            }
            Ok(super::exit::OK)
        }
        OperatorReply::Parameters {
            target_system,
            live,
            last_known_good,
        } => {
            if g.json() {
                output::json(&serde_json::json!({
                    "target_system": target_system,
                    "live": params_json(&live),
                    "last_known_good": params_json(&last_known_good),
                }))?;
            } else {
                for (k, v) in &live {
                    let lkg = last_known_good
                        .get(k)
                        .map_or("-".to_string(), ToString::to_string);
                    println!("{k} = {v} (last known good {lkg})");
                }
            }
            Ok(super::exit::OK)
        }
        other => output::refused(g.json(), &other),
    }
}
