//! Reading one request off a client stream, bounded at every step. The
//! frame must arrive whole within the frame deadline of the stream's
//! opening (else the stream is reset). Its head is judged before its body
//! is read: version, type, whether the sender's role may send that type
//! at all, and the declared size, compressed or not. Its memory is
//! reserved from the node's and the identity's budgets. Nothing may
//! follow it on a request stream. A large or compressed frame is decoded
//! in the decode pool, on the connection's and the identity's turn.

use super::admission::{Grant, Refusal};
use super::caller::Caller;
use super::decode_pool::DecodePool;
use super::security::Kind;
use super::Node;
use arqonbus_proto::error::{ErrorCode, ErrorReply};
use arqonbus_proto::frame::Header;
use arqonbus_proto::{convert, msg_type, CodecError, Envelope, Message, Request, FRAME_VERSION};
use arqonbus_transport::frame_io::{read_end, read_head, read_rest, FrameHead, ReadError};
use std::time::{Duration, Instant};
use tokio::time::timeout_at;

/// How long a client is told to wait when it is over a cap.
pub(super) const RETRY_AFTER: Duration = Duration::from_secs(1);

/// What reading a stream's request gave.
pub(super) enum Intake {
    /// A decoded request in its envelope, and the frame memory it holds
    /// until answered.
    Request {
        envelope: Envelope,
        request: Request,
        hold: Grant,
    },
    /// An error to answer; `stop`: the rest of the frame is not read
    /// (the stream is stopped after answering).
    Refused {
        reply: ErrorReply,
        kind: Kind,
        stop: bool,
    },
    /// The stream ended (or was reset by the client) before a frame.
    Ended,
    /// The frame did not arrive whole within the deadline.
    Late,
}

fn refused(reply: ErrorReply, kind: Kind, stop: bool) -> Intake {
    Intake::Refused { reply, kind, stop }
}

/// `rate_limited`, for a cap of `admission`.
pub(super) fn over_limit(refusal: Refusal) -> ErrorReply {
    let retry_after_ms = RETRY_AFTER.as_millis() as u64;
    ErrorReply::new(
        ErrorCode::RateLimited { retry_after_ms },
        &refusal.to_string(),
    )
}

/// Reads, judges and decodes the request on `recv`, opened at `opened`.
pub(super) async fn read(
    node: &Node,
    caller: &Caller,
    recv: &mut quinn::RecvStream,
    opened: Instant,
) -> Intake {
    let deadline = (opened + node.admission.limits().frame_deadline()).into();
    let head = match timeout_at(deadline, read_head(recv)).await {
        Err(_) => return Intake::Late,
        Ok(Ok(None)) => return Intake::Ended,
        Ok(Ok(Some(head))) => head,
        Ok(Err(e)) => return unreadable(e),
    };
    if let Some(refusal) = judge(caller, &head.header) {
        return refusal;
    }
    let hold = match caller.conn.reserve(memory(&head)) {
        Ok(hold) => hold,
        Err(r) => return refused(over_limit(r), Kind::OverLimit, true),
    };
    let (header, frame_len) = (head.header, head.frame_len());
    let frame = match timeout_at(deadline, read_rest(recv, head)).await {
        Err(_) => return Intake::Late,
        Ok(Err(e)) => return unreadable(e),
        Ok(Ok(frame)) => frame,
    };
    // One frame per stream. A push stream's sending side may stay open:
    // `subscribe` and `watch_assignment` watch it for more bytes while
    // they serve.
    if !matches!(
        header.msg_type,
        msg_type::SUBSCRIBE | msg_type::WATCH_ASSIGNMENT
    ) {
        match timeout_at(deadline, read_end(recv)).await {
            Err(_) => return Intake::Late,
            Ok(Err(e)) => return unreadable(e),
            Ok(Ok(())) => {}
        }
    }
    let decoded = match DecodePool::needs_pool(&header, frame_len) {
        false => arqonbus_proto::decode(&frame),
        true => match pooled(node, caller, frame).await {
            Some(decoded) => decoded,
            None => return refused(over_limit(Refusal::Decode), Kind::OverLimit, false),
        },
    };
    match decoded {
        Ok(Message::Request(envelope, request)) => Intake::Request {
            envelope,
            request,
            hold,
        },
        Ok(Message::Reply(_)) => refused(wrong_type(), Kind::Malformed, false),
        Err(e) => refused(e.reply(), Kind::Malformed, false),
    }
}

/// Decodes `frame` in the pool on this caller's turn; `None` if the turns
/// are not free within the request deadline.
async fn pooled(
    node: &Node,
    caller: &Caller,
    frame: Vec<u8>,
) -> Option<Result<Message, CodecError>> {
    let until = Instant::now() + node.config.request_deadline();
    let _turn = tokio::time::timeout_at(until.into(), caller.conn.decode_turn())
        .await
        .ok()?
        .ok()?;
    let left = until.saturating_duration_since(Instant::now());
    node.decoder.decode(frame, left).await
}

/// Bytes a frame holds while it is read and decoded: as sent, plus its
/// body once decompressed.
fn memory(head: &FrameHead) -> usize {
    match head.header.compressed() {
        true => head.frame_len() + head.body_len,
        false => head.frame_len(),
    }
}

/// Refuses, from its header alone, a frame this caller may not send.
fn judge(caller: &Caller, header: &Header) -> Option<Intake> {
    if header.version != FRAME_VERSION {
        let e = CodecError::UnknownVersion(header.version);
        return Some(refused(e.reply(), Kind::Malformed, true));
    }
    let Some(permission) = convert::type_permission(header.msg_type) else {
        return Some(refused(wrong_type(), Kind::Malformed, true));
    };
    if caller.identity.role.may(permission) {
        return None;
    }
    let message = format!(
        "{} (role {}) may not send a frame of type 0x{:02x}",
        arqonbus_proto::limits::clip(&caller.identity.name, 64),
        caller.identity.role,
        header.msg_type
    );
    Some(refused(
        ErrorReply::new(ErrorCode::Forbidden, &message),
        Kind::Forbidden,
        true,
    ))
}

fn wrong_type() -> ErrorReply {
    let code = ErrorCode::InvalidMessage {
        field: "type".into(),
        reason: "not a request type".into(),
    };
    ErrorReply::new(code, "clients send requests")
}

/// What to answer when reading failed part-way.
fn unreadable(e: ReadError) -> Intake {
    match e {
        ReadError::Codec(e) => refused(e.reply(), Kind::Malformed, true),
        ReadError::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            let code = ErrorCode::InvalidMessage {
                field: "frame".into(),
                reason: "the stream ended inside the frame".into(),
            };
            refused(
                ErrorReply::new(code, "truncated frame"),
                Kind::Malformed,
                false,
            )
        }
        ReadError::Io(_) => Intake::Ended,
    }
}
