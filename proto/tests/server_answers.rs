//! What a server answers to a frame it cannot take: `invalid_message`
//! naming the part that is wrong (`type` for a type code in the wrong
//! direction, `body` for a body that does not decode) with a plain,
//! stable reason, never Rust or bincode debug text.

use std::path::Path;

use arqonbus_proto::codec::{decode_reply, decode_request, msg_type};
use arqonbus_proto::error::{CodecError, ErrorCode};
use arqonbus_proto::vectors;

fn vector(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("vectors/{name}.bin"));
    std::fs::read(p).expect("a committed vector")
}

/// The `(field, reason)` of the `invalid_message` a server would send.
fn answer(frame: &[u8]) -> (String, String) {
    match decode_request(frame).map_err(|e| e.to_wire()) {
        Err(ErrorCode::InvalidMessage { field, reason }) => (field, reason),
        other => panic!("expected invalid_message, got {other:?}"),
    }
}

#[test]
fn a_reply_type_code_on_a_request_names_the_type() {
    // A status_query body sent under the error code 0x80: the type is
    // what is wrong, and the body is never read.
    let mut f = vector("status_query");
    f[6] = msg_type::ERROR;
    assert_eq!(
        answer(&f),
        (
            "type".into(),
            "message type 0x80 is a reply; a server takes requests (0x01-0x7f)".into()
        )
    );
    assert_eq!(
        decode_request(&vector("error_not_leader")),
        Err(CodecError::ReplyToServer(0x80))
    );
    assert_eq!(
        decode_reply(&vector("status_query")),
        Err(CodecError::RequestFromServer(0x04))
    );
}

#[test]
fn a_body_that_does_not_decode_names_the_body_and_where() {
    // operate / node_status: the last byte is the action's variant index.
    let mut f = vector("operate_node_status");
    let last = f.len() - 1;
    assert_eq!(f[last], 5, "node_status is action 5");
    f[last] = 11;
    let (field, reason) = answer(&f);
    assert_eq!(field, "body");
    assert_eq!(
        reason,
        format!(
            "body does not decode (stopped at byte {}): an enum's variant index is not one \
             this protocol version defines",
            last - 7 + 1
        )
    );

    // status_query with the proposal's type code: the body is too short.
    let mut f = vector("status_query");
    f[6] = msg_type::PROPOSAL;
    let (field, reason) = answer(&f);
    assert_eq!(field, "body");
    assert!(reason.ends_with("the body ends inside a value"), "{reason}");
}

/// Every single-byte change to every vector's body is answered without
/// debug text: no braces, quotes or Rust type names in `reason`.
#[test]
fn no_reason_carries_debug_text() {
    let mut seen = 0;
    for (name, message) in vectors::catalogue() {
        let frame = vector(name);
        if frame.len() > 2048 {
            continue;
        }
        let request = msg_type::ALL.contains(&frame[6]) && frame[6] < 0x80;
        for at in 7..frame.len() {
            for byte in [0x02, 0x0b, 0xfd, 0xff] {
                let mut bad = frame.clone();
                bad[at] = byte;
                let error = if request {
                    decode_request(&bad).err()
                } else {
                    decode_reply(&bad).err()
                };
                let Some(error) = error else { continue };
                seen += 1;
                let wire = error.to_wire();
                let reason = match &wire {
                    ErrorCode::InvalidMessage { reason, .. } => reason.clone(),
                    ErrorCode::TooLarge { .. } => continue,
                    other => panic!("{name} byte {at} = {byte:#x}: {other:?} ({message:?})"),
                };
                // Control characters of a quoted client string are escaped
                // as `\u{..}` (PROTOCOL.md §8); anything else with braces
                // or quotes would be debug text.
                let reason = without_escapes(&reason);
                assert!(
                    !reason.contains(['{', '}', '"'])
                        && !["Some(", "Utf8", "Unexpected", "OtherString", "Invalid"]
                            .iter()
                            .any(|debug| reason.contains(debug)),
                    "{name} byte {at} = {byte:#x}: {reason}"
                );
            }
        }
    }
    assert!(seen > 1000, "only {seen} malformed frames were tried");
}

/// `text` without its `\u{..}` escapes.
fn without_escapes(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("\\u{") {
        out.push_str(&rest[..at]);
        match rest[at..].find('}') {
            Some(end) => rest = &rest[at + end + 1..],
            None => {
                rest = &rest[at..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}
