//! The measurement window the closed-loop benchmarks share (`writes`,
//! `decisions`): workers loop until the window ends; what they time counts
//! only when it started after the warm-up and finished before the end.

use super::cluster::{summarise_with_tail, TailSummary};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a worker sees of the window: whether to go on, and whether a
/// request it starts now is measured.
#[derive(Debug, Clone, Default)]
pub struct Window {
    measuring: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl Window {
    /// The window has ended: stop looping.
    pub fn ended(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// A request started now counts (the warm-up is over).
    pub fn measuring(&self) -> bool {
        self.measuring.load(Ordering::SeqCst)
    }

    /// Whether a request that started with `measuring() == counted` and
    /// just finished counts: it must have started measured and not run
    /// past the end.
    pub fn counts(&self, counted: bool) -> bool {
        counted && !self.ended()
    }
}

/// One worker's figures: latencies (ms) of the counted requests that
/// succeeded, and how many counted ones failed.
pub type Tally = (Vec<f64>, usize);

/// What the window measured over all workers.
#[derive(Debug)]
pub struct Measured {
    pub seconds: f64,
    pub done: usize,
    pub per_sec: f64,
    pub latency: TailSummary,
    pub errors: usize,
}

/// Starts `workers` workers made by `worker(k, window)`, lets them warm up
/// for `warmup`, measures for `duration`, then ends the window and adds up
/// what they counted.
pub async fn measure<F, Fut>(
    workers: usize,
    warmup: Duration,
    duration: Duration,
    worker: F,
) -> Measured
where
    F: Fn(usize, Window) -> Fut,
    Fut: Future<Output = Tally> + Send + 'static,
{
    let window = Window::default();
    let tasks: Vec<_> = (0..workers)
        .map(|k| tokio::spawn(worker(k, window.clone())))
        .collect();
    tokio::time::sleep(warmup).await;
    window.measuring.store(true, Ordering::SeqCst);
    let started = Instant::now();
    tokio::time::sleep(duration).await;
    window.stop.store(true, Ordering::SeqCst);
    let seconds = started.elapsed().as_secs_f64();
    let (mut ms, mut errors) = (Vec::new(), 0);
    for t in tasks {
        if let Ok((m, e)) = t.await {
            ms.extend(m);
            errors += e;
        }
    }
    Measured {
        seconds,
        done: ms.len(),
        per_sec: ms.len() as f64 / seconds.max(f64::MIN_POSITIVE),
        latency: summarise_with_tail(ms),
        errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_requests_inside_the_window_are_counted() {
        let m = measure(
            3,
            Duration::from_millis(20),
            Duration::from_millis(30),
            |k, w| async move {
                let (mut ms, mut errors) = (Vec::new(), 0);
                while !w.ended() {
                    let counted = w.measuring();
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    if w.counts(counted) {
                        match k {
                            0 => errors += 1,
                            _ => ms.push(1.0),
                        }
                    }
                }
                (ms, errors)
            },
        )
        .await;
        assert!(m.seconds >= 0.03, "the window lasted {} s", m.seconds);
        assert!(m.done > 0 && m.errors > 0, "{m:?}");
        // Worker 0 only fails, the two others only succeed: about twice
        // as many successes as failures, none from the warm-up.
        assert!(m.done <= 2 * m.errors + 4, "{m:?}");
    }
}
