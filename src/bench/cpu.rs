//! A process's CPU time from `/proc/<pid>/stat` (user + system), for
//! figures such as a leader's CPU use over a measured window.

use std::time::Duration;

/// Clock ticks per second of `/proc/<pid>/stat` (USER_HZ: 100 on Linux).
const TICKS_PER_SEC: u64 = 100;

/// utime + stime, in clock ticks, from the text of a `stat` file. The
/// command name (field 2) may hold spaces and parentheses: the fields
/// are counted from its last `)`.
pub fn ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Field 3 (state) is fields[0]; utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// The CPU time process `pid` has used so far.
pub fn cpu_time(pid: u32) -> std::io::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let t = ticks(&stat).ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, "unreadable /proc stat")
    })?;
    Ok(Duration::from_millis(t * 1000 / TICKS_PER_SEC))
}

#[cfg(test)]
mod tests {
    #[test]
    fn utime_and_stime_are_read_after_the_command_name() {
        let stat = "4242 (arq (on) bus) S 1 4242 4242 0 -1 4194560 900 0 0 0 1234 56 0 0 20 0 9 0 100 1000 200";
        assert_eq!(super::ticks(stat), Some(1290));
        assert_eq!(super::ticks("garbage"), None);
        let own = super::cpu_time(std::process::id()).expect("own stat");
        assert!(own.as_secs() < 100_000);
    }
}
