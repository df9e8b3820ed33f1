//! `arqonbus health`: does one node answer? For container health checks,
//! where the image holds nothing but this binary (no shell, no curl).

use super::connect::GlobalArgs;
use arqonbus_client::{Client, ClientOptions};
use arqonbus_proto::operator::{OperatorReply, OperatorRequest};
use arqonbus_proto::{Reply, Request};
use clap::Args;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// The node to ask (`host:port`); only this one, no redirect.
    #[arg(long, default_value = "127.0.0.1:7100")]
    pub endpoint: String,
    /// How long the node has to answer.
    #[arg(long, default_value_t = 2000)]
    pub timeout_ms: u64,
}

/// Exit 0 when the node answers a status request over TLS (it is serving,
/// cluster formed or not), 1 otherwise. Any certificate of the cluster
/// works, the node's own included: the client port admits every role and
/// every role may read the status.
pub async fn run(g: &GlobalArgs, a: HealthArgs) -> anyhow::Result<i32> {
    let bound = Duration::from_millis(a.timeout_ms);
    let mut options = ClientOptions::new(vec![a.endpoint.clone()], g.credentials()?);
    options.connect_timeout = bound;
    options.request_timeout = bound;
    options.resolve = g.resolve_map();
    let client = Client::new(options)?;
    let request = Request::Operate(OperatorRequest::NodeStatus);
    let status =
        match tokio::time::timeout(bound * 2, client.call_node(&a.endpoint, &request)).await {
            Ok(Ok(Reply::Operated(OperatorReply::NodeStatus(s)))) => s,
            Ok(Ok(other)) => {
                eprintln!(
                    "unhealthy: {}: unexpected answer type 0x{:02x}",
                    a.endpoint,
                    other.msg_type()
                );
                return Ok(super::exit::FAILED);
            }
            Ok(Err(e)) => {
                eprintln!("unhealthy: {e}");
                return Ok(super::exit::FAILED);
            }
            Err(_) => {
                eprintln!(
                    "unhealthy: {}: no answer within {:?}",
                    a.endpoint,
                    bound * 2
                );
                return Ok(super::exit::FAILED);
            }
        };
    if g.json() {
        super::output::json(&status)?;
    } else {
        println!(
            "healthy: node {} {:?} term {} leader {}",
            status.node_id,
            status.role,
            status.term,
            status
                .leader_id
                .map_or("none".to_string(), |l| l.to_string())
        );
    }
    Ok(super::exit::OK)
}
