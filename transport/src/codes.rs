//! Application error codes a node closes connections and ends streams
//! with, beside [`CLOSE_UNAUTHORIZED`](crate::CLOSE_UNAUTHORIZED) (0x41).
//! A client reads them as QUIC's `ApplicationClose` error code, or as the
//! code of a `RESET_STREAM` or `STOP_SENDING` frame.

use quinn::VarInt;

/// Connection closed: this node, or this identity on this node, holds as
/// many connections as it allows.
pub const CLOSE_BUSY: VarInt = VarInt::from_u32(0x42);

/// Stream reset: its frame did not arrive whole within the frame deadline
/// (10 s from the stream opening).
pub const RESET_DEADLINE: VarInt = VarInt::from_u32(0x52);

/// Stream stopped: the server refused the frame from its head and answered
/// (`too_large`, `forbidden`, `rate_limited`, …) without reading the rest.
pub const STOP_REFUSED: VarInt = VarInt::from_u32(0x53);
