//! One audit entry and the hash that chains it to the one before.
//!
//! An entry's hash is SHA-256 over its format byte, a domain tag and every
//! other field, its predecessor's hash included, in the byte layout of
//! [`hash_input`](super::hash_input), so changing any entry breaks every
//! hash after it. The first entry's predecessor is all zeros. An entry of
//! a signed state change keeps the signature, the signer's key and the
//! bytes signed ([`Seal`]) inside the hash: format 2.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::hash_input::{HashInput, FORMAT_V1, FORMAT_V2};
use crate::seal::Seal;

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The predecessor of the first entry.
pub const GENESIS: Hash = [0; 32];

/// One record of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub index: u64,
    /// Unix milliseconds stamped by the leader on the command.
    pub at_ms: u64,
    /// The identity that caused it (a certificate subject, or `raft`).
    pub actor: String,
    /// What happened: `set_constraints`, `override`, `forbidden`, …
    pub action: String,
    /// The target system concerned, empty when none.
    pub target: String,
    /// Human-readable details, built deterministically.
    pub details: String,
    #[serde(with = "hex_hash")]
    pub prev_hash: Hash,
    #[serde(with = "hex_hash")]
    pub hash: Hash,
    /// The signed request behind it, for a signed state change (format 2).
    pub seal: Option<Seal>,
}

/// Where the chain stands: the last index and its hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    pub index: u64,
    #[serde(with = "hex_hash")]
    pub hash: Hash,
}

impl Default for AuditHead {
    fn default() -> Self {
        AuditHead {
            index: 0,
            hash: GENESIS,
        }
    }
}

/// The fields of an entry that the caller chooses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub at_ms: u64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: String,
    pub seal: Option<Seal>,
}

impl AuditEntry {
    /// The entry that follows `head`.
    pub fn after(head: &AuditHead, record: AuditRecord) -> AuditEntry {
        let mut entry = AuditEntry {
            index: head.index + 1,
            at_ms: record.at_ms,
            actor: record.actor,
            action: record.action,
            target: record.target,
            details: record.details,
            prev_hash: head.hash,
            hash: GENESIS,
            seal: record.seal,
        };
        entry.hash = entry.compute_hash();
        entry
    }

    /// Recomputes this entry's hash from its other fields.
    pub fn compute_hash(&self) -> Hash {
        Sha256::digest(self.hash_input()).into()
    }

    /// The bytes the hash covers: format 1, or format 2 (the same, then
    /// the seal's key, signature and signed bytes) for a signed entry.
    pub fn hash_input(&self) -> Vec<u8> {
        let format = match self.seal {
            None => FORMAT_V1,
            Some(_) => FORMAT_V2,
        };
        let input = HashInput::new(format)
            .u64(self.index)
            .u64(self.at_ms)
            .text(&self.actor)
            .text(&self.action)
            .text(&self.target)
            .text(&self.details)
            .fixed(&self.prev_hash);
        match &self.seal {
            None => input.finish(),
            Some(seal) => input
                .bytes(&seal.key)
                .bytes(&seal.signature)
                .bytes(&seal.signed)
                .finish(),
        }
    }

    pub fn head(&self) -> AuditHead {
        AuditHead {
            index: self.index,
            hash: self.hash,
        }
    }
}

/// Hashes travel as lowercase hex in JSON and as 32 raw bytes in bincode.
mod hex_hash {
    use super::Hash;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&hex::encode(h))
        } else {
            serde::Serialize::serialize(h, s)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        if d.is_human_readable() {
            let text = String::deserialize(d)?;
            let mut out = [0u8; 32];
            hex::decode_to_slice(&text, &mut out).map_err(serde::de::Error::custom)?;
            Ok(out)
        } else {
            <Hash as Deserialize>::deserialize(d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::audit_record;

    #[test]
    fn entries_chain_and_any_change_breaks_the_hash() {
        let first = AuditEntry::after(&AuditHead::default(), audit_record(1));
        let second = AuditEntry::after(&first.head(), audit_record(2));
        assert_eq!(first.index, 1);
        assert_eq!(first.prev_hash, GENESIS);
        assert_eq!(second.prev_hash, first.hash);
        assert_eq!(second.compute_hash(), second.hash);
        let mut tampered = second.clone();
        tampered.details.push('!');
        assert_ne!(tampered.compute_hash(), second.hash);
    }

    #[test]
    fn the_hash_is_sha256_of_the_documented_layout() {
        let entry = AuditEntry::after(
            &AuditHead::default(),
            AuditRecord {
                at_ms: 1_705_314_600_000,
                actor: "alice".into(),
                action: "override".into(),
                target: "svc".into(),
                details: "batch_size=48".into(),
                seal: None,
            },
        );
        // Computed apart from this code, with Python's hashlib, from the
        // layout in PROTOCOL.md.
        assert_eq!(
            hex::encode(entry.hash),
            "660ceda81533702763a5b3e2848f851510bac83a838d480b40bb78f961098510"
        );
        assert_eq!(entry.hash_input().len(), 125);
        assert_eq!(entry.hash_input()[0], FORMAT_V1);
    }

    #[test]
    fn an_entry_written_before_seals_existed_still_reads_and_verifies() {
        let e = AuditEntry::after(&AuditHead::default(), audit_record(3));
        let mut json: serde_json::Value = serde_json::to_value(&e).expect("json");
        if let Some(fields) = json.as_object_mut() {
            fields.remove("seal");
        }
        let old: AuditEntry = serde_json::from_value(json).expect("an archive line of before");
        assert_eq!(old, e);
        assert_eq!(old.compute_hash(), e.hash, "format 1, hashed as before");
    }

    #[test]
    fn json_and_bincode_round_trip() {
        let e = AuditEntry::after(&AuditHead::default(), audit_record(7));
        let json = serde_json::to_string(&e).expect("json");
        assert!(json.contains(&hex::encode(e.hash)));
        assert_eq!(serde_json::from_str::<AuditEntry>(&json).expect("back"), e);
        let bin = bincode::serde::encode_to_vec(&e, bincode::config::standard()).expect("bin");
        let (back, _): (AuditEntry, usize) =
            bincode::serde::decode_from_slice(&bin, bincode::config::standard()).expect("back");
        assert_eq!(back, e);
    }
}
