//! Malformed `operate` (0x10) and `operated` (0x90) messages: each is
//! refused with the field that is wrong, by the encoder and by a decoder
//! of the same bytes framed without validation, as a hostile peer could.
//! Also the strictness of their JSON view.

use std::collections::BTreeMap;

use arqonbus_core::constraints::ParamConstraint;
use arqonbus_core::value::ParamValue;
use arqonbus_proto::codec::{decode, encode, Message};
use arqonbus_proto::error::CodecError;
use arqonbus_proto::frame;
use arqonbus_proto::json::JsonFrame;
use arqonbus_proto::limits::MAX_MEMBERS;
use arqonbus_proto::message::{Parameters, Request};
use arqonbus_proto::operator::*;
use arqonbus_proto::{vectors, Envelope, Reply, UnixMillis, FRAME_VERSION};

fn vector(name: &str) -> Message {
    vectors::catalogue()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, m)| m)
        .unwrap()
}

fn op(name: &str) -> (Envelope, OperatorRequest) {
    match vector(name) {
        Message::Request(e, Request::Operate(r)) => (e, r),
        _ => panic!("catalogue changed"),
    }
}

fn reply(name: &str) -> OperatorReply {
    match vector(name) {
        Message::Reply(Reply::Operated(r)) => r,
        _ => panic!("catalogue changed"),
    }
}

/// The field the encoder and a decoder of the raw (unvalidated) frame both
/// name; they must agree.
fn refused(m: &Message) -> String {
    let field = |e: CodecError| match e {
        CodecError::NonFinite { field } | CodecError::Invalid { field, .. } => field,
        other => panic!("expected a field error, got {other:?}"),
    };
    let raw = frame::assemble(
        FRAME_VERSION,
        m.msg_type(),
        &m.encode_body().unwrap(),
        false,
    )
    .unwrap();
    let by_decoder = field(decode(&raw).unwrap_err());
    assert_eq!(field(encode(m).unwrap_err()), by_decoder);
    by_decoder
}

fn req(e: &Envelope, r: OperatorRequest) -> Message {
    Message::Request(e.clone(), Request::Operate(r))
}

#[test]
fn nan_in_a_float_constraint() {
    let (e, mut r) = op("operate_set_constraints");
    let OperatorRequest::SetConstraints { constraints, .. } = &mut r else {
        panic!("catalogue changed")
    };
    constraints.parameters.insert(
        "temperature".into(),
        ParamConstraint::Float {
            min: 0.0,
            max: f64::NAN,
            default: 0.5,
        },
    );
    let m = req(&e, r);
    assert!(matches!(encode(&m), Err(CodecError::NonFinite { .. })));
    assert_eq!(refused(&m), "constraints.parameters.temperature.max");
}

#[test]
fn cluster_init_members() {
    let (e, r) = op("operate_cluster_init");
    let OperatorRequest::ClusterInit { members } = r else {
        panic!("catalogue changed")
    };
    let init = |members| req(&e, OperatorRequest::ClusterInit { members });

    assert_eq!(refused(&init(vec![])), "members");

    let many: Vec<Member> = (1..=MAX_MEMBERS as u64 + 1)
        .map(|node_id| Member {
            node_id,
            addr: format!("10.0.1.{node_id}:7400"),
        })
        .collect();
    assert_eq!(refused(&init(many.clone())), "members");
    assert!(encode(&init(many[..MAX_MEMBERS].to_vec())).is_ok());

    let mut dup = members.clone();
    dup[2].node_id = dup[0].node_id;
    assert_eq!(refused(&init(dup)), "members[2].node_id");

    let mut dup = members.clone();
    dup[1].addr = dup[0].addr.clone();
    assert_eq!(refused(&init(dup)), "members[1].addr");

    let mut zero = members.clone();
    zero[1].node_id = 0;
    assert_eq!(refused(&init(zero)), "members[1].node_id");

    for bad in [
        "10.0.0.9",
        "10.0.0.9:0",
        "10.0.0.9:07400",
        "10.0.0.9:65536",
        ":7400",
        "a b:1",
    ] {
        let mut m = members.clone();
        m[0].addr = bad.into();
        assert_eq!(refused(&init(m)), "members[0].addr", "{bad}");
    }
    let mut long = members;
    long[0].addr = format!("{}:7400", "h".repeat(124));
    assert_eq!(refused(&init(long)), "members[0].addr");
}

#[test]
fn requests_out_of_range() {
    let (e, _) = op("operate_audit_range");
    let m = req(
        &e,
        OperatorRequest::AuditRange {
            from_index: 1,
            limit: 0,
            stale: false,
        },
    );
    assert_eq!(refused(&m), "limit");
    assert_eq!(
        refused(&req(&e, OperatorRequest::RemoveNode { node_id: 0 })),
        "node_id"
    );
    let set = |values: Parameters| OperatorRequest::SetParameters {
        target_system: "ml-inference-service".into(),
        values,
        expected: None,
    };
    assert_eq!(refused(&req(&e, set(BTreeMap::new()))), "values");
    let nan = BTreeMap::from([("temperature".to_string(), ParamValue::Float(f64::NAN))]);
    assert_eq!(refused(&req(&e, set(nan))), "values.temperature");
    let get = OperatorRequest::GetParameters {
        target_system: "no spaces".into(),
        stale: true,
    };
    assert_eq!(refused(&req(&e, get)), "target_system");
}

#[test]
fn replies_out_of_range() {
    let audit = |head: u64, swap: bool| {
        let OperatorReply::AuditEntries { mut entries, .. } = reply("operated_audit_entries")
        else {
            panic!("catalogue changed")
        };
        if swap {
            entries.swap(0, 1);
        }
        Message::Reply(Reply::Operated(OperatorReply::AuditEntries {
            entries,
            head_index: head,
        }))
    };
    assert!(encode(&audit(4, false)).is_ok());
    assert_eq!(refused(&audit(3, false)), "entries[3].index");
    assert_eq!(refused(&audit(9, true)), "entries[1].index");
    // A seal's key is an Ed25519 key: 32 bytes.
    let Message::Reply(Reply::Operated(OperatorReply::AuditEntries { mut entries, .. })) =
        audit(4, false)
    else {
        panic!("catalogue changed")
    };
    if let Some(seal) = entries[3].seal.as_mut() {
        seal.key.pop();
    }
    let short_key = Message::Reply(Reply::Operated(OperatorReply::AuditEntries {
        entries,
        head_index: 4,
    }));
    assert_eq!(refused(&short_key), "entries[3].seal.key");

    let OperatorReply::NodeStatus(mut s) = reply("operated_node_status") else {
        panic!("catalogue changed")
    };
    s.learners[0].node_id = s.voters[0].node_id;
    let m = Message::Reply(Reply::Operated(OperatorReply::NodeStatus(s)));
    assert_eq!(refused(&m), "learners[0].node_id");

    let m = Message::Reply(Reply::Operated(OperatorReply::Done {
        message: "x".repeat(1025),
    }));
    assert_eq!(refused(&m), "message");
}

#[test]
fn json_view_is_strict() {
    let ok = r#"{"envelope":{"session":1,"seq":1,"sent_at":"2024-01-15T10:30:00Z"},
        "message":{"type":"operate","action":"get_parameters","target_system":"t"}}"#;
    let f: JsonFrame = serde_json::from_str(ok).unwrap();
    assert_eq!(
        f.to_wire().unwrap(),
        Message::Request(
            Envelope {
                session: 1,
                seq: 1,
                sent_at: UnixMillis(1_705_314_600_000),
                signature: None,
            },
            Request::Operate(OperatorRequest::GetParameters {
                target_system: "t".into(),
                stale: false,
            }),
        )
    );
    let unknown = ok.replace(r#""target_system":"t""#, r#""target_system":"t","x":1"#);
    assert!(serde_json::from_str::<JsonFrame>(&unknown).is_err());
    let bad_action = ok.replace("get_parameters", "drop_tables");
    assert!(serde_json::from_str::<JsonFrame>(&bad_action).is_err());

    let text = vectors::json_text(&vector("operated_audit_entries")).unwrap();
    let bad_hash = text.replacen("\"hash\": \"", "\"hash\": \"zz", 1);
    assert_ne!(bad_hash, text);
    let f: JsonFrame = serde_json::from_str(&bad_hash).unwrap();
    assert!(matches!(f.to_wire(), Err(CodecError::Invalid { ref field, .. }) if field == "hash"));
    let no_envelope = r#"{"message":{"type":"operate","action":"node_status"}}"#;
    let f: JsonFrame = serde_json::from_str(no_envelope).unwrap();
    assert!(f.to_wire().is_err());
}

#[test]
fn a_seals_signed_bytes_are_one_byte_string_not_a_sequence() {
    // The signed bytes of a constraint file run to kilobytes: more than
    // any sequence may announce, which a byte string is not.
    let OperatorReply::AuditEntries { mut entries, .. } = reply("operated_audit_entries") else {
        panic!("catalogue changed")
    };
    if let Some(seal) = entries[3].seal.as_mut() {
        seal.signed.resize(64 * 1024, b'x');
    }
    let m = Message::Reply(Reply::Operated(OperatorReply::AuditEntries {
        entries,
        head_index: 4,
    }));
    let bytes = encode(&m).expect("encodes");
    assert_eq!(decode(&bytes).expect("decodes"), m);
}
