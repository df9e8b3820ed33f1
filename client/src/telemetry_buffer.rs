//! A bounded queue of telemetry samples kept while the cluster is
//! unreachable. When full, the oldest sample is dropped (the newest say
//! more about the system now) and the drop is counted.

use std::collections::VecDeque;

#[derive(Debug)]
pub struct TelemetryBuffer<T> {
    capacity: usize,
    samples: VecDeque<T>,
    dropped: u64,
}

impl<T> TelemetryBuffer<T> {
    pub fn new(capacity: usize) -> Self {
        TelemetryBuffer {
            capacity: capacity.max(1),
            samples: VecDeque::new(),
            dropped: 0,
        }
    }

    pub fn push(&mut self, sample: T) {
        if self.samples.len() == self.capacity {
            self.samples.pop_front();
            self.dropped += 1;
        }
        self.samples.push_back(sample);
    }

    /// Takes up to `n` of the oldest samples, to send.
    pub fn take(&mut self, n: usize) -> Vec<T> {
        let n = n.min(self.samples.len());
        self.samples.drain(..n).collect()
    }

    /// Puts samples that could not be sent back at the front, in order,
    /// still within the bound.
    pub fn put_back(&mut self, samples: Vec<T>) {
        for s in samples.into_iter().rev() {
            if self.samples.len() == self.capacity {
                self.dropped += 1;
                continue;
            }
            self.samples.push_front(s);
        }
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Samples dropped since the buffer was made.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_stays_within_its_bound_and_counts_what_it_drops() {
        let mut b = TelemetryBuffer::new(3);
        for i in 0..5 {
            b.push(i);
        }
        assert_eq!(b.len(), 3);
        assert_eq!(b.dropped(), 2);
        assert_eq!(b.take(2), [2, 3]);
        b.put_back(vec![2, 3]);
        assert_eq!(b.take(10), [2, 3, 4]);
        assert!(b.is_empty());
    }

    #[test]
    fn putting_back_into_a_refilled_buffer_drops_the_oldest() {
        let mut b = TelemetryBuffer::new(2);
        b.push(1);
        b.push(2);
        let sent = b.take(2);
        b.push(3);
        b.push(4);
        b.put_back(sent);
        assert_eq!(b.take(10), [3, 4]);
        assert_eq!(b.dropped(), 2);
    }
}
