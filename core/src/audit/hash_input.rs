//! The bytes an audit entry's hash covers, in a layout any language can
//! reproduce without bincode (PROTOCOL.md, "Audit entry hash"):
//!
//! ```text
//! format      1 byte    1 (FORMAT_V1)
//! domain      15 bytes  "arqonbus-audit" 0x00
//! index       u64 big-endian
//! at_ms       u64 big-endian
//! actor       u64 big-endian length, then UTF-8 bytes
//! action      u64 big-endian length, then UTF-8 bytes
//! target      u64 big-endian length, then UTF-8 bytes
//! details     u64 big-endian length, then UTF-8 bytes
//! prev_hash   32 bytes
//! ```
//!
//! The first byte is the entry format. Format 1 is an unsigned entry.
//! A signed state change's entry is format 2: the same fields behind a 2,
//! then the signer's key, the signature and the signed bytes, each as a
//! u64 big-endian length and the bytes. A verifier picks the layout by
//! the entry's format, so it checks chains that mix both, and a format-1
//! entry can never hash like a format-2 one.

/// The first byte of a format-1 (unsigned) entry's hash input.
pub const FORMAT_V1: u8 = 1;
/// The first byte of a format-2 (signed) entry's hash input.
pub const FORMAT_V2: u8 = 2;

/// Domain separation: these bytes hash nothing but audit entries.
pub const DOMAIN: &[u8; 15] = b"arqonbus-audit\0";

/// A hash input being written, field by field.
#[derive(Debug)]
pub struct HashInput {
    bytes: Vec<u8>,
}

impl HashInput {
    /// Starts the input of an entry of `format`.
    pub fn new(format: u8) -> Self {
        let mut bytes = Vec::with_capacity(256);
        bytes.push(format);
        bytes.extend_from_slice(DOMAIN);
        HashInput { bytes }
    }

    /// An unsigned integer, 8 bytes big-endian.
    pub fn u64(mut self, value: u64) -> Self {
        self.bytes.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// A string: its length in bytes as a u64 big-endian, then its UTF-8.
    pub fn text(self, value: &str) -> Self {
        let len = value.len() as u64;
        self.u64(len).fixed(value.as_bytes())
    }

    /// A byte string: its length as a u64 big-endian, then the bytes.
    pub fn bytes(self, value: &[u8]) -> Self {
        self.u64(value.len() as u64).fixed(value)
    }

    /// Fixed-size bytes, as they are (no length).
    pub fn fixed(mut self, value: &[u8]) -> Self {
        self.bytes.extend_from_slice(value);
        self
    }

    pub fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_written_big_endian_and_length_prefixed() {
        let input = HashInput::new(FORMAT_V1)
            .u64(0x0102)
            .text("hé")
            .fixed(&[9, 9])
            .finish();
        let mut expected = vec![1];
        expected.extend_from_slice(b"arqonbus-audit\0");
        expected.extend_from_slice(&[0, 0, 0, 0, 0, 0, 1, 2]);
        expected.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 3, b'h', 0xc3, 0xa9]);
        expected.extend_from_slice(&[9, 9]);
        assert_eq!(input, expected);
    }
}
