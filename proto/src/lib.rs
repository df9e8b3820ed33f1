//! The wire protocol between clients (proposers, target agents, operators)
//! and the cluster: framing, envelope, messages, errors, validation, the
//! JSON view, the golden vectors, and the one conversion between the core's
//! types and the wire's (`convert`). `PROTOCOL.md` beside this crate is the
//! normative description; this crate implements it.
//!
//! Pure: no async runtime and no sockets. Reading frames off a stream is
//! `arqonbus-transport`'s.

mod body;
mod bounded;
pub mod codec;
pub mod convert;
pub mod envelope;
pub mod error;
pub mod frame;
pub mod json;
pub mod json_operator;
pub mod json_proposals;
pub mod json_reply;
pub mod json_rollout;
pub mod limits;
pub mod message;
pub mod operator;
pub mod reply;
pub mod rollout;
pub mod validate;
mod validate_operator;
mod validate_rollout;
mod validate_workflow;
pub mod vectors;
mod vectors_operator;
mod vectors_rollout;
mod vectors_workflow;
pub mod workflow;

pub use codec::{decode, decode_reply, decode_request, encode, msg_type, Message};
pub use envelope::{Envelope, SigScheme, Signature, UnixMillis};
pub use error::{CodecError, ErrorCode, ErrorReply};
pub use message::Request;
pub use reply::Reply;

/// The frame version this code writes and reads.
pub const FRAME_VERSION: u8 = 2;
/// Frame versions a server accepts (listed in `unsupported_version`).
pub const SUPPORTED_VERSIONS: &[u8] = &[FRAME_VERSION];
/// ALPN of client connections speaking frame version 2 (envelope v2:
/// session, sequence, timestamp, signature; Security I).
pub const ALPN_CLIENT: &[u8] = b"arqonbus/2";
/// ALPN of node-to-node (Raft) connections; their messages are the raft
/// module's, not this protocol's.
pub const ALPN_PEER: &[u8] = b"arqonbus-peer/1";
