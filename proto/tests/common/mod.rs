//! Shared by the protocol property tests: proptest strategies (names, free
//! text, labels, finite floats, timestamps, parameter values and sets) and
//! the round-trip check every valid message must pass.

#![allow(dead_code)]

use arqonbus_core::value::ParamValue;
use arqonbus_proto::codec::{decode, encode, Message};
use arqonbus_proto::json::JsonFrame;
use arqonbus_proto::limits::MAX_TIMESTAMP_MS;
use arqonbus_proto::message::Parameters;
use arqonbus_proto::UnixMillis;
use proptest::prelude::*;

pub fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_.:/-]{0,24}"
}

pub fn text() -> impl Strategy<Value = String> {
    "[ -~]{0,40}"
}

pub fn label() -> impl Strategy<Value = String> {
    "[A-Za-z0-9 é]{1,20}"
}

pub fn finite() -> impl Strategy<Value = f64> {
    any::<f64>().prop_filter("finite", |v| v.is_finite())
}

pub fn time() -> impl Strategy<Value = UnixMillis> {
    (0..=MAX_TIMESTAMP_MS).prop_map(UnixMillis)
}

pub fn value() -> impl Strategy<Value = ParamValue> {
    prop_oneof![
        any::<i64>().prop_map(ParamValue::Int),
        finite().prop_map(ParamValue::Float),
        label().prop_map(ParamValue::Enum),
        any::<bool>().prop_map(ParamValue::Bool),
    ]
}

/// Between `min` and 5 named values.
pub fn params(min: usize) -> impl Strategy<Value = Parameters> {
    prop::collection::btree_map(name(), value(), min..6)
}

/// `msg` survives bytes and the JSON view unchanged, and re-encodes to the
/// same bytes.
pub fn round_trips(msg: &Message) -> Result<(), TestCaseError> {
    let bytes = encode(msg).unwrap();
    prop_assert_eq!(&decode(&bytes).unwrap(), msg);
    let text = serde_json::to_string(&JsonFrame::from_wire(msg).unwrap()).unwrap();
    let back: JsonFrame = serde_json::from_str(&text).unwrap();
    let again = back.to_wire().unwrap();
    prop_assert_eq!(&again, msg);
    prop_assert_eq!(encode(&again).unwrap(), bytes);
    Ok(())
}
