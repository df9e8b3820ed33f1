//! Counters the harness reads over the control socket, and their one-line
//! text form: `key=value` pairs separated by spaces.

use std::fmt;
use std::str::FromStr;

/// What the filesystem has seen since it was mounted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// `fsync` calls on files (the FUSE op without the datasync flag).
    pub fsync: u64,
    /// `fdatasync` calls on files (the FUSE op with the datasync flag).
    pub fdatasync: u64,
    /// `fsync` or `fdatasync` calls on directories.
    pub fsyncdir: u64,
    /// Writes through a descriptor opened `O_SYNC` or `O_DSYNC`, each made
    /// durable as if followed by `fdatasync` (`fsync` for `O_SYNC`).
    pub sync_writes: u64,
    /// `write` calls.
    pub writes: u64,
    /// Bytes those writes carried.
    pub bytes_written: u64,
    /// Written bytes not yet made durable, held in memory now.
    pub unsynced_bytes: u64,
    /// Writes refused with `ENOSPC` because they would have taken
    /// `unsynced_bytes` over the configured cap.
    pub refused_writes: u64,
    /// Power losses so far.
    pub power_losses: u64,
    /// Writebacks so far (`MountConfig::writeback`): each made the whole
    /// volatile state durable.
    pub writebacks: u64,
}

impl Stats {
    /// Notes `bytes` of unsynced data synced or discarded.
    pub(crate) fn release(&mut self, bytes: u64) {
        debug_assert!(bytes <= self.unsynced_bytes, "unsynced accounting");
        self.unsynced_bytes = self.unsynced_bytes.saturating_sub(bytes);
    }

    fn fields(&self) -> [(&'static str, u64); 10] {
        [
            ("fsync", self.fsync),
            ("fdatasync", self.fdatasync),
            ("fsyncdir", self.fsyncdir),
            ("sync_writes", self.sync_writes),
            ("writes", self.writes),
            ("bytes_written", self.bytes_written),
            ("unsynced_bytes", self.unsynced_bytes),
            ("refused_writes", self.refused_writes),
            ("power_losses", self.power_losses),
            ("writebacks", self.writebacks),
        ]
    }

    fn field_mut(&mut self, key: &str) -> Option<&mut u64> {
        Some(match key {
            "fsync" => &mut self.fsync,
            "fdatasync" => &mut self.fdatasync,
            "fsyncdir" => &mut self.fsyncdir,
            "sync_writes" => &mut self.sync_writes,
            "writes" => &mut self.writes,
            "bytes_written" => &mut self.bytes_written,
            "unsynced_bytes" => &mut self.unsynced_bytes,
            "refused_writes" => &mut self.refused_writes,
            "power_losses" => &mut self.power_losses,
            "writebacks" => &mut self.writebacks,
            _ => return None,
        })
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        for (key, value) in self.fields() {
            write!(f, "{sep}{key}={value}")?;
            sep = " ";
        }
        Ok(())
    }
}

impl FromStr for Stats {
    type Err = String;

    /// Parses the text form; unknown keys are skipped, so a harness built
    /// against this version reads the replies of a newer daemon.
    fn from_str(line: &str) -> Result<Stats, String> {
        let mut stats = Stats::default();
        for pair in line.split_whitespace() {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("not key=value: {pair:?}"))?;
            let value: u64 = value.parse().map_err(|e| format!("{key}: {e}"))?;
            if let Some(field) = stats.field_mut(key) {
                *field = value;
            }
        }
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_form_round_trips() {
        let stats = Stats {
            fsync: 1,
            fdatasync: 2,
            fsyncdir: 3,
            sync_writes: 4,
            writes: 5,
            bytes_written: 6,
            unsynced_bytes: 7,
            refused_writes: 8,
            power_losses: 9,
            writebacks: 10,
        };
        let line = stats.to_string();
        assert!(line.starts_with("fsync=1 fdatasync=2 fsyncdir=3"), "{line}");
        assert_eq!(line.parse::<Stats>(), Ok(stats));
        assert_eq!("future=5 fsync=2".parse::<Stats>().map(|s| s.fsync), Ok(2));
        assert!("fsync=x".parse::<Stats>().is_err());
    }
}
