//! The key files `certs` writes: OpenSSL reads them, and the PKCS#8 v2
//! files earlier releases wrote still load, in rcgen (the CA) and rustls
//! (a node's or client's TLS credentials).

use std::path::Path;
use std::process::Command;

use rcgen::{KeyPair, PKCS_ED25519};
use rustls::pki_types::PrivatePkcs8KeyDer;

use super::key::{v1_document, V1_PREFIX, V2_PREFIX, V2_PUBLIC_KEY_TAG};
use super::*;
use arqonbus_core::Role;
use arqonbus_transport::{client_config, server_config, CertDir, TlsCredentials, TransportTuning};
use arqonbus_transport::{ALPN_CLIENT, ALPN_PEER};

fn cluster() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    init(dir.path(), &InitOptions::default()).expect("certs init");
    dir
}

fn key_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut keys: Vec<_> = std::fs::read_dir(dir)
        .expect("read the certificate directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "key"))
        .collect();
    keys.sort();
    keys
}

fn der_of_key_file(path: &Path) -> Vec<u8> {
    let pem = std::fs::read_to_string(path).expect("read a key file");
    let key = KeyPair::from_pem(&pem).expect("a PEM private key");
    key.serialized_der().to_vec()
}

/// The PKCS#8 v2 document ring writes for `key`: what `certs init` wrote
/// before keys were written as v1.
fn v2_document(key: &KeyPair) -> Vec<u8> {
    let der = key.serialized_der();
    let seed = &der[V1_PREFIX.len()..];
    [
        &V2_PREFIX[..],
        seed,
        &V2_PUBLIC_KEY_TAG,
        key.public_key_raw(),
    ]
    .concat()
}

/// Rewrites the key file at `path` in the v2 form.
fn rewrite_as_v2(path: &Path) {
    let v1 = KeyPair::from_pem(&std::fs::read_to_string(path).expect("read")).expect("key");
    let v2 = KeyPair::from_pkcs8_der_and_sign_algo(
        &PrivatePkcs8KeyDer::from(v2_document(&v1)),
        &PKCS_ED25519,
    )
    .expect("ring reads a v2 document");
    std::fs::write(path, v2.serialize_pem()).expect("write the v2 key");
}

#[test]
fn every_key_init_writes_is_pkcs8_v1() {
    let dir = cluster();
    let keys = key_files(dir.path());
    assert_eq!(keys.len(), 9, "ca, three nodes, five clients: {keys:?}");
    for path in keys {
        let der = der_of_key_file(&path);
        assert!(
            der.len() == 48 && der.starts_with(&V1_PREFIX),
            "{} is not PKCS#8 v1: {der:02x?}",
            path.display()
        );
    }
}

#[test]
fn openssl_reads_every_key_init_writes() {
    let dir = cluster();
    for path in key_files(dir.path()) {
        let out = match Command::new("openssl")
            .args(["pkey", "-noout", "-in"])
            .arg(&path)
            .output()
        {
            Ok(out) => out,
            Err(e) => panic!(
                "cannot run `openssl` ({e}): this test checks that OpenSSL reads the keys \
                 `certs init` writes; install it (Debian: apt-get install openssl)"
            ),
        };
        assert!(
            out.status.success(),
            "`openssl pkey -noout -in {}` refused it: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn the_v2_form_of_the_tests_is_the_one_ring_writes() {
    let generated = KeyPair::generate_for(&PKCS_ED25519).expect("a ring key");
    let der = generated.serialized_der();
    let seed: [u8; 32] = der[V2_PREFIX.len()..V2_PREFIX.len() + 32]
        .try_into()
        .expect("32 bytes");
    let v1 = KeyPair::from_pkcs8_der_and_sign_algo(
        &PrivatePkcs8KeyDer::from(v1_document(&seed)),
        &PKCS_ED25519,
    )
    .expect("v1");
    assert_eq!(v2_document(&v1), der);
}

#[test]
fn keys_written_as_v2_by_earlier_releases_still_load() {
    let dir = cluster();
    for name in ["ca", "node-1", "proposer"] {
        rewrite_as_v2(&CertDir::new(dir.path()).key(name));
    }
    let ca_key = der_of_key_file(&dir.path().join("ca.key"));
    assert!(ca_key.starts_with(&V2_PREFIX), "{ca_key:02x?}");

    let ca = Authority::load(&CertDir::new(dir.path())).expect("a v2 CA key loads");
    ca.issue_client("carol", Role::Viewer)
        .expect("and still signs");

    let tuning = TransportTuning::default();
    let node = TlsCredentials::from_dir(dir.path(), "node-1").expect("v2 node key");
    server_config(&node, &tuning).expect("rustls takes a v2 key that matches its certificate");
    client_config(&node, ALPN_PEER, &tuning).expect("as a client too");
    let proposer = TlsCredentials::from_dir(dir.path(), "proposer").expect("v2 client key");
    client_config(&proposer, ALPN_CLIENT, &tuning).expect("a v2 client key");
    let v1 = TlsCredentials::from_dir(dir.path(), "node-2").expect("v1 node key");
    server_config(&v1, &tuning).expect("and a v1 key");

    // The check above can fail: a key that is not the certificate's is refused.
    std::fs::copy(dir.path().join("node-2.key"), dir.path().join("node-1.key")).expect("copy");
    let mismatched = TlsCredentials::from_dir(dir.path(), "node-1").expect("parses");
    assert!(server_config(&mismatched, &tuning).is_err());
}
