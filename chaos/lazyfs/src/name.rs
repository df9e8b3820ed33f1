//! A directory entry's name: raw bytes, since Linux names need not be UTF-8.
//!
//! In the metadata file a name is written as lowercase hex, so any name
//! round-trips through JSON and the file stays readable with `jq`.

use std::borrow::Borrow;
use std::ffi::OsStr;
use std::fmt;
use std::os::unix::ffi::OsStrExt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The longest name a directory accepts, as on ext4.
pub const NAME_MAX: usize = 255;

/// One path component.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(Vec<u8>);

impl Name {
    /// The name made of `bytes`.
    pub fn new(bytes: &[u8]) -> Name {
        Name(bytes.to_vec())
    }

    /// The name as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The name as an `OsStr`, for replies to the kernel.
    pub fn as_os_str(&self) -> &OsStr {
        OsStr::from_bytes(&self.0)
    }
}

impl Borrow<[u8]> for Name {
    fn borrow(&self) -> &[u8] {
        &self.0
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let hex: String = self.0.iter().map(|b| format!("{b:02x}")).collect();
        serializer.serialize_str(&hex)
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Name, D::Error> {
        deserializer.deserialize_str(HexVisitor)
    }
}

struct HexVisitor;

impl Visitor<'_> for HexVisitor {
    type Value = Name;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a name in lowercase hex")
    }

    fn visit_str<E: de::Error>(self, hex: &str) -> Result<Name, E> {
        if hex.len() % 2 != 0 {
            return Err(E::custom("odd number of hex digits"));
        }
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).map_err(E::custom))
            .collect::<Result<Vec<u8>, E>>()
            .map(Name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_bytes_round_trip_through_json() {
        let name = Name::new(b"snap.\xff\x00tmp");
        let json = serde_json::to_string(&name).expect("serialize");
        assert_eq!(json, "\"736e61702eff00746d70\"");
        let back: Name = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, name);
    }

    #[test]
    fn bad_hex_is_refused() {
        assert!(serde_json::from_str::<Name>("\"abc\"").is_err());
        assert!(serde_json::from_str::<Name>("\"zz\"").is_err());
    }
}
