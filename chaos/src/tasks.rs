//! A workload's tasks: each gets its own client and a share of the rate,
//! and stopping them waits up to a deadline, aborts the ones still running
//! (their open operations stay without a completion and count as `info`)
//! and surfaces the first task that failed.

use crate::cluster::Access;
use arqonbus_client::Client;
use std::sync::atomic::{AtomicBool, Ordering};
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

/// A client of the cluster for one workload task, as `user`.
pub fn client(
    access: &Access,
    user: &str,
    request_timeout: Duration,
    retry_budget: Duration,
) -> anyhow::Result<Client> {
    let mut options = access.options(user)?;
    options.request_timeout = request_timeout;
    options.retry_budget = retry_budget;
    Ok(Client::new(options)?)
}

/// The pace of one of `tasks` tasks that together make `rate` operations
/// per second.
pub fn pace(tasks: u64, rate: f64) -> tokio::time::Interval {
    let period = Duration::from_secs_f64(tasks as f64 / rate.max(0.001));
    let mut pace = tokio::time::interval(period);
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    pace
}

/// Waits for the next tick; false once `stop` is set (before or after it).
pub async fn next_tick(pace: &mut tokio::time::Interval, stop: &AtomicBool) -> bool {
    if stop.load(Ordering::SeqCst) {
        return false;
    }
    pace.tick().await;
    !stop.load(Ordering::SeqCst)
}
