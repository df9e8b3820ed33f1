//! The wire protocol between clients (proposers, target agents, operators)
//! and the cluster: framing, envelope, messages, errors, the JSON view and
//! the golden vectors. `proto/PROTOCOL.md` is the normative description;
//! this module implements it.

pub mod codec;
pub mod envelope;
pub mod error;
pub mod frame;
pub mod io;
pub mod json;
pub mod json_operator;
pub mod json_proposals;
pub mod json_reply;
pub mod limits;
pub mod message;
pub mod operator;
pub mod reply;
pub mod validate;
mod validate_operator;
pub mod vectors;
mod vectors_operator;

pub use codec::{decode, encode, msg_type, Message};
pub use envelope::{Envelope, SigScheme, Signature, UnixMillis};
pub use error::{CodecError, ErrorCode, ErrorReply};
pub use message::Request;
pub use reply::Reply;

/// The frame version this code writes and reads.
pub const FRAME_VERSION: u8 = 1;
/// Frame versions a server accepts (listed in `unsupported_version`).
pub const SUPPORTED_VERSIONS: &[u8] = &[FRAME_VERSION];
/// ALPN of client connections speaking frame version 1.
pub const ALPN_CLIENT_V1: &[u8] = b"arqonbus/1";
/// ALPN of node-to-node (Raft) connections; their messages are the raft
/// module's, not this protocol's.
pub const ALPN_PEER_V1: &[u8] = b"arqonbus-peer/1";
