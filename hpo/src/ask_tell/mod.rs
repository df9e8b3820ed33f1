//! The ask-tell protocol over JSON lines, so any language can drive the
//! engine (as Optuna's ask-and-tell interface does). The engine writes one
//! proposal per line and waits for its answer; a bad answer gets an error
//! line, changes nothing, and the engine waits on. After the budget, on
//! convergence (when asked to stop), or at the end of input it writes a
//! `done` line with the best point. See `message` for the line formats.

mod message;

pub use message::{parse_answer, Answer, Best, Done, ErrorBody, LineError, Output};

use crate::adapt::Pace;
use crate::engine::Engine;
use crate::feedback::{Feedback, Millis};
use std::io::{self, BufRead, Write};

/// When to stop asking.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Options {
    /// The most proposals to make; unbounded when `None`.
    pub budget: Option<usize>,
}

/// Drives `engine` over `input` and `output` until done; returns the last
/// line written.
pub fn run(
    engine: &mut Engine,
    input: impl BufRead,
    mut output: impl Write,
    options: Options,
) -> io::Result<Done> {
    let mut lines = input.lines().enumerate();
    let mut now: Millis = 0;
    let mut asked = 0;
    let reason = loop {
        if options.budget.is_some_and(|b| asked >= b) {
            break "budget";
        }
        if engine.pace() == Pace::Stop {
            break "converged";
        }
        let proposal = match engine.propose(now) {
            Ok(p) => p,
            Err(e) => {
                write_error(&mut output, e.kind(), e.to_string(), None)?;
                break "no_admissible_proposal";
            }
        };
        asked += 1;
        write_line(&mut output, &Output::Ask(&proposal))?;
        if !await_answer(engine, &mut lines, &mut output, &mut now)? {
            break "input_closed";
        }
    };
    let done = done(engine, reason, asked);
    write_line(&mut output, &Output::Done { done: done.clone() })?;
    Ok(done)
}

/// Reads lines until one answers a pending proposal; false at end of input.
fn await_answer(
    engine: &mut Engine,
    lines: &mut impl Iterator<Item = (usize, io::Result<String>)>,
    output: &mut impl Write,
    now: &mut Millis,
) -> io::Result<bool> {
    for (index, line) in lines {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match apply(engine, &line, now) {
            Ok(()) => return Ok(true),
            Err(e) => write_error(output, e.kind(), e.to_string(), Some(index + 1))?,
        }
    }
    Ok(false)
}

/// Applies one answer line; on an error nothing changes (the clock included).
fn apply(engine: &mut Engine, line: &str, now: &mut Millis) -> Result<(), LineError> {
    let (answer, clock) = parse_answer(line)?;
    match &answer {
        Answer::Observed { id, value } => engine.observed(*id, *value)?,
        Answer::Rejected(r) => engine.rejected(r)?,
        Answer::RolledBack(r) => engine.rolled_back(r)?,
    }
    if let Some(c) = clock {
        *now = (*now).max(c);
    }
    Ok(())
}

fn done(engine: &Engine, reason: &'static str, asked: usize) -> Done {
    Done {
        reason,
        asked,
        observed: engine.history().len(),
        best: engine.best().map(|r| Best {
            id: r.proposal,
            parameters: r.assignment.clone(),
            value: r.value,
        }),
    }
}

fn write_error(
    output: &mut impl Write,
    kind: &'static str,
    message: String,
    line: Option<usize>,
) -> io::Result<()> {
    let error = ErrorBody {
        kind,
        message,
        line,
    };
    write_line(output, &Output::Error { error })
}

fn write_line(output: &mut impl Write, line: &Output) -> io::Result<()> {
    let text = serde_json::to_string(line).map_err(io::Error::other)?;
    writeln!(output, "{text}")?;
    output.flush()
}

#[cfg(test)]
mod tests;
