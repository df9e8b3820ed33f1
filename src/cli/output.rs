//! Printing: JSON for `--output json`, plain text otherwise.

use arqonbus_proto::operator::OperatorReply;
use serde::Serialize;

pub fn json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Prints a refusal by the replicated state and returns the "refused" code.
pub fn refused(as_json: bool, reply: &OperatorReply) -> anyhow::Result<i32> {
    if let OperatorReply::Refused { reason, violations } = reply {
        if as_json {
            json(&serde_json::json!({ "refused": reason, "violations": violations }))?;
        } else {
            eprintln!("refused: {reason}");
        }
        return Ok(super::exit::REFUSED);
    }
    anyhow::bail!("unexpected answer: {reply:?}")
}
