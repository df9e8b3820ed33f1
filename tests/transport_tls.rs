//! Mutual TLS over real QUIC on 127.0.0.1: who gets in on which ALPN, and
//! what a dialler learns about the node it reached.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use arqonbus::certs::{init, issue_client, InitOptions};
use arqonbus_core::Role;
use arqonbus_transport::Identity;
use arqonbus_transport::{
    authorize_incoming, authorize_peer, authorize_server, client_config, refuse, server_config,
    AuthError, TlsCredentials, TransportTuning, ALPN_CLIENT, ALPN_PEER, CLOSE_UNAUTHORIZED,
};
use quinn::{ConnectionError, Endpoint};
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(10);

/// Awaits `fut`, failing the test with what did not happen in time.
async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(WAIT, fut).await {
        Ok(value) => value,
        Err(_) => panic!("timed out after {WAIT:?} waiting for {what}"),
    }
}

/// What the server saw of one incoming connection.
type Seen = Result<Identity, String>;

/// A node endpoint that authorizes each connection by its ALPN, refuses
/// with a reason, and echoes one stream for those it lets in.
struct EchoServer {
    addr: SocketAddr,
    seen: mpsc::UnboundedReceiver<Seen>,
    _endpoint: Endpoint,
}

fn start_server(dir: &Path, name: &str) -> EchoServer {
    let creds = TlsCredentials::from_dir(dir, name).expect("server credentials");
    let config = server_config(&creds, &TransportTuning::default()).expect("server config");
    let endpoint = Endpoint::server(config, "127.0.0.1:0".parse().expect("addr")).expect("bind");
    let addr = endpoint.local_addr().expect("local addr");
    let (tx, seen) = mpsc::unbounded_channel();
    let accepting = endpoint.clone();
    tokio::spawn(async move {
        while let Some(incoming) = accepting.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let conn = match incoming.await {
                    Ok(conn) => conn,
                    Err(e) => {
                        let _ = tx.send(Err(format!("handshake failed: {e}")));
                        return;
                    }
                };
                match authorize_incoming(&conn) {
                    Err(e) => {
                        refuse(&conn, &e);
                        let _ = tx.send(Err(e.to_string()));
                    }
                    Ok(identity) => {
                        let _ = tx.send(Ok(identity));
                        if let Ok((mut send, mut recv)) = conn.accept_bi().await {
                            if let Ok(data) = recv.read_to_end(1024).await {
                                let _ = send.write_all(&data).await;
                                let _ = send.finish();
                            }
                        }
                        // Keep the connection until the client has read and closed.
                        conn.closed().await;
                    }
                }
            });
        }
    });
    EchoServer {
        addr,
        seen,
        _endpoint: endpoint,
    }
}

impl EchoServer {
    async fn next_seen(&mut self) -> Seen {
        within("the server to report a connection", self.seen.recv())
            .await
            .expect("server task ended")
    }
}

fn client_endpoint() -> Endpoint {
    Endpoint::client("127.0.0.1:0".parse().expect("addr")).expect("client endpoint")
}

/// Dials `addr` as `name` from `dir` on `alpn`.
async fn dial(
    dir: &Path,
    name: &str,
    alpn: &[u8],
    addr: SocketAddr,
) -> Result<quinn::Connection, ConnectionError> {
    let creds = TlsCredentials::from_dir(dir, name).expect("client credentials");
    let config = client_config(&creds, alpn, &TransportTuning::default()).expect("client config");
    dial_with(config, addr).await
}

async fn dial_with(
    config: quinn::ClientConfig,
    addr: SocketAddr,
) -> Result<quinn::Connection, ConnectionError> {
    let endpoint = client_endpoint();
    let connecting = endpoint
        .connect_with(config, addr, "localhost")
        .expect("connect parameters");
    within("the QUIC handshake", connecting).await
}

/// Opens a stream, writes, finishes and reads the echo. With TLS 1.3 a
/// refused client certificate shows up here, not in `connect`.
async fn echo(conn: &quinn::Connection) -> Result<Vec<u8>, String> {
    within("an echo round trip", async {
        let (mut send, mut recv) = conn.open_bi().await.map_err(|e| e.to_string())?;
        send.write_all(b"ping").await.map_err(|e| e.to_string())?;
        send.finish().map_err(|e| e.to_string())?;
        recv.read_to_end(1024).await.map_err(|e| e.to_string())
    })
    .await
}

fn cluster() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    init(dir.path(), &InitOptions::default()).expect("certs init");
    dir
}

#[tokio::test]
async fn a_node_reaches_a_node_on_the_peer_alpn_and_both_know_who() {
    let dir = cluster();
    let mut server = start_server(dir.path(), "node-1");
    let conn = dial(dir.path(), "node-2", ALPN_PEER, server.addr)
        .await
        .expect("node-2 connects to node-1");
    assert_eq!(authorize_peer(&conn, 1), Ok(Identity::node(1)));
    assert_eq!(echo(&conn).await, Ok(b"ping".to_vec()));
    assert_eq!(server.next_seen().await, Ok(Identity::node(2)));
    conn.close(0u32.into(), b"done");
}

#[tokio::test]
async fn a_client_role_is_let_in_on_the_client_alpn() {
    let dir = cluster();
    let mut server = start_server(dir.path(), "node-1");
    let conn = dial(dir.path(), "operator", ALPN_CLIENT, server.addr)
        .await
        .expect("operator connects");
    assert_eq!(authorize_server(&conn), Ok(Identity::node(1)));
    assert_eq!(echo(&conn).await, Ok(b"ping".to_vec()));
    let expected = Identity::new("operator", Role::Operator).expect("identity");
    assert_eq!(server.next_seen().await, Ok(expected));
    conn.close(0u32.into(), b"done");
}

#[tokio::test]
async fn an_operator_on_the_peer_alpn_is_refused_with_the_reason() {
    let dir = cluster();
    let mut server = start_server(dir.path(), "node-1");
    let conn = dial(dir.path(), "operator", ALPN_PEER, server.addr)
        .await
        .expect("the handshake itself succeeds");
    let reason = "certificate role is `operator`, the peer port accepts only `node`";
    assert_eq!(server.next_seen().await, Err(reason.to_owned()));
    let closed = within("the refused connection to close", conn.closed()).await;
    match closed {
        ConnectionError::ApplicationClosed(close) => {
            assert_eq!(close.error_code, CLOSE_UNAUTHORIZED);
            assert_eq!(close.reason.as_ref(), reason.as_bytes());
        }
        other => panic!("expected an application close, got {other}"),
    }
    assert!(echo(&conn).await.is_err(), "a refused connection echoed");
}

#[tokio::test]
async fn a_client_certificate_from_another_ca_is_refused() {
    let dir = cluster();
    let other = cluster();
    let mut server = start_server(dir.path(), "node-1");
    // Trusts our CA (so the server is accepted) but presents a foreign cert.
    let foreign = TlsCredentials::from_files(
        &dir.path().join("ca.pem"),
        &other.path().join("node-2.pem"),
        &other.path().join("node-2.key"),
    )
    .expect("mixed credentials");
    let config = client_config(&foreign, ALPN_PEER, &TransportTuning::default()).expect("config");
    let outcome = match dial_with(config, server.addr).await {
        Ok(conn) => echo(&conn).await,
        Err(e) => Err(e.to_string()),
    };
    assert!(outcome.is_err(), "a foreign certificate got an echo");
    let seen = server.next_seen().await;
    assert!(
        matches!(&seen, Err(e) if e.contains("UnknownIssuer")),
        "{seen:?}"
    );
}

#[tokio::test]
async fn a_server_from_another_ca_is_not_trusted() {
    let dir = cluster();
    let other = cluster();
    let server = start_server(other.path(), "node-1");
    let result = dial(dir.path(), "node-2", ALPN_PEER, server.addr).await;
    assert!(result.is_err(), "trusted a node of another cluster");
}

#[tokio::test]
async fn dialling_node_3_and_reaching_node_1_is_caught() {
    let dir = cluster();
    let server = start_server(dir.path(), "node-1");
    let conn = dial(dir.path(), "node-2", ALPN_PEER, server.addr)
        .await
        .expect("handshake");
    let err = authorize_peer(&conn, 3).expect_err("wrong node accepted");
    assert!(
        matches!(err, AuthError::WrongNode { dialled: 3, .. }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "certificate names node-1 but node-3 was dialled"
    );
    conn.close(0u32.into(), b"wrong node");
}

#[tokio::test]
async fn a_client_issued_later_is_let_in() {
    let dir = cluster();
    issue_client(dir.path(), "hpo-1", Role::Proposer, false).expect("issue");
    let mut server = start_server(dir.path(), "node-1");
    let conn = dial(dir.path(), "hpo-1", ALPN_CLIENT, server.addr)
        .await
        .expect("connects");
    assert_eq!(echo(&conn).await, Ok(b"ping".to_vec()));
    let expected = Identity::new("hpo-1", Role::Proposer).expect("identity");
    assert_eq!(server.next_seen().await, Ok(expected));
    conn.close(0u32.into(), b"done");
}

#[tokio::test]
async fn a_reused_client_config_still_names_both_sides_on_every_connection() {
    // Nodes reuse one client config for every dial, so later connections may
    // resume a TLS session: the identities must survive resumption.
    let dir = cluster();
    let mut server = start_server(dir.path(), "node-1");
    let creds = TlsCredentials::from_dir(dir.path(), "node-2").expect("credentials");
    let config = client_config(&creds, ALPN_PEER, &TransportTuning::default()).expect("config");
    let endpoint = client_endpoint();
    for attempt in 1..=3 {
        let connecting = endpoint
            .connect_with(config.clone(), server.addr, "localhost")
            .expect("connect parameters");
        let conn = within("the QUIC handshake", connecting)
            .await
            .expect("connects");
        assert_eq!(
            authorize_peer(&conn, 1),
            Ok(Identity::node(1)),
            "attempt {attempt}"
        );
        assert_eq!(echo(&conn).await, Ok(b"ping".to_vec()), "attempt {attempt}");
        assert_eq!(
            server.next_seen().await,
            Ok(Identity::node(2)),
            "attempt {attempt}"
        );
        conn.close(0u32.into(), b"done");
    }
}
