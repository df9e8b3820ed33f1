//! Stopping a workload's tasks: wait for them up to a deadline, abort the
//! ones still running (their open operations stay without a completion and
//! count as `info`), and surface the first task that failed.

use std::time::Duration;
use tokio::task::JoinHandle;

/// Waits for `tasks` for at most `bound` in all; returns how many had to
/// be aborted. `what` names the tasks in errors.
pub async fn join_within(
    tasks: Vec<JoinHandle<anyhow::Result<()>>>,
    bound: Duration,
    what: &str,
) -> anyhow::Result<usize> {
    let deadline = tokio::time::Instant::now() + bound;
    let mut abandoned = 0;
    for mut task in tasks {
        match tokio::time::timeout_at(deadline, &mut task).await {
            Ok(Ok(result)) => result?,
            Ok(Err(join)) => anyhow::bail!("a {what} task failed: {join}"),
            Err(_) => {
                task.abort();
                abandoned += 1;
            }
        }
    }
    Ok(abandoned)
}
