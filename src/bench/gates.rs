//! `arqonbus bench gates`: what each Security I gate costs per message on
//! this machine, in one thread: the Ed25519 verification (and the client's
//! signing), the replay check, the rate limit, the staleness check, and
//! all gates in order for a signed proposal. From the verification cost it
//! derives what verifying every command again in `apply` would cost each
//! replica at 5,000 decisions/s.

use arqonbus::node::gates::rate::{Class, RateLimits};
use arqonbus::node::gates::replay::ReplayTable;
use arqonbus::node::gates::settings::SecuritySettings;
use arqonbus::node::gates::{check_fresh, Gates};
use arqonbus_core::{ParamValue, Role};
use arqonbus_proto::message::{Proposal, ProposedChange};
use arqonbus_proto::{Envelope, Request, SigScheme, Signature, UnixMillis};
use arqonbus_transport::{verify_signature, Identity, MessageSigner};
use rcgen::{KeyPair, PKCS_ED25519};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Nanoseconds per message of each gate.
#[derive(Debug, Serialize)]
pub struct GateFigures {
    pub iterations: u64,
    pub sign_ns: f64,
    pub verify_ns: f64,
    pub replay_check_ns: f64,
    pub rate_limit_ns: f64,
    pub staleness_ns: f64,
    pub all_gates_signed_proposal_ns: f64,
    /// One core's share spent verifying again in `apply`, per replica, at
    /// 5,000 decisions/s (one signed command per decision).
    pub reverify_in_apply_at_5000_per_s_core_fraction: f64,
}

fn per(iterations: u64, took: Duration) -> f64 {
    took.as_nanos() as f64 / iterations as f64
}

fn proposal(n: u64) -> Request {
    Request::Proposal(Proposal {
        proposal_id: format!("bench-gates-{n}"),
        source: "bench".into(),
        target_system: "bench-target".into(),
        timestamp: UnixMillis::now(),
        changes: vec![ProposedChange {
            parameter: "batch_size".into(),
            current_value: ParamValue::Int(32),
            proposed_value: ParamValue::Int(64),
            reason: "bench".into(),
        }],
        expected_impact: BTreeMap::new(),
        confidence: 0.5,
        duration_seconds: 60,
    })
}

/// Measures `iterations` messages per gate.
pub fn run(iterations: u64) -> anyhow::Result<GateFigures> {
    let key = KeyPair::generate_for(&PKCS_ED25519)?;
    let signer = MessageSigner::from_pkcs8(key.serialized_der())
        .map_err(|e| anyhow::anyhow!("signer: {e}"))?;
    let request = proposal(0);
    let envelope = Envelope {
        session: 1,
        seq: 1,
        sent_at: UnixMillis::now(),
        signature: None,
    };
    let bytes = request.signed_bytes(&envelope)?;

    let t = Instant::now();
    let mut signature = Vec::new();
    for _ in 0..iterations {
        signature = signer.sign(std::hint::black_box(&bytes));
    }
    let sign_ns = per(iterations, t.elapsed());

    let t = Instant::now();
    for _ in 0..iterations {
        verify_signature(signer.public_key(), &bytes, &signature)
            .map_err(|e| anyhow::anyhow!("verify: {e}"))?;
    }
    let verify_ns = per(iterations, t.elapsed());

    let replay = ReplayTable::new(Duration::from_secs(30));
    let now = Instant::now();
    let t = Instant::now();
    for seq in 1..=iterations {
        replay
            .accept("proposer", 7, seq, now)
            .map_err(|e| anyhow::anyhow!("replay: {e}"))?;
    }
    let replay_check_ns = per(iterations, t.elapsed());

    let settings = SecuritySettings {
        changes_per_second: u32::MAX,
        ..SecuritySettings::default()
    };
    let rate = RateLimits::new(&settings);
    let t = Instant::now();
    for _ in 0..iterations {
        rate.take("proposer", Role::Proposer, Class::Change, 1)
            .map_err(|e| anyhow::anyhow!("rate: {e}"))?;
    }
    let rate_limit_ns = per(iterations, t.elapsed());

    let t = Instant::now();
    for _ in 0..iterations {
        check_fresh(envelope.sent_at, UnixMillis::now(), settings.max_skew())
            .map_err(|e| anyhow::anyhow!("fresh: {e}"))?;
    }
    let staleness_ns = per(iterations, t.elapsed());

    let gates = Gates::new(settings);
    let identity = Identity::new("proposer", Role::Proposer)?;
    let frames: Vec<(Envelope, Request)> = (1..=iterations.min(20_000))
        .map(|seq| {
            let mut e = Envelope {
                session: 9,
                seq,
                sent_at: UnixMillis::now(),
                signature: None,
            };
            let bytes = request.signed_bytes(&e).map_err(anyhow::Error::from)?;
            e.signature = Some(Signature {
                scheme: SigScheme::Ed25519,
                bytes: signer.sign(&bytes),
            });
            Ok((e, request.clone()))
        })
        .collect::<anyhow::Result<_>>()?;
    let t = Instant::now();
    for (e, r) in &frames {
        gates
            .check(
                &identity,
                Some(signer.public_key()),
                e,
                r,
                |_| false,
                |_| None,
            )
            .map_err(|e| anyhow::anyhow!("gates: {e}"))?;
    }
    let all = per(frames.len() as u64, t.elapsed());

    Ok(GateFigures {
        iterations,
        sign_ns,
        verify_ns,
        replay_check_ns,
        rate_limit_ns,
        staleness_ns,
        all_gates_signed_proposal_ns: all,
        reverify_in_apply_at_5000_per_s_core_fraction: verify_ns * 5_000.0 / 1e9,
    })
}
