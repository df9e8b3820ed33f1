//! Checks on `operate` (0x10) and `operated` (0x90), in the style of
//! `validate`: names, counts, finite numbers, text lengths, node ids and
//! membership lists. Whether a constraint set is consistent (min <= max,
//! default inside, enum default listed) is the state machine's question: it
//! answers `refused` with every problem, which a codec error could not.

use std::collections::BTreeSet;

use super::error::CodecError;
use super::limits::*;
use super::message::Parameters;
use super::operator::{Member, NodeStatus, OperatorReply, OperatorRequest, ProposalSummary};
use super::validate::{
    approval, count, finite, label, name, status, text, text_up_to, time, value,
};
use super::UnixMillis;
use arqonbus_core::audit::AuditEntry;
use arqonbus_core::constraints::{ConstraintSet, ParamConstraint, Violation};
use arqonbus_core::seal::{KEY_LEN, SIGNATURE_LEN};

type R = Result<(), CodecError>;

pub(super) fn request(r: &OperatorRequest) -> R {
    match r {
        OperatorRequest::SetConstraints {
            target_system,
            constraints: c,
        } => {
            name("target_system", target_system)?;
            constraints("constraints", c)
        }
        OperatorRequest::GetConstraints { target_system, .. }
        | OperatorRequest::GetParameters { target_system, .. } => {
            name("target_system", target_system)
        }
        OperatorRequest::SetParameters {
            target_system,
            values,
            expected,
        } => {
            name("target_system", target_system)?;
            params("values", values)?;
            if values.is_empty() {
                return Err(CodecError::invalid("values", "empty"));
            }
            match expected {
                Some(e) => params("expected", e),
                None => Ok(()),
            }
        }
        OperatorRequest::AuditRange { limit, .. } => {
            if *limit == 0 {
                return Err(CodecError::invalid("limit", "zero"));
            }
            Ok(())
        }
        OperatorRequest::NodeStatus => Ok(()),
        OperatorRequest::ClusterInit { members: m } => {
            if m.is_empty() {
                return Err(CodecError::invalid("members", "empty"));
            }
            members("members", m, &mut Seen::default())
        }
        OperatorRequest::AddNode { member: m } => member("member", m),
        OperatorRequest::RemoveNode { node_id } => id("node_id", *node_id),
        OperatorRequest::ListProposals {
            target_system,
            limit,
            ..
        } => {
            if let Some(t) = target_system {
                name("target_system", t)?;
            }
            if *limit == 0 {
                return Err(CodecError::invalid("limit", "zero"));
            }
            Ok(())
        }
        OperatorRequest::ShowProposal { proposal_id, .. } => name("proposal_id", proposal_id),
    }
}

pub(super) fn reply(r: &OperatorReply) -> R {
    match r {
        OperatorReply::Constraints {
            target_system,
            constraints: c,
            ..
        } => {
            name("target_system", target_system)?;
            constraints("constraints", c)
        }
        OperatorReply::ConstraintsSet {
            target_system,
            out_of_bounds,
            ..
        } => {
            name("target_system", target_system)?;
            count("out_of_bounds", out_of_bounds.len(), MAX_PARAMETERS)?;
            for (i, p) in out_of_bounds.iter().enumerate() {
                name(&format!("out_of_bounds[{i}]"), p)?;
            }
            Ok(())
        }
        OperatorReply::Parameters {
            target_system,
            live,
            last_known_good,
        } => {
            name("target_system", target_system)?;
            params("live", live)?;
            params("last_known_good", last_known_good)
        }
        OperatorReply::ParametersSet {
            target_system,
            values,
        } => {
            name("target_system", target_system)?;
            params("values", values)
        }
        OperatorReply::Refused { reason, violations } => {
            text("reason", reason)?;
            count("violations", violations.len(), MAX_PARAMETERS)?;
            for (i, v) in violations.iter().enumerate() {
                violation(&format!("violations[{i}]"), v)?;
            }
            Ok(())
        }
        OperatorReply::AuditEntries {
            entries,
            head_index,
        } => {
            count("entries", entries.len(), MAX_AUDIT_ENTRIES)?;
            let mut prev: Option<u64> = None;
            for (i, e) in entries.iter().enumerate() {
                let f = format!("entries[{i}]");
                audit_entry(&f, e)?;
                if e.index > *head_index {
                    return Err(CodecError::invalid(
                        format!("{f}.index"),
                        "beyond head_index",
                    ));
                }
                if prev.is_some_and(|p| p.checked_add(1) != Some(e.index)) {
                    return Err(CodecError::invalid(
                        format!("{f}.index"),
                        "does not follow the previous entry's",
                    ));
                }
                prev = Some(e.index);
            }
            Ok(())
        }
        OperatorReply::NodeStatus(s) => node_status(s),
        OperatorReply::Done { message } => text("message", message),
        OperatorReply::Proposals { proposals } => {
            count("proposals", proposals.len(), MAX_LISTED_PROPOSALS)?;
            for (i, p) in proposals.iter().enumerate() {
                summary(&format!("proposals[{i}]"), p)?;
            }
            Ok(())
        }
        OperatorReply::Proposal {
            approval: a,
            status: s,
        } => {
            approval("approval.", a)?;
            status("status.", s)?;
            if (&a.proposal_id, &a.target_system) != (&s.proposal_id, &s.target_system) {
                return Err(CodecError::invalid(
                    "status.proposal_id",
                    "differs from the approval's",
                ));
            }
            Ok(())
        }
    }
}

fn summary(f: &str, p: &ProposalSummary) -> R {
    name(&format!("{f}.proposal_id"), &p.proposal_id)?;
    name(&format!("{f}.target_system"), &p.target_system)?;
    time(&format!("{f}.timestamp"), p.timestamp)?;
    let (ok, bad) = (p.approved > 0, p.rejected > 0);
    let max = MAX_PARAMETERS as u32;
    if p.approved > max || p.rejected > max {
        return Err(CodecError::invalid(
            format!("{f}.approved"),
            format!("more than {max} changes"),
        ));
    }
    use super::reply::Decision as D;
    let consistent = match p.decision {
        D::Approved => ok && !bad,
        D::PartiallyApproved => ok && bad,
        D::Rejected => !ok && bad,
        D::PendingApproval => true,
    };
    if !consistent {
        return Err(CodecError::invalid(
            format!("{f}.decision"),
            "inconsistent with the counts of approved and rejected changes",
        ));
    }
    Ok(())
}

fn constraints(p: &str, c: &ConstraintSet) -> R {
    let f = format!("{p}.parameters");
    count(&f, c.parameters.len(), MAX_PARAMETERS)?;
    for (k, v) in &c.parameters {
        let f = format!("{f}.{}", quote_key(k));
        name(&f, k)?;
        match v {
            ParamConstraint::Int { .. } | ParamConstraint::Bool { .. } => {}
            ParamConstraint::Float { min, max, default } => {
                finite(&format!("{f}.min"), *min)?;
                finite(&format!("{f}.max"), *max)?;
                finite(&format!("{f}.default"), *default)?;
            }
            ParamConstraint::Enum { values, default } => {
                count(&format!("{f}.values"), values.len(), MAX_ENUM_VALUES)?;
                for (i, s) in values.iter().enumerate() {
                    label(&format!("{f}.values[{i}]"), s)?;
                }
                label(&format!("{f}.default"), default)?;
            }
        }
    }
    Ok(())
}

fn params(f: &str, p: &Parameters) -> R {
    count(f, p.len(), MAX_PARAMETERS)?;
    for (k, v) in p {
        let f = format!("{f}.{}", quote_key(k));
        name(&f, k)?;
        value(&f, v)?;
    }
    Ok(())
}

/// A violation's `constraint` is `<check>_<parameter>` (up to 7 bytes
/// longer than a name may be) or `unknown_parameter`, hence text; the
/// state machine builds its `reason`.
fn violation(f: &str, v: &Violation) -> R {
    name(&format!("{f}.parameter"), &v.parameter)?;
    let c = format!("{f}.constraint");
    text(&c, &v.constraint)?;
    if v.constraint.is_empty() {
        return Err(CodecError::invalid(c, "empty"));
    }
    text(&format!("{f}.reason"), &v.reason)
}

fn audit_entry(f: &str, e: &AuditEntry) -> R {
    id(&format!("{f}.index"), e.index)?;
    let at = i64::try_from(e.at_ms).unwrap_or(i64::MAX);
    time(&format!("{f}.at_ms"), UnixMillis(at))?;
    text(&format!("{f}.actor"), &e.actor)?;
    name(&format!("{f}.action"), &e.action)?;
    if !e.target.is_empty() {
        name(&format!("{f}.target"), &e.target)?;
    }
    text_up_to(&format!("{f}.details"), &e.details, MAX_AUDIT_DETAILS_LEN)?;
    let Some(seal) = &e.seal else {
        return Ok(());
    };
    // An Ed25519 key and signature; the bytes signed are a request's
    // body and its prefix, within the request body limit.
    let sizes = [
        ("key", seal.key.len(), KEY_LEN, KEY_LEN),
        (
            "signature",
            seal.signature.len(),
            SIGNATURE_LEN,
            SIGNATURE_LEN,
        ),
        ("signed", seal.signed.len(), 1, MAX_REQUEST_BODY_LEN + 64),
    ];
    for (field, len, min, max) in sizes {
        if len < min || len > max {
            return Err(CodecError::invalid(
                format!("{f}.seal.{field}"),
                format!("{len} bytes, expected {min}..={max}"),
            ));
        }
    }
    Ok(())
}

fn node_status(s: &NodeStatus) -> R {
    id("node_id", s.node_id)?;
    addr("advertise", &s.advertise)?;
    if let Some(l) = s.leader_id {
        id("leader_id", l)?;
    }
    let mut seen = Seen::default();
    members("voters", &s.voters, &mut seen)?;
    members("learners", &s.learners, &mut seen)
}

/// Ids and addresses already listed, across the lists of one message.
#[derive(Default)]
struct Seen<'a> {
    ids: BTreeSet<u64>,
    addrs: BTreeSet<&'a str>,
}

fn members<'a>(f: &str, list: &'a [Member], seen: &mut Seen<'a>) -> R {
    count(f, list.len(), MAX_MEMBERS)?;
    for (i, m) in list.iter().enumerate() {
        let f = format!("{f}[{i}]");
        member(&f, m)?;
        if !seen.ids.insert(m.node_id) {
            return Err(CodecError::invalid(format!("{f}.node_id"), "listed twice"));
        }
        if !seen.addrs.insert(&m.addr) {
            return Err(CodecError::invalid(format!("{f}.addr"), "listed twice"));
        }
    }
    Ok(())
}

fn member(f: &str, m: &Member) -> R {
    id(&format!("{f}.node_id"), m.node_id)?;
    addr(&format!("{f}.addr"), &m.addr)
}

/// Raft node ids start at 1.
fn id(f: &str, v: u64) -> R {
    if v == 0 {
        return Err(CodecError::invalid(f, "zero (node ids start at 1)"));
    }
    Ok(())
}

/// `host:port`, at most 128 bytes: a host name or IPv4 address (`A-Z a-z
/// 0-9 - . _`) or an IPv6 address in brackets, then a port 1-65535 in
/// decimal without leading zeros.
pub(super) fn addr(f: &str, s: &str) -> R {
    let bad = || {
        CodecError::invalid(
            f,
            "not host:port (at most 128 bytes; host name, IPv4 or [IPv6]; port 1-65535)",
        )
    };
    if s.len() > MAX_NAME_LEN {
        return Err(bad());
    }
    let (host, port) = s.rsplit_once(':').ok_or_else(bad)?;
    let port_ok = !port.starts_with('0')
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u16>().is_ok_and(|p| p > 0);
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => {
            !v6.is_empty()
                && v6
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        }
        None => {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
        }
    };
    if port_ok && host_ok {
        Ok(())
    } else {
        Err(bad())
    }
}
