//! `arqonbus certs init|issue`.

use arqonbus::certs::{self, InitOptions};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum Certs {
    /// Make a cluster CA, node certificates and one client certificate per role.
    Init(InitArgs),
    /// Issue one more certificate with an existing CA.
    Issue(IssueArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to write into.
    #[arg(long)]
    pub out: PathBuf,
    /// How many node certificates (node-1 ...).
    #[arg(long, default_value_t = 3)]
    pub nodes: u64,
    /// Extra names or addresses the nodes are reached at (repeatable).
    #[arg(long = "node-host")]
    pub node_hosts: Vec<String>,
    /// Overwrite an existing CA and certificates.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["client", "node"])))]
pub struct IssueArgs {
    /// The CA's directory (also where the new files go).
    #[arg(long)]
    pub ca_dir: PathBuf,
    /// A client certificate: NAME:ROLE (role: admin, operator, proposer, agent, viewer).
    #[arg(long)]
    pub client: Option<String>,
    /// A node certificate for node N.
    #[arg(long)]
    pub node: Option<u64>,
    /// Extra names or addresses for a node certificate (repeatable).
    #[arg(long = "node-host")]
    pub node_hosts: Vec<String>,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

pub fn run(c: Certs) -> anyhow::Result<i32> {
    match c {
        Certs::Init(a) => {
            let report = certs::init(
                &a.out,
                &InitOptions {
                    nodes: a.nodes,
                    node_hosts: a.node_hosts,
                    force: a.force,
                },
            )?;
            println!("CA: {}", report.ca_cert.display());
            for w in report.issued {
                println!(
                    "{} ({}): {}",
                    w.identity.name,
                    w.identity.role,
                    w.cert.display()
                );
            }
        }
        Certs::Issue(a) => {
            let written = match (a.client, a.node) {
                (Some(spec), None) => {
                    let (name, role) = certs::parse_client_spec(&spec)?;
                    certs::issue_client(&a.ca_dir, &name, role, a.force)?
                }
                (None, Some(id)) => certs::issue_node(&a.ca_dir, id, &a.node_hosts, a.force)?,
                _ => anyhow::bail!("give exactly one of --client NAME:ROLE or --node N"),
            };
            println!(
                "{} ({}): {}",
                written.identity.name,
                written.identity.role,
                written.cert.display()
            );
        }
    }
    Ok(super::exit::OK)
}
