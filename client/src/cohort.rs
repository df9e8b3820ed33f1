//! Which cohort a request belongs to under an assignment (PROTOCOL.md
//! §6.15, "Splitting traffic into cohorts"), and which parameters it runs.
//!
//! A request key (a user id, a session id, anything stable per caller) is
//! hashed with **FNV-1a 64** (offset basis `0xcbf29ce484222325`, prime
//! `0x100000001b3`, over the key's bytes as given: UTF-8 for a string) and
//! mapped to a bucket `hash % 10000`. The request is a *candidate* when
//! `bucket < share * 100`, else *baseline*. The hash is fixed and
//! platform-independent (never std's randomly keyed `RandomState`), so
//! every agent, in any language, splits a key identically; and since the
//! threshold only grows with the share, a key that is a candidate at 5%
//! stays one at 25%, 50% and 100% (the split is monotone).
//!
//! [`Assignment`] is a wire type; [`CohortSplit`] adds the split to it.

use arqonbus_proto::message::{Cohort, Parameters, TelemetrySample};
use arqonbus_proto::rollout::{Assignment, TaggedSample};

/// Buckets a key is mapped to: one per 0.01% of traffic.
pub const BUCKETS: u64 = 10_000;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a, 64 bits, of `bytes`.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_OFFSET, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(FNV_PRIME)
    })
}

/// The bucket of a request key, `0..10000`.
pub fn bucket_of(key: &[u8]) -> u16 {
    // Below 10000, so it fits.
    (fnv1a64(key) % BUCKETS) as u16
}

/// The cohort of a key under a candidate share (percent, 0..=100).
pub fn cohort_at(share: u8, key: &[u8]) -> Cohort {
    if u64::from(bucket_of(key)) < u64::from(share.min(100)) * 100 {
        Cohort::Candidate
    } else {
        Cohort::Baseline
    }
}

/// The traffic split of an [`Assignment`].
pub trait CohortSplit {
    /// The cohort of a request: candidate when its key's bucket is below
    /// `share * 100`; always baseline when there is no candidate (steady)
    /// or the share is 0 (shadow).
    fn cohort_for(&self, request_key: impl AsRef<[u8]>) -> Cohort;

    /// The parameters a cohort runs: the candidate's for
    /// [`Cohort::Candidate`] when there is one, the baseline otherwise.
    fn parameters_for(&self, cohort: Cohort) -> &Parameters;

    /// `sample` tagged with this assignment's epoch, for
    /// `tagged_telemetry`; its own `cohort` says which side it measured.
    fn tag(&self, sample: TelemetrySample) -> TaggedSample;
}

impl CohortSplit for Assignment {
    fn cohort_for(&self, request_key: impl AsRef<[u8]>) -> Cohort {
        match self.candidate {
            Some(_) => cohort_at(self.share, request_key.as_ref()),
            None => Cohort::Baseline,
        }
    }

    fn parameters_for(&self, cohort: Cohort) -> &Parameters {
        match (cohort, &self.candidate) {
            (Cohort::Candidate, Some(c)) => c,
            _ => &self.baseline,
        }
    }

    fn tag(&self, sample: TelemetrySample) -> TaggedSample {
        TaggedSample {
            epoch: self.epoch,
            sample,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arqonbus_core::ParamValue;
    use arqonbus_proto::rollout::STEADY;
    use std::collections::BTreeMap;

    fn assignment(share: u8) -> Assignment {
        let params = |v: i64| BTreeMap::from([("batch_size".to_string(), ParamValue::Int(v))]);
        Assignment {
            target_system: "svc".into(),
            epoch: 7,
            proposal_id: Some("p1".into()),
            phase: "canary".into(),
            share,
            baseline: params(32),
            candidate: Some(params(34)),
        }
    }

    /// The vectors PROTOCOL.md §6.15 gives other-language agents.
    #[test]
    fn the_hash_matches_the_published_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
        for (key, bucket) in VECTORS {
            assert_eq!(bucket_of(key.as_bytes()), *bucket, "{key}");
        }
    }

    pub(super) const VECTORS: &[(&str, u16)] = &[
        ("", 6037),
        ("a", 1996),
        ("user-1", 708),
        ("user-42", 7419),
        ("session:9f86d081", 3837),
    ];

    #[test]
    fn a_key_keeps_its_cohort_and_only_joins_the_candidates_as_the_share_grows() {
        for i in 0..5_000 {
            let key = format!("user-{i}");
            let mut was_candidate = false;
            for share in 0..=100u8 {
                let a = assignment(share);
                let c = a.cohort_for(&key);
                assert_eq!(c, a.cohort_for(key.as_bytes()), "stable for {key}");
                let candidate = c == Cohort::Candidate;
                assert!(
                    !was_candidate || candidate,
                    "{key} left the candidates at {share}%"
                );
                was_candidate = candidate;
            }
            assert!(was_candidate, "{key} is a candidate at 100%");
        }
    }

    #[test]
    fn the_candidate_proportion_is_the_share_within_tolerance() {
        for share in [1u8, 5, 25, 50, 75, 99] {
            let a = assignment(share);
            let n = 100_000;
            let candidates = (0..n)
                .filter(|i| a.cohort_for(format!("request-{i}")) == Cohort::Candidate)
                .count();
            let got = candidates as f64 / n as f64;
            let want = f64::from(share) / 100.0;
            assert!((got - want).abs() < 0.01, "share {share}%: {got}");
        }
    }

    #[test]
    fn shadow_and_steady_run_everyone_on_the_baseline() {
        let shadow = assignment(0);
        let steady = Assignment {
            proposal_id: None,
            phase: STEADY.into(),
            candidate: None,
            ..assignment(0)
        };
        for i in 0..1000 {
            let key = format!("k{i}");
            assert_eq!(shadow.cohort_for(&key), Cohort::Baseline);
            assert_eq!(steady.cohort_for(&key), Cohort::Baseline);
        }
        assert_eq!(shadow.parameters_for(Cohort::Baseline), &shadow.baseline);
        assert_eq!(
            Some(shadow.parameters_for(Cohort::Candidate)),
            shadow.candidate.as_ref()
        );
        assert_eq!(steady.parameters_for(Cohort::Candidate), &steady.baseline);
    }
}
