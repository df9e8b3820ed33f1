//! Writing the history as it happens: one JSON line per event, written
//! with a single `write` call while a lock is held, so the file's line
//! order is the real-time order the checker relies on (see
//! `chaos/README.md`). Times are nanoseconds since the recorder started,
//! on the monotonic clock.

use serde_json::{json, Value};
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

/// The kind of a history event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Invoke,
    Ok,
    Fail,
    Info,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Invoke => "invoke",
            Kind::Ok => "ok",
            Kind::Fail => "fail",
            Kind::Info => "info",
        }
    }
}

/// One event to record; `error` and `node` are extra fields for humans.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub process: u64,
    pub kind: Kind,
    pub f: &'a str,
    pub key: &'a str,
    pub value: Value,
    pub error: Option<String>,
}

/// The history file, shared by every workload task.
pub struct Recorder {
    file: Mutex<File>,
    start: Instant,
}

impl Recorder {
    pub fn create(path: &Path, start: Instant) -> std::io::Result<Recorder> {
        Ok(Recorder {
            file: Mutex::new(File::create(path)?),
            start,
        })
    }

    /// Nanoseconds since the run started.
    pub fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// Appends one event. The time is taken under the lock, so times grow
    /// with line numbers.
    pub fn record(&self, event: Event<'_>) -> std::io::Result<()> {
        let mut file = self
            .file
            .lock()
            .map_err(|_| std::io::Error::other("history lock poisoned"))?;
        let mut line = json!({
            "process": event.process,
            "type": event.kind.name(),
            "f": event.f,
            "key": event.key,
            "value": event.value,
            "time_ns": self.now_ns(),
        });
        if let (Some(error), Some(map)) = (event.error, line.as_object_mut()) {
            map.insert("error".into(), Value::String(error));
        }
        let mut text = line.to_string();
        text.push('\n');
        file.write_all(text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_lines_the_checker_reads() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("h.jsonl");
        let rec = Recorder::create(&path, Instant::now()).expect("create");
        let ev = |kind, value| Event {
            process: 0,
            kind,
            f: "write",
            key: "t/k0",
            value,
            error: None,
        };
        rec.record(ev(Kind::Invoke, json!(1))).expect("record");
        rec.record(Event {
            error: Some("timed out".into()),
            ..ev(Kind::Info, json!(1))
        })
        .expect("record");
        let text = std::fs::read_to_string(&path).expect("read");
        let events = crate::history::read_history(text.as_bytes()).expect("parses");
        assert_eq!(events.len(), 2);
        assert!(text.contains("\"error\":\"timed out\""), "{text}");
        assert!(events[0].time_ns <= events[1].time_ns);
    }
}
