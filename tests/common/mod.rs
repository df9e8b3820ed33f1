//! Shared helpers for integration tests that run real `arqonbus node`
//! processes on loopback: certificates, three nodes, bootstrap, leader
//! look-up, SIGKILL, and raw QUIC access for malformed-input tests.
//!
//! Every wait is bounded and says what it waited for. Only one cluster
//! should run at a time (two cores): tests hold [`CLUSTER_LOCK`].

#![allow(dead_code)]

pub mod sessions;

use arqonbus::certs::{self, InitOptions};
use arqonbus::client::{Client, ClientOptions};
use arqonbus::proto::operator::{Member, NodeRole, OperatorReply, OperatorRequest};
use arqonbus::proto::{Reply, Request};
use arqonbus::transport::{self, TlsCredentials, TransportTuning, ALPN_CLIENT};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Serializes cluster tests within one test binary.
pub static CLUSTER_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Waits for `cond` to return `Some`, polling every `every`, at most `bound`.
pub async fn wait_for<T, F, Fut>(what: &str, bound: Duration, mut cond: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = cond().await {
            return v;
        }
        assert!(
            start.elapsed() < bound,
            "timed out after {bound:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs `fut` with a deadline, panicking with `what` when it passes.
pub async fn within<T>(what: &str, bound: Duration, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(bound, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {bound:?}: {what}"),
    }
}

/// A free UDP port on loopback (bound then released).
fn free_port() -> u16 {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind an ephemeral port");
    sock.local_addr().expect("local addr").port()
}

/// Three node processes and their certificates, killed when dropped.
pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub endpoints: Vec<String>,
    children: Vec<Option<Child>>,
}

impl Cluster {
    /// Certificates, three nodes, bootstrap; returns once a leader is known
    /// to every node.
    pub async fn start() -> Cluster {
        let dir = tempfile::tempdir().expect("tempdir");
        certs::init(
            &dir.path().join("certs"),
            &InitOptions {
                nodes: 3,
                node_hosts: Vec::new(),
                force: false,
            },
        )
        .expect("certificates");
        let endpoints: Vec<String> = (0..3)
            .map(|_| format!("127.0.0.1:{}", free_port()))
            .collect();
        let children = endpoints
            .iter()
            .enumerate()
            .map(|(i, e)| Some(spawn_node(dir.path(), i as u64 + 1, e)))
            .collect();
        let cluster = Cluster {
            dir,
            endpoints,
            children,
        };
        let admin = cluster.client("admin");
        for e in &cluster.endpoints {
            let status = Request::Operate(OperatorRequest::NodeStatus);
            wait_for(&format!("{e} to answer"), Duration::from_secs(30), || {
                let (admin, status) = (admin.clone(), status.clone());
                async move { admin.call_node(e, &status).await.ok() }
            })
            .await;
        }
        let members = cluster
            .endpoints
            .iter()
            .enumerate()
            .map(|(i, e)| Member {
                node_id: i as u64 + 1,
                addr: e.clone(),
            })
            .collect();
        let init = admin
            .call_node(
                &cluster.endpoints[0],
                &Request::Operate(OperatorRequest::ClusterInit { members }),
            )
            .await;
        assert!(
            matches!(init, Ok(Reply::Operated(OperatorReply::Done { .. }))),
            "cluster init: {init:?}"
        );
        cluster.leader(Duration::from_secs(30)).await;
        cluster
    }

    pub fn certs(&self) -> PathBuf {
        self.dir.path().join("certs")
    }

    /// A client of every endpoint with the certificate of `user`.
    pub fn client(&self, user: &str) -> Client {
        let creds = TlsCredentials::from_dir(&self.certs(), user).expect("client certificate");
        let mut options = ClientOptions::new(self.endpoints.clone(), creds);
        // A request to a SIGKILLed node gets no answer and no close: this
        // bounds how long it waits before retrying elsewhere.
        options.request_timeout = Duration::from_secs(3);
        options.retry_budget = Duration::from_secs(20);
        Client::new(options).expect("client")
    }

    /// The index (0-based) of the leader every live node agrees on.
    pub async fn leader(&self, bound: Duration) -> usize {
        let admin = self.client("admin");
        wait_for("one leader known to every live node", bound, || {
            let admin = admin.clone();
            async move {
                let mut seen = None;
                for (i, e) in self.endpoints.iter().enumerate() {
                    if self.children[i].is_none() {
                        continue;
                    }
                    let r = admin
                        .call_node(e, &Request::Operate(OperatorRequest::NodeStatus))
                        .await;
                    let Ok(Reply::Operated(OperatorReply::NodeStatus(s))) = r else {
                        return None;
                    };
                    let leader = s.leader_id?;
                    if seen.is_some_and(|l| l != leader) {
                        return None;
                    }
                    seen = Some(leader);
                    if s.role == NodeRole::Leader && leader != s.node_id {
                        return None;
                    }
                }
                let idx = seen? as usize - 1;
                self.children[idx].is_some().then_some(idx)
            }
        })
        .await
    }

    /// SIGKILLs node `idx` (0-based) and reaps it.
    pub fn kill(&mut self, idx: usize) {
        if let Some(mut child) = self.children[idx].take() {
            let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
            let _ = child.wait();
        }
    }

    pub fn is_alive(&self, idx: usize) -> bool {
        self.children[idx].is_some()
    }

    /// The node's log, for failure messages.
    pub fn log(&self, idx: usize) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("node-{}.log", idx + 1)))
            .unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.children.len() {
            self.kill(i);
        }
    }
}

fn spawn_node(dir: &Path, id: u64, endpoint: &str) -> Child {
    let log = std::fs::File::create(dir.join(format!("node-{id}.log"))).expect("log file");
    Command::new(env!("CARGO_BIN_EXE_arqonbus"))
        .args(["node", "--id", &id.to_string(), "--listen", endpoint])
        .arg("--data")
        .arg(dir.join(format!("node-{id}")))
        .arg("--certs")
        .arg(dir.join("certs"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log file"))
        .stderr(log)
        .spawn()
        .expect("start a node process")
}

/// A raw QUIC connection on the client ALPN, for sending arbitrary bytes.
pub struct Raw {
    _endpoint: quinn::Endpoint,
    pub conn: quinn::Connection,
}

impl Raw {
    pub async fn connect(certs: &Path, user: &str, addr: &str) -> Raw {
        let creds = TlsCredentials::from_dir(certs, user).expect("client certificate");
        let config = transport::client_config(&creds, ALPN_CLIENT, &TransportTuning::default())
            .expect("client config");
        let endpoint =
            quinn::Endpoint::client(([127, 0, 0, 1], 0).into()).expect("client endpoint");
        let (host, sock) = arqonbus::raft::network::resolve(addr)
            .await
            .expect("resolve");
        let conn = within(
            "raw connection",
            Duration::from_secs(5),
            endpoint.connect_with(config, sock, &host).expect("connect"),
        )
        .await
        .expect("handshake");
        Raw {
            _endpoint: endpoint,
            conn,
        }
    }

    /// Writes `bytes` on a new stream, finishes, and decodes the answer.
    pub async fn exchange(&self, bytes: &[u8]) -> Reply {
        let (mut send, mut recv) = self.conn.open_bi().await.expect("open stream");
        // The server may stop reading early (too large); that is fine.
        let _ = send.write_all(bytes).await;
        let _ = send.finish();
        let frame = within(
            "an answer on the raw stream",
            Duration::from_secs(10),
            arqonbus::proto::io::read_frame(&mut recv),
        )
        .await
        .expect("read the answer")
        .expect("an answer frame");
        match arqonbus::proto::decode(&frame).expect("a valid reply frame") {
            arqonbus::proto::Message::Reply(r) => r,
            other => panic!("expected a reply, got {other:?}"),
        }
    }
}
