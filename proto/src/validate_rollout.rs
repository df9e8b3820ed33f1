//! Checks on the gradual-rollout messages (PROTOCOL.md §6.15):
//! `watch_assignment`, `tagged_telemetry` and `rollout` requests,
//! `assignment` and `rollout_status` replies. Names are names, texts fit,
//! every `f64` is finite, shares are percentages, counts are within
//! `limits`, and an assignment's shape is consistent (`steady` exactly when
//! no rollout is active). Errors name the field by path, like `validate`.

use super::error::CodecError;
use super::limits::{quote_key, MAX_METRICS, MAX_PARAMETERS, MAX_RECENT, MAX_SAMPLES_PER_BATCH};
use super::message::{Parameters, Request};
use super::rollout::{
    Assignment, MetricVerdictView, RecentRollback, RolloutRequest, RolloutStatus, RolloutView,
    VerdictView, STEADY,
};
use super::validate::{count, finite, impact, label, name, sample, text, time, value};

type R = Result<(), CodecError>;

pub(crate) fn request(req: &Request) -> R {
    match req {
        Request::WatchAssignment(w) => name("target_system", &w.target_system),
        Request::TaggedTelemetry(t) => {
            count("samples", t.samples.len(), MAX_SAMPLES_PER_BATCH)?;
            for (i, s) in t.samples.iter().enumerate() {
                sample(&format!("samples[{i}].sample"), &s.sample)?;
            }
            Ok(())
        }
        Request::Rollout(r) => {
            name("target_system", r.target_system())?;
            match r {
                RolloutRequest::Status { .. } => Ok(()),
                RolloutRequest::Pause { reason, .. }
                | RolloutRequest::Resume { reason, .. }
                | RolloutRequest::Promote { reason, .. } => text("reason", reason),
            }
        }
        _ => Ok(()),
    }
}

fn share(f: &str, v: u8) -> R {
    match v <= 100 {
        true => Ok(()),
        false => Err(CodecError::invalid(f, format!("{v} is over 100 (percent)"))),
    }
}

fn parameters(f: &str, p: &Parameters) -> R {
    count(f, p.len(), MAX_PARAMETERS)?;
    for (k, v) in p {
        let f = format!("{f}.{}", quote_key(k));
        name(&f, k)?;
        value(&f, v)?;
    }
    Ok(())
}

fn some_finite(f: &str, v: Option<f64>) -> R {
    v.map_or(Ok(()), |v| finite(f, v))
}

pub(crate) fn assignment(a: &Assignment) -> R {
    name("target_system", &a.target_system)?;
    if let Some(id) = &a.proposal_id {
        name("proposal_id", id)?;
    }
    label("phase", &a.phase)?;
    share("share", a.share)?;
    parameters("baseline", &a.baseline)?;
    if let Some(c) = &a.candidate {
        parameters("candidate", c)?;
    }
    match (&a.proposal_id, &a.candidate) {
        (Some(_), None) => Err(CodecError::invalid(
            "candidate",
            "missing while a rollout is active (proposal_id is set)",
        )),
        (None, Some(_)) => Err(CodecError::invalid(
            "candidate",
            "present while no rollout is active (proposal_id is none)",
        )),
        (None, None) if a.phase != STEADY => Err(CodecError::invalid(
            "phase",
            format!("is not `{STEADY}` while no rollout is active"),
        )),
        (None, None) if a.share != 0 => Err(CodecError::invalid(
            "share",
            "is not 0 while no rollout is active",
        )),
        (Some(_), Some(_)) if a.phase == STEADY => Err(CodecError::invalid(
            "phase",
            format!("is `{STEADY}` while a rollout is active"),
        )),
        _ => Ok(()),
    }
}

pub(crate) fn rollout_status(s: &RolloutStatus) -> R {
    name("target_system", &s.target_system)?;
    if let Some(r) = &s.rollout {
        rollout_view("rollout", r)?;
    }
    count("recent_rollbacks", s.recent_rollbacks.len(), MAX_RECENT)?;
    for (i, b) in s.recent_rollbacks.iter().enumerate() {
        recent_rollback(&format!("recent_rollbacks[{i}]"), b)?;
    }
    count("recent_verdicts", s.recent_verdicts.len(), MAX_RECENT)?;
    for (i, v) in s.recent_verdicts.iter().enumerate() {
        verdict(&format!("recent_verdicts[{i}]"), v)?;
    }
    Ok(())
}

fn rollout_view(p: &str, r: &RolloutView) -> R {
    name(&format!("{p}.proposal_id"), &r.proposal_id)?;
    label(&format!("{p}.phase"), &r.phase)?;
    if r.phase_index >= r.phases {
        return Err(CodecError::invalid(
            format!("{p}.phase_index"),
            format!("{} is not below phases ({})", r.phase_index, r.phases),
        ));
    }
    share(&format!("{p}.share"), r.share)?;
    time(&format!("{p}.phase_started_ms"), r.phase_started_ms)?;
    impact(&format!("{p}.observed_impact"), &r.observed_impact)
}

fn recent_rollback(p: &str, b: &RecentRollback) -> R {
    name(&format!("{p}.proposal_id"), &b.proposal_id)?;
    if let Some(c) = &b.triggered_constraint {
        name(&format!("{p}.triggered_constraint"), c)?;
    }
    time(&format!("{p}.at_ms"), b.at_ms)
}

fn verdict(p: &str, v: &VerdictView) -> R {
    name(&format!("{p}.proposal_id"), &v.proposal_id)?;
    text(&format!("{p}.reason"), &v.reason)?;
    time(&format!("{p}.at_ms"), v.at_ms)?;
    count(&format!("{p}.metrics"), v.metrics.len(), MAX_METRICS)?;
    for (i, m) in v.metrics.iter().enumerate() {
        metric_verdict(&format!("{p}.metrics[{i}]"), m)?;
    }
    Ok(())
}

fn metric_verdict(p: &str, m: &MetricVerdictView) -> R {
    name(&format!("{p}.metric"), &m.metric)?;
    text(&format!("{p}.reason"), &m.reason)?;
    some_finite(&format!("{p}.candidate_median"), m.candidate_median)?;
    some_finite(&format!("{p}.baseline_median"), m.baseline_median)?;
    some_finite(&format!("{p}.p_value"), m.p_value)?;
    some_finite(&format!("{p}.rank_biserial"), m.rank_biserial)
}
