//! Helpers of the proposer-session tests: sessions over a cluster's
//! certificates, waits on modes, and a breaker-friendly unreachable setup.

use super::{within, Cluster};
use arqonbus_client::{Mode, ProposerSession, SessionOptions};
use arqonbus_transport::TlsCredentials;
use std::path::Path;
use std::time::{Duration, Instant};

pub const SVC: &str = "ml-inference-service";

/// Options for a proposer session on `endpoints` with `certs`' proposer identity.
pub fn options(certs: &Path, endpoints: Vec<String>, lkg: &Path) -> SessionOptions {
    let creds = TlsCredentials::from_dir(certs, "proposer").expect("proposer certificate");
    let mut o = SessionOptions::new(endpoints, creds, SVC, lkg.to_path_buf());
    o.telemetry_capacity = 100;
    o.events_from = Some(0);
    o
}

pub fn session(cluster: &Cluster, lkg: &Path) -> ProposerSession {
    ProposerSession::connect(options(&cluster.certs(), cluster.endpoints.clone(), lkg))
        .expect("session")
}

/// Waits until the session's mode satisfies `cond`; returns how long it took.
pub async fn wait_mode(
    s: &ProposerSession,
    what: &str,
    bound: Duration,
    cond: impl Fn(&Mode) -> bool,
) -> Duration {
    let start = Instant::now();
    let mut mode = s.watch_mode();
    within(what, bound, mode.wait_for(|m| cond(m)))
        .await
        .expect("the session is alive");
    start.elapsed()
}
