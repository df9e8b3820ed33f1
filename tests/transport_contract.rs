//! What PROTOCOL.md §1 promises a client about the transport, over real
//! QUIC on 127.0.0.1: the limits a node announces, and how a connection
//! it refuses ends (a TLS alert in the handshake, or an application close
//! after it), since no `unauthenticated` error frame is ever sent.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use arqonbus::certs::{init, InitOptions};
use arqonbus_transport::{
    authorize_incoming, client_config, crypto_provider, refuse, server_config, TlsCredentials,
    TransportTuning, ALPN_CLIENT, ALPN_PEER, CLOSE_UNAUTHORIZED,
};
use quinn::crypto::rustls::QuicClientConfig;
use quinn::{ConnectionError, Endpoint};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

const WAIT: Duration = Duration::from_secs(10);

async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(WAIT, fut).await {
        Ok(value) => value,
        Err(_) => panic!("timed out after {WAIT:?} waiting for {what}"),
    }
}

/// Polls `fut` once: `Some` if it is ready without waiting.
fn ready_now<F: Future>(fut: F) -> Option<F::Output> {
    match pin!(fut).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

/// A node-1 endpoint that authorizes each connection like a node does
/// and keeps the ones it lets in open.
fn start_node(dir: &std::path::Path) -> (Endpoint, SocketAddr) {
    let creds = TlsCredentials::from_dir(dir, "node-1").expect("server credentials");
    let config = server_config(&creds, &TransportTuning::default()).expect("server config");
    let endpoint = Endpoint::server(config, "127.0.0.1:0".parse().expect("addr")).expect("bind");
    let addr = endpoint.local_addr().expect("local addr");
    let accepting = endpoint.clone();
    tokio::spawn(async move {
        while let Some(incoming) = accepting.accept().await {
            tokio::spawn(async move {
                let Ok(conn) = incoming.await else { return };
                match authorize_incoming(&conn) {
                    Err(e) => refuse(&conn, &e),
                    Ok(_) => drop(conn.closed().await),
                }
            });
        }
    });
    (endpoint, addr)
}

async fn dial(config: quinn::ClientConfig, addr: SocketAddr) -> quinn::Connection {
    let endpoint = Endpoint::client("127.0.0.1:0".parse().expect("addr")).expect("client");
    let connecting = endpoint
        .connect_with(config, addr, "localhost")
        .expect("connect parameters");
    within("the QUIC handshake", connecting)
        .await
        .expect("the client's side of the handshake completes")
}

/// How the node ended `conn`: the QUIC error code it sent.
async fn close_code(conn: &quinn::Connection) -> u64 {
    match within("the node to close the connection", conn.closed()).await {
        ConnectionError::ConnectionClosed(close) => u64::from(close.error_code),
        ConnectionError::ApplicationClosed(close) => close.error_code.into_inner(),
        other => panic!("expected a close from the node, got {other}"),
    }
}

fn cluster() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    init(dir.path(), &InitOptions::default()).expect("certs init");
    dir
}

fn client(dir: &std::path::Path, name: &str, alpn: &[u8]) -> quinn::ClientConfig {
    let creds = TlsCredentials::from_dir(dir, name).expect("client credentials");
    client_config(&creds, alpn, &TransportTuning::default()).expect("client config")
}

#[tokio::test]
async fn a_node_allows_100_bidirectional_streams_no_unidirectional_ones_and_no_datagrams() {
    let dir = cluster();
    let (_node, addr) = start_node(dir.path());
    let conn = dial(client(dir.path(), "proposer", ALPN_CLIENT), addr).await;
    let mut open = Vec::new();
    let max_streams = TransportTuning::default().max_streams;
    for i in 0..max_streams {
        let stream = ready_now(conn.open_bi()).unwrap_or_else(|| panic!("stream {i} waited"));
        open.push(stream.expect("opens"));
    }
    assert!(
        ready_now(conn.open_bi()).is_none(),
        "stream {max_streams} was allowed"
    );
    assert!(
        ready_now(conn.open_uni()).is_none(),
        "a unidirectional stream was allowed"
    );
    assert_eq!(
        conn.max_datagram_size(),
        None,
        "the node offers QUIC datagrams"
    );
}

#[tokio::test]
async fn a_client_without_a_certificate_gets_the_tls_alert_certificate_required() {
    let dir = cluster();
    let (_node, addr) = start_node(dir.path());
    let ca = CertificateDer::from_pem_file(dir.path().join("ca.pem")).expect("ca.pem");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).expect("root");
    let mut tls = rustls::ClientConfig::builder_with_provider(crypto_provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("TLS 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![ALPN_CLIENT.to_vec()];
    let crypto = QuicClientConfig::try_from(Arc::new(tls)).expect("quic crypto");
    let conn = dial(quinn::ClientConfig::new(Arc::new(crypto)), addr).await;
    // QUIC carries a TLS alert as CRYPTO_ERROR 0x0100 + the alert: 116.
    assert_eq!(close_code(&conn).await, 0x0100 + 116);
}

#[tokio::test]
async fn a_certificate_from_another_ca_gets_the_tls_alert_unknown_ca() {
    let dir = cluster();
    let other = cluster();
    let (_node, addr) = start_node(dir.path());
    let foreign = TlsCredentials::from_files(
        &dir.path().join("ca.pem"),
        &other.path().join("proposer.pem"),
        &other.path().join("proposer.key"),
    )
    .expect("credentials that trust our CA but are signed by another");
    let config = client_config(&foreign, ALPN_CLIENT, &TransportTuning::default()).expect("config");
    let conn = dial(config, addr).await;
    assert_eq!(close_code(&conn).await, 0x0100 + 48);
}

#[tokio::test]
async fn a_client_role_on_the_peer_alpn_is_closed_with_0x41_after_the_handshake() {
    let dir = cluster();
    let (_node, addr) = start_node(dir.path());
    let conn = dial(client(dir.path(), "admin", ALPN_PEER), addr).await;
    assert_eq!(close_code(&conn).await, CLOSE_UNAUTHORIZED.into_inner());
}

#[tokio::test]
async fn a_client_offering_no_version_the_node_speaks_gets_no_application_protocol() {
    let dir = cluster();
    let (_node, addr) = start_node(dir.path());
    let endpoint = Endpoint::client("127.0.0.1:0".parse().expect("addr")).expect("client");
    let connecting = endpoint
        .connect_with(
            client(dir.path(), "proposer", b"arqonbus/3"),
            addr,
            "localhost",
        )
        .expect("connect parameters");
    match within("the QUIC handshake", connecting).await {
        Err(ConnectionError::ConnectionClosed(close)) => {
            assert_eq!(u64::from(close.error_code), 0x0100 + 120)
        }
        other => panic!("expected the handshake to fail, got {other:?}"),
    }
}
