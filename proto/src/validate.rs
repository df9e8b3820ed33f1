//! Checks on a decoded (or to-be-encoded) message that bincode cannot
//! express: finite numbers everywhere, numeric ranges, counts, name syntax,
//! string lengths, timestamps in range, and a decision consistent with its
//! lists. Errors name the offending field by path, e.g.
//! `samples[3].metrics.latency_p99`.

use std::collections::BTreeSet;

use super::codec::Message;
use super::envelope::{Envelope, UnixMillis};
use super::error::{CodecError, ErrorCode, ErrorReply};
use super::limits::*;
use super::message::{Proposal, Request, TelemetrySample};
use super::reply::{Approval, Decision, EventBody, Reply, Rollback, Status};
use arqonbus_core::value::ParamValue;

type R = Result<(), CodecError>;

pub fn message(msg: &Message) -> R {
    match msg {
        Message::Request(env, req) => {
            envelope(env)?;
            request(req)
        }
        Message::Reply(r) => reply(r),
    }
}

fn envelope(e: &Envelope) -> R {
    time("sent_at", e.sent_at)?;
    if let Some(sig) = &e.signature {
        if sig.bytes.len() > MAX_SIGNATURE_LEN {
            return Err(CodecError::invalid("signature", "too long"));
        }
    }
    Ok(())
}

fn request(req: &Request) -> R {
    match req {
        Request::Operate(o) => super::validate_operator::request(o),
        Request::Workflow(w) => super::validate_workflow::request(w),
        Request::WatchAssignment(_) | Request::TaggedTelemetry(_) | Request::Rollout(_) => {
            super::validate_rollout::request(req)
        }
        Request::TelemetryBatch(b) => {
            count("samples", b.samples.len(), MAX_SAMPLES_PER_BATCH)?;
            for (i, s) in b.samples.iter().enumerate() {
                sample(&format!("samples[{i}]"), s)?;
            }
            Ok(())
        }
        Request::Proposal(p) => proposal(p),
        Request::Subscribe(s) => {
            count("targets", s.targets.len(), MAX_SUBSCRIBE_TARGETS)?;
            let mut seen = BTreeSet::new();
            for (i, t) in s.targets.iter().enumerate() {
                let f = format!("targets[{i}].target_system");
                name(&f, &t.target_system)?;
                if !seen.insert(&t.target_system) {
                    return Err(CodecError::invalid(f, "listed twice"));
                }
            }
            Ok(())
        }
        Request::StatusQuery(q) => name("proposal_id", &q.proposal_id),
    }
}

pub(super) fn sample(p: &str, s: &TelemetrySample) -> R {
    time(&format!("{p}.timestamp"), s.timestamp)?;
    name(&format!("{p}.source"), &s.source)?;
    name(&format!("{p}.target_system"), &s.target_system)?;
    count(&format!("{p}.metrics"), s.metrics.len(), MAX_METRICS)?;
    for (k, v) in &s.metrics {
        let f = format!("{p}.metrics.{}", quote_key(k));
        name(&f, k)?;
        finite(&f, *v)?;
    }
    count(
        &format!("{p}.parameters"),
        s.parameters.len(),
        MAX_PARAMETERS,
    )?;
    for (k, v) in &s.parameters {
        let f = format!("{p}.parameters.{}", quote_key(k));
        name(&f, k)?;
        value(&f, v)?;
    }
    let c = &s.context;
    if let Some(t) = &c.request_class {
        label(&format!("{p}.context.request_class"), t)?;
    }
    if let Some(t) = &c.hardware {
        label(&format!("{p}.context.hardware"), t)?;
    }
    if let Some(l) = c.load_factor {
        let f = format!("{p}.context.load_factor");
        finite(&f, l)?;
        if l < 0.0 {
            return Err(CodecError::invalid(f, "negative"));
        }
    }
    Ok(())
}

fn proposal(p: &Proposal) -> R {
    name("proposal_id", &p.proposal_id)?;
    name("source", &p.source)?;
    name("target_system", &p.target_system)?;
    time("timestamp", p.timestamp)?;
    count("changes", p.changes.len(), MAX_PARAMETERS)?;
    if p.changes.is_empty() {
        return Err(CodecError::invalid("changes", "empty"));
    }
    let mut seen = BTreeSet::new();
    for (i, c) in p.changes.iter().enumerate() {
        let f = format!("changes[{i}]");
        name(&format!("{f}.parameter"), &c.parameter)?;
        if !seen.insert(&c.parameter) {
            return Err(CodecError::invalid(f, "parameter changed twice"));
        }
        value(&format!("{f}.current_value"), &c.current_value)?;
        value(&format!("{f}.proposed_value"), &c.proposed_value)?;
        text(&format!("{f}.reason"), &c.reason)?;
    }
    impact("expected_impact", &p.expected_impact)?;
    unit("confidence", p.confidence)?;
    if p.duration_seconds == 0 {
        return Err(CodecError::invalid("duration_seconds", "zero"));
    }
    Ok(())
}

fn reply(r: &Reply) -> R {
    match r {
        Reply::Operated(o) => super::validate_operator::reply(o),
        Reply::Workflowed(w) => super::validate_workflow::reply(w),
        Reply::Assignment(a) => super::validate_rollout::assignment(a),
        Reply::RolloutStatus(s) => super::validate_rollout::rollout_status(s),
        Reply::Error(e) => error(e),
        Reply::TelemetryAck(_) => Ok(()),
        Reply::Approval(a) => approval("", a),
        Reply::Status(s) => status("", s),
        Reply::Rollback(b) => rollback("", b),
        Reply::Subscribed(s) => {
            count("streams", s.streams.len(), MAX_SUBSCRIBE_TARGETS)?;
            for (i, p) in s.streams.iter().enumerate() {
                name(&format!("streams[{i}].target_system"), &p.target_system)?;
            }
            Ok(())
        }
        Reply::Event(e) => {
            name("target_system", &e.target_system)?;
            let (t, p) = match &e.body {
                EventBody::Approval(a) => (&a.target_system, approval("body.", a)),
                EventBody::Status(s) => (&s.target_system, status("body.", s)),
                EventBody::Rollback(b) => (&b.target_system, rollback("body.", b)),
            };
            p?;
            if *t != e.target_system {
                return Err(CodecError::invalid(
                    "body.target_system",
                    "differs from the event's",
                ));
            }
            Ok(())
        }
    }
}

fn error(e: &ErrorReply) -> R {
    text("message", &e.message)?;
    match &e.code {
        ErrorCode::NotLeader {
            leader_addr: Some(a),
            ..
        } => name("code.leader_addr", a),
        ErrorCode::StaleTimestamp { server_time, .. } => time("code.server_time", *server_time),
        ErrorCode::InvalidMessage { field, reason } => {
            text("code.field", field)?;
            text("code.reason", reason)
        }
        ErrorCode::UnsupportedVersion { supported, .. } => {
            count("code.supported", supported.len(), MAX_SUPPORTED_VERSIONS)
        }
        ErrorCode::Conflict { proposal_id } => name("code.proposal_id", proposal_id),
        ErrorCode::ResyncRequired { target_system, .. }
        | ErrorCode::NoRollout { target_system } => name("code.target_system", target_system),
        _ => Ok(()),
    }
}

fn head(p: &str, id: &str, target: &str, source: &str, ts: UnixMillis) -> R {
    name(&format!("{p}proposal_id"), id)?;
    name(&format!("{p}target_system"), target)?;
    name(&format!("{p}source"), source)?;
    time(&format!("{p}timestamp"), ts)
}

pub(super) fn approval(p: &str, a: &Approval) -> R {
    head(p, &a.proposal_id, &a.target_system, &a.source, a.timestamp)?;
    count(
        &format!("{p}approved_changes"),
        a.approved_changes.len(),
        MAX_PARAMETERS,
    )?;
    count(
        &format!("{p}rejected_changes"),
        a.rejected_changes.len(),
        MAX_PARAMETERS,
    )?;
    for (i, c) in a.approved_changes.iter().enumerate() {
        let f = format!("{p}approved_changes[{i}]");
        name(&format!("{f}.parameter"), &c.parameter)?;
        value(&format!("{f}.approved_value"), &c.approved_value)?;
        let rate = c.max_change_rate;
        finite(&format!("{f}.max_change_rate"), rate)?;
        if rate < 0.0 {
            return Err(CodecError::invalid(
                format!("{f}.max_change_rate"),
                "is negative",
            ));
        }
    }
    for (i, c) in a.rejected_changes.iter().enumerate() {
        let f = format!("{p}rejected_changes[{i}]");
        name(&format!("{f}.parameter"), &c.parameter)?;
        text(&format!("{f}.reason"), &c.reason)?;
        if let Some(n) = &c.constraint_violated {
            name(&format!("{f}.constraint_violated"), n)?;
        }
        if c.allowed.as_ref().is_some_and(|a| !a.is_finite()) {
            return Err(CodecError::NonFinite {
                field: format!("{f}.allowed"),
            });
        }
    }
    let (ok, bad) = (
        !a.approved_changes.is_empty(),
        !a.rejected_changes.is_empty(),
    );
    let consistent = match a.decision {
        Decision::Approved => ok && !bad,
        Decision::PartiallyApproved => ok && bad,
        Decision::Rejected => !ok && bad,
        Decision::PendingApproval => true,
    };
    if !consistent {
        return Err(CodecError::invalid(
            format!("{p}decision"),
            "does not match approved_changes/rejected_changes",
        ));
    }
    Ok(())
}

pub(super) fn status(p: &str, s: &Status) -> R {
    head(p, &s.proposal_id, &s.target_system, &s.source, s.timestamp)?;
    if s.progress.rollout_percentage > 100 {
        return Err(CodecError::invalid(
            format!("{p}progress.rollout_percentage"),
            "over 100",
        ));
    }
    impact(&format!("{p}observed_impact"), &s.observed_impact)
}

fn rollback(p: &str, b: &Rollback) -> R {
    head(p, &b.proposal_id, &b.target_system, &b.source, b.timestamp)?;
    if let Some(c) = &b.triggered_constraint {
        name(&format!("{p}triggered_constraint"), c)?;
    }
    if let Some(v) = b.triggered_value {
        finite(&format!("{p}triggered_value"), v)?;
    }
    if let Some(v) = b.allowed_value {
        finite(&format!("{p}allowed_value"), v)?;
    }
    let f = format!("{p}parameters_to_restore");
    count(&f, b.parameters_to_restore.len(), MAX_PARAMETERS)?;
    for (k, v) in &b.parameters_to_restore {
        let f = format!("{f}.{}", quote_key(k));
        name(&f, k)?;
        value(&f, v)?;
    }
    Ok(())
}

pub(super) fn impact(f: &str, m: &std::collections::BTreeMap<String, f64>) -> R {
    count(f, m.len(), MAX_METRICS)?;
    for (k, v) in m {
        let f = format!("{f}.{}", quote_key(k));
        name(&f, k)?;
        finite(&f, *v)?;
    }
    Ok(())
}

pub(super) fn value(f: &str, v: &ParamValue) -> R {
    match v {
        ParamValue::Float(x) => finite(f, *x),
        ParamValue::Enum(s) => label(f, s),
        _ => Ok(()),
    }
}

pub(super) fn finite(f: &str, v: f64) -> R {
    if v.is_finite() {
        Ok(())
    } else {
        Err(CodecError::NonFinite { field: f.into() })
    }
}

fn unit(f: &str, v: f64) -> R {
    finite(f, v)?;
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(CodecError::invalid(f, "outside [0, 1]"))
    }
}

pub(super) fn time(f: &str, t: UnixMillis) -> R {
    if t.is_valid() {
        Ok(())
    } else {
        Err(CodecError::invalid(f, "timestamp outside 1970..=9999"))
    }
}

pub(super) fn count(f: &str, n: usize, max: usize) -> R {
    if n <= max {
        Ok(())
    } else {
        Err(CodecError::invalid(f, format!("{n} entries, limit {max}")))
    }
}

/// Names: 1..=128 bytes of ASCII letters, digits and `_ - . : /`.
pub fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_NAME_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:/".contains(&b))
}

pub(super) fn name(f: &str, s: &str) -> R {
    if is_name(s) {
        Ok(())
    } else {
        Err(CodecError::invalid(
            f,
            "not a name (1-128 bytes of A-Z a-z 0-9 _ - . : /)",
        ))
    }
}

/// Labels (context fields, enum values): 1..=128 bytes, no control chars.
pub(super) fn label(f: &str, s: &str) -> R {
    if s.is_empty() || s.len() > MAX_NAME_LEN || s.chars().any(char::is_control) {
        return Err(CodecError::invalid(
            f,
            "not a label (1-128 bytes, no control characters)",
        ));
    }
    Ok(())
}

/// Free text: at most 1024 bytes, no control characters but newline/tab.
pub(super) fn text(f: &str, s: &str) -> R {
    text_up_to(f, s, MAX_TEXT_LEN)
}

/// Text of at most `max` bytes, no control characters but newline/tab.
pub(super) fn text_up_to(f: &str, s: &str, max: usize) -> R {
    if s.len() > max || s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(CodecError::invalid(
            f,
            format!("not text (at most {max} bytes, no control characters)"),
        ));
    }
    Ok(())
}
