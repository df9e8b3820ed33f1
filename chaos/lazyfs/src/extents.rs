//! The unsynced changes to one file's contents: a map of non-overlapping
//! extents, each either bytes written or a range zeroed.
//!
//! Only `Bytes` extents hold memory; a zeroed range (a punched hole) is just
//! its length. Later changes replace whatever earlier extents they overlap.

use std::collections::BTreeMap;

/// Adjacent written extents are merged while the result stays this small,
/// so a run of small sequential writes does not become thousands of
/// extents, yet splitting one never copies more than this.
const MERGE_LIMIT: usize = 1 << 20;

/// One extent's contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Chunk {
    /// Bytes written.
    Bytes(Vec<u8>),
    /// A zeroed range of this length.
    Zeros(u64),
}

impl Chunk {
    fn len(&self) -> u64 {
        match self {
            Chunk::Bytes(b) => b.len() as u64,
            Chunk::Zeros(n) => *n,
        }
    }

    fn held(&self) -> u64 {
        match self {
            Chunk::Bytes(b) => b.len() as u64,
            Chunk::Zeros(_) => 0,
        }
    }

    /// Cuts the chunk at `at` (0 < at < len), keeping the front; returns the back.
    fn split_off(&mut self, at: u64) -> Chunk {
        match self {
            Chunk::Bytes(b) => Chunk::Bytes(b.split_off(at as usize)),
            Chunk::Zeros(n) => {
                let back = *n - at;
                *n = at;
                Chunk::Zeros(back)
            }
        }
    }
}

/// The unsynced extents of one file.
#[derive(Debug, Default)]
pub struct Extents {
    map: BTreeMap<u64, Chunk>,
    held: u64,
}

impl Extents {
    /// Bytes of written data held in memory.
    pub fn held(&self) -> u64 {
        self.held
    }

    /// Written bytes held within `[start, end)`: what a write there would replace.
    pub fn held_within(&self, start: u64, end: u64) -> u64 {
        let before = self.map.range(..start).next_back();
        let inside = self.map.range(start..end);
        before
            .into_iter()
            .chain(inside)
            .filter(|(_, c)| matches!(c, Chunk::Bytes(_)))
            .map(|(&s, c)| (s + c.len()).min(end).saturating_sub(s.max(start)))
            .sum()
    }

    /// Records `data` written at `offset`.
    pub fn write(&mut self, offset: u64, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let end = offset + data.len() as u64;
        self.carve(offset, end);
        let mut start = offset;
        let mut bytes = data.to_vec();
        if let Some((&s, Chunk::Bytes(prev))) = self.map.range(..offset).next_back() {
            if s + prev.len() as u64 == offset && prev.len() + bytes.len() <= MERGE_LIMIT {
                let mut merged = self.take(s);
                if let Chunk::Bytes(b) = &mut merged {
                    b.extend_from_slice(&bytes);
                    bytes = std::mem::take(b);
                }
                start = s;
            }
        }
        if let Some(Chunk::Bytes(next)) = self.map.get(&end) {
            if next.len() + bytes.len() <= MERGE_LIMIT {
                if let Chunk::Bytes(b) = self.take(end) {
                    bytes.extend_from_slice(&b);
                }
            }
        }
        self.put(start, Chunk::Bytes(bytes));
    }

    /// Records `[start, end)` zeroed.
    pub fn zero(&mut self, start: u64, end: u64) {
        if start < end {
            self.carve(start, end);
            self.put(start, Chunk::Zeros(end - start));
        }
    }

    /// Forgets every extent at or past `size`, as a truncate does.
    pub fn truncate(&mut self, size: u64) {
        self.carve(size, u64::MAX);
    }

    /// Copies what the extents say about `[offset, offset + buf.len())` into `buf`.
    pub fn overlay(&self, offset: u64, buf: &mut [u8]) {
        let end = offset + buf.len() as u64;
        let before = self.map.range(..offset).next_back();
        for (&s, chunk) in before.into_iter().chain(self.map.range(offset..end)) {
            let from = s.max(offset);
            let to = (s + chunk.len()).min(end);
            if from >= to {
                continue;
            }
            let dst = &mut buf[(from - offset) as usize..(to - offset) as usize];
            match chunk {
                Chunk::Bytes(b) => dst.copy_from_slice(&b[(from - s) as usize..(to - s) as usize]),
                Chunk::Zeros(_) => dst.fill(0),
            }
        }
    }

    /// The extents in offset order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &Chunk)> {
        self.map.iter().map(|(&s, c)| (s, c))
    }

    /// Drops every extent, as once they are synced.
    pub fn clear(&mut self) {
        self.map.clear();
        self.held = 0;
    }

    /// Removes everything within `[start, end)`, splitting extents that straddle it.
    fn carve(&mut self, start: u64, end: u64) {
        if let Some((&s, c)) = self.map.range(..start).next_back() {
            if s + c.len() > start {
                let mut front = self.take(s);
                let mut back = front.split_off(start - s);
                self.put(s, front);
                if start + back.len() > end {
                    let tail = back.split_off(end - start);
                    self.put(end, tail);
                }
            }
        }
        let inside: Vec<u64> = self.map.range(start..end).map(|(&s, _)| s).collect();
        for s in inside {
            let mut chunk = self.take(s);
            if s + chunk.len() > end {
                let tail = chunk.split_off(end - s);
                self.put(end, tail);
            }
        }
    }

    fn take(&mut self, start: u64) -> Chunk {
        let chunk = self.map.remove(&start).unwrap_or(Chunk::Zeros(0));
        self.held -= chunk.held();
        chunk
    }

    fn put(&mut self, start: u64, chunk: Chunk) {
        self.held += chunk.held();
        self.map.insert(start, chunk);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(e: &Extents, offset: u64, len: usize) -> Vec<u8> {
        let mut buf = vec![b'.'; len];
        e.overlay(offset, &mut buf);
        buf
    }

    #[test]
    fn later_writes_replace_the_overlapped_part_of_earlier_ones() {
        let mut e = Extents::default();
        e.write(0, b"aaaaaaaa");
        e.write(10, b"bbbb");
        e.write(6, b"XXXXXX");
        assert_eq!(read(&e, 0, 16), b"aaaaaaXXXXXXbb..");
        assert_eq!(e.held(), 14);
    }

    #[test]
    fn sequential_writes_merge_into_one_extent() {
        let mut e = Extents::default();
        for i in 0..100u64 {
            e.write(i * 10, &[i as u8; 10]);
        }
        assert_eq!(e.iter().count(), 1);
        assert_eq!(e.held(), 1000);
        e.write(5, b"zz");
        assert_eq!(read(&e, 4, 4), [0, b'z', b'z', 0]);
        assert_eq!(e.held(), 1000);
    }

    #[test]
    fn zeroed_ranges_hold_no_memory_and_read_as_zeros() {
        let mut e = Extents::default();
        e.write(0, b"abcdefgh");
        e.zero(2, 6);
        assert_eq!(read(&e, 0, 9), b"ab\0\0\0\0gh.");
        assert_eq!(e.held(), 4);
        e.zero(0, 1 << 40);
        assert_eq!(e.held(), 0);
        assert_eq!(e.iter().count(), 1);
    }

    #[test]
    fn truncate_cuts_the_straddling_extent() {
        let mut e = Extents::default();
        e.write(0, b"abcdef");
        e.write(100, b"far");
        e.truncate(3);
        assert_eq!(read(&e, 0, 6), b"abc...");
        assert_eq!(e.held(), 3);
        assert_eq!(read(&e, 100, 3), b"...");
    }

    #[test]
    fn held_within_counts_only_written_bytes_in_range() {
        let mut e = Extents::default();
        e.write(0, b"abcdef");
        e.zero(6, 10);
        e.write(10, b"gh");
        assert_eq!(e.held_within(3, 11), 4);
        assert_eq!(e.held_within(20, 30), 0);
    }

    #[test]
    fn a_write_inside_one_extent_splits_it_in_three() {
        let mut e = Extents::default();
        e.zero(0, 10);
        e.write(4, b"xy");
        let starts: Vec<u64> = e.iter().map(|(s, _)| s).collect();
        assert_eq!(starts, [0, 4, 6]);
        assert_eq!(read(&e, 0, 10), b"\0\0\0\0xy\0\0\0\0");
    }
}
