//! Decoding with bounded memory: every sequence's and map's element count
//! is checked as decoding reaches it, and the memory the decoded value
//! takes is charged, as it is built, against a per-frame budget.
//!
//! bincode's serde reader trusts a sequence's length and checks counts
//! only after a full decode; a small compressed frame of tiny elements
//! could otherwise become a large heap. Here the decoder is wrapped (see
//! `wrap`): a sequence or map announcing more than [`MAX_ELEMENTS`]
//! elements is refused before its first element, strings are borrowed
//! from the input before they are copied (a lying length allocates
//! nothing), and each element, map entry and string charges its
//! in-memory size. The first bound crossed stops decoding with a typed
//! error naming the field. Exact per-field counts are `validate`'s.

mod wrap;

use std::cell::{Cell, RefCell};

use serde::de::DeserializeOwned;

use super::error::CodecError;
use super::limits::{MAX_BODY_LEN, MAX_ELEMENTS};

/// One step of the path to the value being decoded.
#[derive(Debug, Clone, Copy)]
enum Step {
    Field(&'static str),
    Index(usize),
}

/// The decoding state of one frame: what is left of its memory budget,
/// where decoding is, and the first bound crossed.
pub(crate) struct Budget {
    limit: usize,
    used: Cell<usize>,
    path: RefCell<Vec<Step>>,
    failure: RefCell<Option<CodecError>>,
}

impl Budget {
    fn new(limit: usize) -> Self {
        Budget {
            limit,
            used: Cell::new(0),
            path: RefCell::default(),
            failure: RefCell::default(),
        }
    }

    /// Charges `bytes` of decoded memory; false once over the budget.
    fn charge(&self, bytes: usize) -> bool {
        let used = self.used.get().saturating_add(bytes);
        self.used.set(used);
        if used > self.limit {
            self.fail(CodecError::DecodedTooLarge {
                len: used,
                limit: self.limit,
            });
            return false;
        }
        true
    }

    /// Whether a container of `count` elements may be decoded here.
    fn admit(&self, count: usize) -> bool {
        if count > MAX_ELEMENTS {
            let field = self.field();
            self.fail(CodecError::invalid(
                field,
                format!("{count} elements, no sequence may hold more than {MAX_ELEMENTS}"),
            ));
            return false;
        }
        true
    }

    fn fail(&self, error: CodecError) {
        let mut failure = self.failure.borrow_mut();
        if failure.is_none() {
            *failure = Some(error);
        }
    }

    fn push(&self, step: Step) {
        self.path.borrow_mut().push(step);
    }

    fn pop(&self) {
        self.path.borrow_mut().pop();
    }

    /// The path decoding is at, as `validate` writes it:
    /// `samples[3].metrics`.
    fn field(&self) -> String {
        let mut out = String::new();
        for step in self.path.borrow().iter() {
            match step {
                Step::Field(name) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(name);
                }
                Step::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        if out.is_empty() {
            out.push_str("body");
        }
        out
    }
}

/// Decodes one `T` from the start of `bytes` (bincode 2, standard
/// configuration) within `budget` bytes of decoded memory; returns it and
/// how many bytes it used.
pub(crate) fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    budget: usize,
) -> Result<(T, usize), CodecError> {
    let budget = Budget::new(budget);
    let config = bincode::config::standard().with_limit::<MAX_BODY_LEN>();
    let result = bincode::serde::seed_decode_from_slice(wrap::top::<T>(&budget), bytes, config);
    match (result, budget.failure.into_inner()) {
        (_, Some(failure)) => Err(failure),
        (Ok(decoded), None) => Ok(decoded),
        (Err(e), None) => Err(CodecError::Body {
            offset: 0,
            reason: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Cohort, TelemetryBatch, TelemetryContext, TelemetrySample};
    use crate::UnixMillis;
    use std::collections::BTreeMap;

    fn sample(metrics: usize) -> TelemetrySample {
        TelemetrySample {
            timestamp: UnixMillis(1),
            source: "s".into(),
            target_system: "t".into(),
            metrics: (0..metrics).map(|i| (format!("m{i}"), 1.0)).collect(),
            parameters: BTreeMap::new(),
            context: TelemetryContext {
                request_class: Some("c".into()),
                hardware: None,
                load_factor: None,
            },
            cohort: Cohort::Candidate,
        }
    }

    fn encoded(batch: &TelemetryBatch) -> Vec<u8> {
        crate::codec::bincode_encode(batch).expect("encodes")
    }

    #[test]
    fn a_value_within_the_bounds_decodes_as_plain_bincode_would() {
        let batch = TelemetryBatch {
            samples: vec![sample(3); 10],
        };
        let bytes = encoded(&batch);
        let (back, used) = decode::<TelemetryBatch>(&bytes, 1 << 20).expect("decodes");
        assert_eq!((back, used), (batch, bytes.len()));
    }

    #[test]
    fn a_sequence_announcing_too_many_elements_is_refused_by_path() {
        let batch = TelemetryBatch {
            samples: vec![sample(0), sample(MAX_ELEMENTS + 1)],
        };
        let err = decode::<TelemetryBatch>(&encoded(&batch), usize::MAX).unwrap_err();
        assert!(
            matches!(&err, CodecError::Invalid { field, .. } if field == "samples[1].metrics"),
            "{err:?}"
        );
        let many = TelemetryBatch {
            samples: vec![sample(0); MAX_ELEMENTS + 1],
        };
        let err = decode::<TelemetryBatch>(&encoded(&many), usize::MAX).unwrap_err();
        assert!(
            matches!(&err, CodecError::Invalid { field, .. } if field == "samples"),
            "{err:?}"
        );
    }

    #[test]
    fn decoded_memory_over_the_budget_is_refused_as_too_large() {
        let batch = TelemetryBatch {
            samples: vec![sample(8); 64],
        };
        let bytes = encoded(&batch);
        let err = decode::<TelemetryBatch>(&bytes, 4096).unwrap_err();
        assert!(
            matches!(err, CodecError::DecodedTooLarge { limit: 4096, len } if len > 4096),
            "{err:?}"
        );
        assert!(decode::<TelemetryBatch>(&bytes, 1 << 20).is_ok());
    }

    #[test]
    fn a_string_claiming_more_bytes_than_the_input_holds_fails_cleanly() {
        let mut bytes = vec![1u8]; // one sample
        bytes.push(2); // timestamp
        bytes.push(0xfc);
        bytes.extend(((15u32) << 20).to_le_bytes()); // source: 15 MiB claimed
        bytes.extend(b"abc");
        let err = decode::<TelemetryBatch>(&bytes, usize::MAX).unwrap_err();
        assert!(matches!(err, CodecError::Body { .. }), "{err:?}");
    }
}

#[cfg(test)]
mod spec_figures {
    use super::*;
    use crate::message::{
        Cohort, ProposedChange, TelemetryBatch, TelemetryContext, TelemetrySample,
    };
    use arqonbus_core::value::ParamValue;

    /// What decoding `value` charges, on an unlimited budget.
    fn charged<T: serde::Serialize + DeserializeOwned>(value: &T) -> (usize, usize) {
        let bytes = crate::codec::bincode_encode(value).expect("encodes");
        let budget = Budget::new(usize::MAX);
        let config = bincode::config::standard().with_limit::<MAX_BODY_LEN>();
        bincode::serde::seed_decode_from_slice(wrap::top::<T>(&budget), &bytes, config)
            .expect("decodes");
        (bytes.len(), budget.used.get())
    }

    #[test]
    fn the_sizes_protocol_md_quotes_hold() {
        assert!(std::mem::size_of::<TelemetrySample>() <= 200);
        assert!(std::mem::size_of::<ProposedChange>() <= 112);
        let name = |p: &str, i: usize| format!("{p}{i:09}");
        let sample = TelemetrySample {
            timestamp: crate::UnixMillis(1_705_314_600_000),
            source: "arqonhpo-host-123".into(),
            target_system: "ml-inference-service".into(),
            metrics: (0..8).map(|i| (name("metric", i), 1.5)).collect(),
            parameters: (0..4)
                .map(|i| (name("param", i), ParamValue::Int(32)))
                .collect(),
            context: TelemetryContext {
                request_class: Some("chat".into()),
                hardware: Some("a100".into()),
                load_factor: Some(0.85),
            },
            cohort: Cohort::Candidate,
        };
        let batch = TelemetryBatch {
            samples: vec![sample; 1024],
        };
        let (wire, cost) = charged(&batch);
        assert!(wire < 400 * 1024, "{wire}");
        assert!(cost < 5 * (1 << 20) / 2, "about 2.3 MiB, not {cost}");
        let limit = crate::limits::max_decoded_len(crate::msg_type::TELEMETRY_BATCH);
        assert!(cost < limit / 4);
    }
}
