//! Tests of the CA, issuance, the certificate directory and identities.

use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use super::*;
use arqonbus_core::Role;
use arqonbus_transport::{CertDir, Identity, IdentityError};

fn der_of(pem: &str) -> CertificateDer<'static> {
    CertificateDer::from_pem_slice(pem.as_bytes()).expect("a PEM certificate")
}

fn der_of_file(path: &Path) -> CertificateDer<'static> {
    CertificateDer::from_pem_file(path).expect("a PEM certificate file")
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("file exists")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn init_writes_the_ca_nodes_and_one_client_per_role() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = init(dir.path(), &InitOptions::default()).expect("init");
    let names: Vec<_> = report
        .issued
        .iter()
        .map(|c| c.identity.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["node-1", "node-2", "node-3", "admin", "operator", "proposer", "agent", "viewer"]
    );
    let mut paths = vec![report.ca_cert.clone(), report.ca_key.clone()];
    for cert in &report.issued {
        assert_eq!(
            cert.cert,
            dir.path().join(format!("{}.pem", cert.identity.name))
        );
        assert_eq!(
            cert.key,
            dir.path().join(format!("{}.key", cert.identity.name))
        );
        paths.extend([cert.cert.clone(), cert.key.clone()]);
        let identity = Identity::from_der(&der_of_file(&cert.cert)).expect("identity");
        assert_eq!(identity, cert.identity);
    }
    for path in &paths {
        assert!(path.is_file(), "{} was not written", path.display());
    }
    #[cfg(unix)]
    for path in paths {
        let expected = if path.extension().is_some_and(|e| e == "key") {
            0o600
        } else {
            0o644
        };
        assert_eq!(mode(&path), expected, "mode of {}", path.display());
    }
}

#[test]
fn init_refuses_to_replace_a_ca_unless_forced() {
    let dir = tempfile::tempdir().expect("tempdir");
    init(dir.path(), &InitOptions::default()).expect("first init");
    let ca_before = std::fs::read_to_string(dir.path().join("ca.pem")).expect("ca.pem");

    let err = init(dir.path(), &InitOptions::default()).expect_err("second init must fail");
    assert!(matches!(err, CertError::CaExists(_)), "{err}");
    assert!(err.to_string().contains("--force"), "{err}");
    let ca_kept = std::fs::read_to_string(dir.path().join("ca.pem")).expect("ca.pem");
    assert_eq!(ca_before, ca_kept, "a refused init changed ca.pem");

    let forced = InitOptions {
        force: true,
        ..InitOptions::default()
    };
    init(dir.path(), &forced).expect("forced init");
    let ca_after = std::fs::read_to_string(dir.path().join("ca.pem")).expect("ca.pem");
    assert_ne!(ca_before, ca_after, "--force did not make a new CA");
}

#[test]
fn a_refused_init_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("node-2.pem"), "precious").expect("write");
    let err = init(dir.path(), &InitOptions::default()).expect_err("must refuse");
    assert!(matches!(err, CertError::FileExists(_)), "{err}");
    assert!(!dir.path().join("ca.pem").exists(), "ca.pem written anyway");
    assert!(!dir.path().join("ca.key").exists(), "ca.key written anyway");
}

#[test]
fn init_rejects_zero_nodes_and_bad_hosts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let zero = InitOptions {
        nodes: 0,
        ..InitOptions::default()
    };
    assert!(matches!(init(dir.path(), &zero), Err(CertError::NoNodes)));
    let bad_host = InitOptions {
        node_hosts: vec!["not a host!".into()],
        ..InitOptions::default()
    };
    assert!(matches!(
        init(dir.path(), &bad_host),
        Err(CertError::InvalidHost(_))
    ));
    assert!(!dir.path().join("ca.pem").exists());
}

#[test]
fn issue_refuses_node_names_reserved_names_and_the_node_role() {
    let dir = tempfile::tempdir().expect("tempdir");
    init(dir.path(), &InitOptions::default()).expect("init");
    let err = issue_client(dir.path(), "node-x", Role::Operator, false).expect_err("node-x");
    assert!(matches!(err, CertError::ReservedClientName(_)), "{err}");
    let err = issue_client(dir.path(), "node-4", Role::Viewer, true).expect_err("node-4");
    assert!(matches!(err, CertError::ReservedClientName(_)), "{err}");
    let err = issue_client(dir.path(), "bob", Role::Node, false).expect_err("role node");
    assert!(matches!(err, CertError::ClientWithNodeRole), "{err}");
    for bad in ["ca", "", "../evil", ".hidden", "a/b", "sp ace"] {
        let err = issue_client(dir.path(), bad, Role::Viewer, true).expect_err(bad);
        assert!(matches!(err, CertError::InvalidName { .. }), "{bad}: {err}");
    }
    assert!(!dir.path().join("node-x.pem").exists());
}

#[test]
fn issue_adds_a_client_and_a_node_signed_by_the_existing_ca() {
    let dir = tempfile::tempdir().expect("tempdir");
    init(dir.path(), &InitOptions::default()).expect("init");
    let (name, role) = parse_client_spec("alice:operator").expect("spec");
    let alice = issue_client(dir.path(), &name, role, false).expect("issue alice");
    assert_eq!(
        alice.identity,
        Identity::new("alice", Role::Operator).expect("id")
    );
    let err = issue_client(dir.path(), "alice", Role::Operator, false).expect_err("again");
    assert!(matches!(err, CertError::FileExists(_)), "{err}");
    issue_client(dir.path(), "alice", Role::Viewer, true).expect("forced reissue");

    let hosts = vec!["db.example".to_owned(), "10.1.2.3".to_owned()];
    let node = issue_node(dir.path(), 4, &hosts, false).expect("issue node-4");
    assert_eq!(node.identity.node_id(), Some(4));
    let der = der_of_file(&node.cert);
    let (_, cert) = X509Certificate::from_der(&der).expect("x509");
    let sans: Vec<String> = cert
        .subject_alternative_name()
        .expect("san extension")
        .expect("has SANs")
        .value
        .general_names
        .iter()
        .map(|n| match n {
            GeneralName::DNSName(d) => d.to_string(),
            GeneralName::IPAddress(ip) => format!("ip:{ip:?}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert!(sans.contains(&"localhost".to_owned()), "{sans:?}");
    assert!(sans.contains(&"node-4".to_owned()), "{sans:?}");
    assert!(sans.contains(&"db.example".to_owned()), "{sans:?}");
    assert!(sans.contains(&"ip:[127, 0, 0, 1]".to_owned()), "{sans:?}");
    assert!(sans.contains(&"ip:[10, 1, 2, 3]".to_owned()), "{sans:?}");
    assert_eq!(
        cert.issuer().to_string(),
        X509Certificate::from_der(&der_of_file(&dir.path().join("ca.pem")))
            .expect("ca")
            .1
            .subject()
            .to_string()
    );
}

#[test]
fn issue_without_a_ca_says_to_run_init() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = issue_client(dir.path(), "alice", Role::Agent, false).expect_err("no CA");
    assert!(matches!(err, CertError::NoCa(_)), "{err}");
}

#[test]
fn a_ca_key_that_does_not_match_the_certificate_is_refused() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    init(a.path(), &InitOptions::default()).expect("init a");
    init(b.path(), &InitOptions::default()).expect("init b");
    std::fs::copy(b.path().join("ca.key"), a.path().join("ca.key")).expect("copy");
    let err = Authority::load(&CertDir::new(a.path())).expect_err("mismatch");
    assert!(matches!(err, CertError::CaKeyMismatch { .. }), "{err}");
}

#[test]
fn identity_round_trips_for_every_role() {
    let ca = Authority::generate().expect("ca");
    for role in Role::ALL {
        let issued = match role {
            Role::Node => ca.issue_node(7, &[]),
            _ => ca.issue_client(&format!("{role}-one"), role),
        }
        .expect("issue");
        let identity = Identity::from_der(&der_of(&issued.cert_pem)).expect("parse");
        assert_eq!(identity, issued.identity);
        assert_eq!(identity.role, role);
        assert_eq!(identity.node_id(), (role == Role::Node).then_some(7));
    }
    // The CA itself carries no role.
    assert_eq!(
        Identity::from_der(ca.cert_der()),
        Err(IdentityError::MissingRole)
    );
}

#[test]
fn node_certificates_serve_and_dial_clients_only_dial() {
    use x509_parser::prelude::ParsedExtension;
    let ca = Authority::generate().expect("ca");
    let eku_of = |pem: &str| {
        let der = der_of(pem);
        let (_, cert) = X509Certificate::from_der(&der).expect("x509");
        let eku = cert
            .extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::ExtendedKeyUsage(eku) => Some((eku.server_auth, eku.client_auth)),
                _ => None,
            })
            .expect("EKU extension");
        (eku, cert.public_key().algorithm.algorithm.to_id_string())
    };
    let ed25519 = "1.3.101.112".to_owned();
    let node = ca.issue_node(1, &[]).expect("node");
    assert_eq!(eku_of(&node.cert_pem), ((true, true), ed25519.clone()));
    let agent = ca.issue_client("agent-1", Role::Agent).expect("agent");
    assert_eq!(eku_of(&agent.cert_pem), ((false, true), ed25519));
}

#[test]
fn client_specs_parse_and_explain_mistakes() {
    assert_eq!(
        parse_client_spec("ci-bot:proposer").expect("spec"),
        ("ci-bot".to_owned(), Role::Proposer)
    );
    for bad in ["alice", ":operator", "alice:", ""] {
        assert!(
            matches!(parse_client_spec(bad), Err(CertError::BadClientSpec(_))),
            "{bad}"
        );
    }
    let err = parse_client_spec("alice:root").expect_err("unknown role");
    assert!(err.to_string().contains("unknown role `root`"), "{err}");
}
