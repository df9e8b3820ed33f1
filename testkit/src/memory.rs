//! A node process's memory, from Linux's `/proc/PID/status`: resident set
//! now and at its peak (`VmRSS`, `VmHWM`), and resetting the peak
//! (`/proc/PID/clear_refs`) so that a test or bench can measure what one
//! load added.

use crate::error::{Result, TestkitError};

/// Resident memory of one process, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// Resident now.
    pub rss: u64,
    /// The most it has been resident since it started, or since the peak
    /// was last reset.
    pub peak: u64,
}

/// Reads `pid`'s resident memory.
pub fn memory(pid: u32) -> Result<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    Ok(Memory {
        rss: field_kib(&status, "VmRSS:")? * 1024,
        peak: field_kib(&status, "VmHWM:")? * 1024,
    })
}

/// Resets `pid`'s peak resident memory to what is resident now.
pub fn reset_peak(pid: u32) -> Result<()> {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")?;
    Ok(())
}

fn field_kib(status: &str, name: &str) -> Result<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| TestkitError::Command {
            command: format!("reading {name} of /proc/PID/status"),
            detail: "field missing or not in kB".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_a_resident_set_and_its_peak_can_be_reset() {
        let me = std::process::id();
        let block = vec![1u8; 32 << 20];
        let before = memory(me).expect("readable");
        assert!(before.peak >= before.rss && before.rss >= 32 << 20);
        drop(block);
        reset_peak(me).expect("resettable");
        let after = memory(me).expect("readable");
        assert!(after.peak < before.peak, "{before:?} then {after:?}");
    }
}
