//! The typed codec: message type codes, [`Message`], and `encode`/`decode`
//! between a `Message` and one complete frame. Decoding is bounded (frame
//! limit, decompressed-size limit, bincode limit), exact (no trailing
//! bytes), canonical (the body must be the one encoding of its value, so a
//! signature covers exactly what was received) and validated (finite
//! numbers, counts, names; see `validate`).

use serde::Serialize;

use super::body::decode_exact;
use super::envelope::{self, Envelope};
use super::error::{CodecError, ErrorReply};
use super::frame;
use super::limits::max_decoded_len;
use super::message::{Proposal, Request, StatusQuery, Subscribe, TelemetryBatch};
use super::operator::{OperatorReply, OperatorRequest};
use super::reply::{Approval, Event, Reply, Rollback, Status, Subscribed, TelemetryAck};
use super::rollout::{Assignment, RolloutRequest, RolloutStatus, TaggedTelemetry, WatchAssignment};
use super::workflow::{WorkflowReply, WorkflowRequest};
use super::{validate, FRAME_VERSION};

/// Message type codes (the frame's type byte). Client-to-server requests
/// are 0x01-0x7f, server-to-client replies 0x80-0xff.
pub mod msg_type {
    pub const TELEMETRY_BATCH: u8 = 0x01;
    pub const PROPOSAL: u8 = 0x02;
    pub const SUBSCRIBE: u8 = 0x03;
    pub const STATUS_QUERY: u8 = 0x04;
    pub const OPERATE: u8 = 0x10;
    pub const ERROR: u8 = 0x80;
    pub const TELEMETRY_ACK: u8 = 0x81;
    pub const APPROVAL: u8 = 0x82;
    pub const STATUS: u8 = 0x83;
    pub const ROLLBACK: u8 = 0x84;
    pub const SUBSCRIBED: u8 = 0x85;
    pub const EVENT: u8 = 0x86;
    pub const OPERATED: u8 = 0x90;
    pub const WORKFLOW: u8 = 0x20;
    pub const WORKFLOWED: u8 = 0xa0;
    /// Gradual rollouts (PROTOCOL.md §6.15), added within version 2.
    pub const WATCH_ASSIGNMENT: u8 = 0x30;
    pub const TAGGED_TELEMETRY: u8 = 0x31;
    pub const ROLLOUT: u8 = 0x32;
    pub const ASSIGNMENT: u8 = 0xb0;
    pub const ROLLOUT_STATUS: u8 = 0xb1;

    /// Every code defined in frame version 2.
    pub const ALL: [u8; 20] = [
        TELEMETRY_BATCH,
        PROPOSAL,
        SUBSCRIBE,
        STATUS_QUERY,
        OPERATE,
        ERROR,
        TELEMETRY_ACK,
        APPROVAL,
        STATUS,
        ROLLBACK,
        SUBSCRIBED,
        EVENT,
        OPERATED,
        WORKFLOW,
        WORKFLOWED,
        WATCH_ASSIGNMENT,
        TAGGED_TELEMETRY,
        ROLLOUT,
        ASSIGNMENT,
        ROLLOUT_STATUS,
    ];
}

/// One frame's content: a client request in its envelope, or a server reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Request(Envelope, Request),
    Reply(Reply),
}

impl Request {
    pub fn msg_type(&self) -> u8 {
        match self {
            Request::TelemetryBatch(_) => msg_type::TELEMETRY_BATCH,
            Request::Proposal(_) => msg_type::PROPOSAL,
            Request::Subscribe(_) => msg_type::SUBSCRIBE,
            Request::StatusQuery(_) => msg_type::STATUS_QUERY,
            Request::Operate(_) => msg_type::OPERATE,
            Request::Workflow(_) => msg_type::WORKFLOW,
            Request::WatchAssignment(_) => msg_type::WATCH_ASSIGNMENT,
            Request::TaggedTelemetry(_) => msg_type::TAGGED_TELEMETRY,
            Request::Rollout(_) => msg_type::ROLLOUT,
        }
    }

    /// The canonical bincode encoding of the request alone (what follows
    /// the envelope in the body, and what a signature covers).
    pub fn encode_body(&self) -> Result<Vec<u8>, CodecError> {
        match self {
            Request::TelemetryBatch(m) => bincode_encode(m),
            Request::Proposal(m) => bincode_encode(m),
            Request::Subscribe(m) => bincode_encode(m),
            Request::StatusQuery(m) => bincode_encode(m),
            Request::Operate(m) => bincode_encode(m),
            Request::Workflow(m) => bincode_encode(m),
            Request::WatchAssignment(m) => bincode_encode(m),
            Request::TaggedTelemetry(m) => bincode_encode(m),
            Request::Rollout(m) => bincode_encode(m),
        }
    }

    /// The bytes to sign (or verify) for this request in this envelope.
    pub fn signed_bytes(&self, envelope: &Envelope) -> Result<Vec<u8>, CodecError> {
        envelope::signed_bytes(
            FRAME_VERSION,
            self.msg_type(),
            envelope,
            &self.encode_body()?,
        )
    }
}

impl Reply {
    pub fn msg_type(&self) -> u8 {
        match self {
            Reply::Error(_) => msg_type::ERROR,
            Reply::TelemetryAck(_) => msg_type::TELEMETRY_ACK,
            Reply::Approval(_) => msg_type::APPROVAL,
            Reply::Status(_) => msg_type::STATUS,
            Reply::Rollback(_) => msg_type::ROLLBACK,
            Reply::Subscribed(_) => msg_type::SUBSCRIBED,
            Reply::Event(_) => msg_type::EVENT,
            Reply::Operated(_) => msg_type::OPERATED,
            Reply::Workflowed(_) => msg_type::WORKFLOWED,
            Reply::Assignment(_) => msg_type::ASSIGNMENT,
            Reply::RolloutStatus(_) => msg_type::ROLLOUT_STATUS,
        }
    }
}

impl Message {
    pub fn msg_type(&self) -> u8 {
        match self {
            Message::Request(_, r) => r.msg_type(),
            Message::Reply(r) => r.msg_type(),
        }
    }

    /// The uncompressed frame body: bincode of (envelope, request) or of
    /// the reply struct (never of the `Request`/`Reply` enums: the type byte
    /// already says which).
    pub fn encode_body(&self) -> Result<Vec<u8>, CodecError> {
        match self {
            Message::Request(env, req) => {
                let mut out = bincode_encode(env)?;
                out.extend_from_slice(&req.encode_body()?);
                Ok(out)
            }
            Message::Reply(r) => match r {
                Reply::Error(m) => bincode_encode(m),
                Reply::TelemetryAck(m) => bincode_encode(m),
                Reply::Approval(m) => bincode_encode(m),
                Reply::Status(m) => bincode_encode(m),
                Reply::Rollback(m) => bincode_encode(m),
                Reply::Subscribed(m) => bincode_encode(m),
                Reply::Event(m) => bincode_encode(m),
                Reply::Operated(m) => bincode_encode(m),
                Reply::Workflowed(m) => bincode_encode(m),
                Reply::Assignment(m) => bincode_encode(m),
                Reply::RolloutStatus(m) => bincode_encode(m),
            },
        }
    }
}

/// Validates and encodes one message as a complete frame, compressing a
/// large body.
pub fn encode(msg: &Message) -> Result<Vec<u8>, CodecError> {
    validate::message(msg)?;
    frame::assemble(FRAME_VERSION, msg.msg_type(), &msg.encode_body()?, true)
}

/// Decodes exactly one complete frame (length prefix included), a request
/// or a reply.
pub fn decode(bytes: &[u8]) -> Result<Message, CodecError> {
    decode_checked(bytes, |_| Ok(()))
}

/// What a server reads: one frame that must be a request. A reply type
/// code is refused before its body is read.
pub fn decode_request(bytes: &[u8]) -> Result<(Envelope, Request), CodecError> {
    let refuse_replies = |code| {
        if is_request(code) {
            Ok(())
        } else {
            Err(CodecError::ReplyToServer(code))
        }
    };
    match decode_checked(bytes, refuse_replies)? {
        Message::Request(envelope, request) => Ok((envelope, request)),
        Message::Reply(r) => Err(CodecError::ReplyToServer(r.msg_type())),
    }
}

/// What a client reads: one frame that must be a reply.
pub fn decode_reply(bytes: &[u8]) -> Result<Reply, CodecError> {
    let refuse_requests = |code| {
        if is_request(code) {
            Err(CodecError::RequestFromServer(code))
        } else {
            Ok(())
        }
    };
    match decode_checked(bytes, refuse_requests)? {
        Message::Reply(reply) => Ok(reply),
        Message::Request(_, r) => Err(CodecError::RequestFromServer(r.msg_type())),
    }
}

/// Requests are 0x01-0x7f, replies 0x80-0xff.
fn is_request(code: u8) -> bool {
    code < 0x80
}

/// Splits, checks the version, the type code and `direction` (on the
/// type code, before the body is decompressed or decoded), then decodes
/// and validates.
fn decode_checked(
    bytes: &[u8],
    direction: impl Fn(u8) -> Result<(), CodecError>,
) -> Result<Message, CodecError> {
    let (header, payload) = frame::split(bytes)?;
    if header.version != FRAME_VERSION {
        return Err(CodecError::UnknownVersion(header.version));
    }
    if !msg_type::ALL.contains(&header.msg_type) {
        return Err(CodecError::UnknownType(header.msg_type));
    }
    direction(header.msg_type)?;
    let body = frame::body(&header, payload)?;
    let msg = decode_body(header.msg_type, &body)?;
    validate::message(&msg)?;
    Ok(msg)
}

/// Decodes an uncompressed body of the given type, exactly,
/// canonically and within the type's decoded-memory limit; does not
/// validate.
pub fn decode_body(code: u8, body: &[u8]) -> Result<Message, CodecError> {
    use msg_type as t;
    let exact = |bytes| Exact {
        bytes,
        budget: max_decoded_len(code),
    };
    let req = |env: Envelope, r: Request| Ok(Message::Request(env, r));
    match code {
        t::TELEMETRY_BATCH => {
            let (e, m) = exact(body).value::<(Envelope, TelemetryBatch)>()?;
            req(e, Request::TelemetryBatch(m))
        }
        t::PROPOSAL => {
            let (e, m) = exact(body).value::<(Envelope, Proposal)>()?;
            req(e, Request::Proposal(m))
        }
        t::SUBSCRIBE => {
            let (e, m) = exact(body).value::<(Envelope, Subscribe)>()?;
            req(e, Request::Subscribe(m))
        }
        t::STATUS_QUERY => {
            let (e, m) = exact(body).value::<(Envelope, StatusQuery)>()?;
            req(e, Request::StatusQuery(m))
        }
        t::OPERATE => {
            let (e, m) = exact(body).value::<(Envelope, OperatorRequest)>()?;
            req(e, Request::Operate(m))
        }
        t::WORKFLOW => {
            let (e, m) = exact(body).value::<(Envelope, WorkflowRequest)>()?;
            req(e, Request::Workflow(m))
        }
        t::WATCH_ASSIGNMENT => {
            let (e, m) = exact(body).value::<(Envelope, WatchAssignment)>()?;
            req(e, Request::WatchAssignment(m))
        }
        t::TAGGED_TELEMETRY => {
            let (e, m) = exact(body).value::<(Envelope, TaggedTelemetry)>()?;
            req(e, Request::TaggedTelemetry(m))
        }
        t::ROLLOUT => {
            let (e, m) = exact(body).value::<(Envelope, RolloutRequest)>()?;
            req(e, Request::Rollout(m))
        }
        t::ASSIGNMENT => Ok(Message::Reply(Reply::Assignment(
            exact(body).value::<Assignment>()?,
        ))),
        t::ROLLOUT_STATUS => Ok(Message::Reply(Reply::RolloutStatus(
            exact(body).value::<RolloutStatus>()?,
        ))),
        t::WORKFLOWED => Ok(Message::Reply(Reply::Workflowed(
            exact(body).value::<WorkflowReply>()?,
        ))),
        t::OPERATED => Ok(Message::Reply(Reply::Operated(
            exact(body).value::<OperatorReply>()?,
        ))),
        t::ERROR => Ok(Message::Reply(Reply::Error(
            exact(body).value::<ErrorReply>()?,
        ))),
        t::TELEMETRY_ACK => Ok(Message::Reply(Reply::TelemetryAck(
            exact(body).value::<TelemetryAck>()?,
        ))),
        t::APPROVAL => Ok(Message::Reply(Reply::Approval(
            exact(body).value::<Approval>()?,
        ))),
        t::STATUS => Ok(Message::Reply(Reply::Status(
            exact(body).value::<Status>()?,
        ))),
        t::ROLLBACK => Ok(Message::Reply(Reply::Rollback(
            exact(body).value::<Rollback>()?,
        ))),
        t::SUBSCRIBED => Ok(Message::Reply(Reply::Subscribed(
            exact(body).value::<Subscribed>()?,
        ))),
        t::EVENT => Ok(Message::Reply(Reply::Event(exact(body).value::<Event>()?))),
        other => Err(CodecError::UnknownType(other)),
    }
}

/// bincode 2, `config::standard()`: little-endian, varint integers.
pub(crate) fn bincode_encode<T: Serialize + ?Sized>(v: &T) -> Result<Vec<u8>, CodecError> {
    bincode::serde::encode_to_vec(v, bincode::config::standard())
        .map_err(|e| CodecError::Encode(e.to_string()))
}

/// A body to decode exactly, and its decoded-memory budget.
struct Exact<'a> {
    bytes: &'a [u8],
    budget: usize,
}

impl Exact<'_> {
    fn value<T: Serialize + serde::de::DeserializeOwned>(self) -> Result<T, CodecError> {
        decode_exact(self.bytes, self.budget)
    }
}
