//! The durable state, kept in a backing directory on the host's disk: the
//! image of the namespace (`meta.json`) and one data file per inode whose
//! contents were ever fsynced (`data/<ino>`, its length the durable size).
//!
//! The host does not lose power in a test, so these files need no fsync of
//! their own: they survive the daemon being killed and remounted. An fsync
//! through the mount rewrites the inode's data file in place; a daemon killed
//! in the middle of one leaves that file part old, part new, as a real disk
//! may after a power loss during an fsync.

use std::collections::{BTreeSet, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::ErrorKind;
use std::iter;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::attr::Attr;
use crate::error::Error;
use crate::extents::{Chunk, Extents};
use crate::image::{Image, ROOT};

const META: &str = "meta.json";
const DATA: &str = "data";
/// Data files kept open between calls; past this many the cache is emptied.
const OPEN_FILES: usize = 64;
static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];

/// The backing directory and what is loaded from it.
#[derive(Debug)]
pub struct Durable {
    dir: PathBuf,
    image: Image,
    data_files: BTreeSet<u64>,
    open: HashMap<u64, File>,
}

impl Durable {
    /// Opens (or starts) the backing directory `dir`, dropping whatever no
    /// durable entry reaches: after a restart nothing volatile is alive.
    pub fn open(dir: &Path) -> Result<Durable, Error> {
        let data = dir.join(DATA);
        fs::create_dir_all(&data).map_err(|e| Error::io("create backing directory", &data, e))?;
        let meta = dir.join(META);
        let image = match Image::load(&meta)? {
            Some(image) => image,
            None => {
                let uid = nix::unistd::geteuid().as_raw();
                let gid = nix::unistd::getegid().as_raw();
                let image = Image::fresh(Attr::new(0o755, uid, gid, 0));
                image.save(&meta)?;
                image
            }
        };
        let mut durable = Durable {
            dir: dir.to_path_buf(),
            image,
            data_files: list_data_files(&data)?,
            open: HashMap::new(),
        };
        durable.collect(iter::empty())?;
        Ok(durable)
    }

    /// The durable namespace.
    pub fn image(&self) -> &Image {
        &self.image
    }

    /// The durable namespace, to change before a [`commit`](Self::commit).
    pub fn image_mut(&mut self) -> &mut Image {
        &mut self.image
    }

    /// A new inode number, never handed out before by this backing directory.
    pub fn alloc_ino(&mut self) -> u64 {
        let ino = self.image.next_ino;
        self.image.next_ino += 1;
        ino
    }

    /// Writes the image to the backing directory.
    pub fn commit(&mut self) -> Result<(), Error> {
        self.image.save(&self.dir.join(META))
    }

    /// The durable size of `ino`'s contents.
    pub fn len(&mut self, ino: u64) -> Result<u64, Error> {
        let path = self.data_path(ino);
        match self.file(ino, false)? {
            Some(f) => f
                .metadata()
                .map(|m| m.len())
                .map_err(|e| Error::io("stat", path, e)),
            None => Ok(0),
        }
    }

    /// Fills `buf` with durable contents of `ino` from `offset`; past the end
    /// of the data file `buf` is left as it is.
    pub fn read(&mut self, ino: u64, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        let path = self.data_path(ino);
        let Some(f) = self.file(ino, false)? else {
            return Ok(());
        };
        let mut done = 0;
        while done < buf.len() {
            match f.read_at(&mut buf[done..], offset + done as u64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io("read data file", path, e)),
            }
        }
        Ok(())
    }

    /// Makes the durable contents of `ino` what the volatile view says: the
    /// bytes below `floor` kept, the file `size` long, `extents` applied.
    pub fn sync(
        &mut self,
        ino: u64,
        size: u64,
        floor: u64,
        extents: &Extents,
    ) -> Result<(), Error> {
        if size == 0 && !self.data_files.contains(&ino) {
            return Ok(());
        }
        let path = self.data_path(ino);
        let io = |what| {
            let path = path.clone();
            move |e| Error::io(what, path, e)
        };
        let Some(f) = self.file(ino, true)? else {
            return Ok(());
        };
        let len = f.metadata().map_err(io("stat data file"))?.len();
        if floor < len {
            f.set_len(floor).map_err(io("truncate data file"))?;
        }
        if size != floor.min(len) {
            f.set_len(size).map_err(io("resize data file"))?;
        }
        for (start, chunk) in extents.iter() {
            match chunk {
                Chunk::Bytes(bytes) => f.write_all_at(bytes, start),
                Chunk::Zeros(n) => write_zeros(f, start, *n),
            }
            .map_err(io("write data file"))?;
        }
        Ok(())
    }

    /// Drops the records and data files that neither the root nor a
    /// volatile inode in `alive` reaches through durable entries. The image
    /// is written before any data file goes, so a daemon killed in between
    /// leaves a stray file (removed at the next open), never a dangling entry.
    pub fn collect(&mut self, alive: impl IntoIterator<Item = u64>) -> Result<(), Error> {
        let keep = self.image.closure(iter::once(ROOT).chain(alive));
        let before = self.image.records.len();
        self.image.records.retain(|ino, _| keep.contains(ino));
        if self.image.records.len() != before {
            self.commit()?;
        }
        let dead: Vec<u64> = self
            .data_files
            .iter()
            .copied()
            .filter(|i| !keep.contains(i))
            .collect();
        for ino in dead {
            self.remove_data(ino)?;
        }
        Ok(())
    }

    /// Whether `ino` has a durable record or data file.
    pub fn holds(&self, ino: u64) -> bool {
        self.image.records.contains_key(&ino) || self.data_files.contains(&ino)
    }

    fn remove_data(&mut self, ino: u64) -> Result<(), Error> {
        self.open.remove(&ino);
        self.data_files.remove(&ino);
        let path = self.data_path(ino);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != ErrorKind::NotFound => {
                Err(Error::io("remove data file", path, e))
            }
            _ => Ok(()),
        }
    }

    fn data_path(&self, ino: u64) -> PathBuf {
        self.dir.join(DATA).join(ino.to_string())
    }

    /// The open data file of `ino`; with `create`, made if missing.
    fn file(&mut self, ino: u64, create: bool) -> Result<Option<&File>, Error> {
        if !self.data_files.contains(&ino) && !create {
            return Ok(None);
        }
        if !self.open.contains_key(&ino) {
            if self.open.len() >= OPEN_FILES {
                self.open.clear();
            }
            let path = self.data_path(ino);
            let f = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| Error::io("open data file", path, e))?;
            self.data_files.insert(ino);
            self.open.insert(ino, f);
        }
        Ok(self.open.get(&ino))
    }
}

fn write_zeros(f: &File, start: u64, len: u64) -> std::io::Result<()> {
    let mut done = 0;
    while done < len {
        let n = (len - done).min(ZEROS.len() as u64);
        f.write_all_at(&ZEROS[..n as usize], start + done)?;
        done += n;
    }
    Ok(())
}

/// The inode numbers of the data files in `dir`; other names are left alone.
fn list_data_files(dir: &Path) -> Result<BTreeSet<u64>, Error> {
    let entries = fs::read_dir(dir).map_err(|e| Error::io("list data files", dir, e))?;
    let mut inos = BTreeSet::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list data files", dir, e))?;
        match entry.file_name().to_str().and_then(|n| n.parse().ok()) {
            Some(ino) => {
                inos.insert(ino);
            }
            None => tracing::warn!(file = ?entry.path(), "not a data file; left alone"),
        }
    }
    Ok(inos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_applies_floor_size_and_extents() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut d = Durable::open(dir.path()).expect("open");
        let ino = d.alloc_ino();
        let mut e = Extents::default();
        e.write(0, b"hello world");
        d.sync(ino, 11, 0, &e).expect("sync");
        let mut e = Extents::default();
        e.write(2, b"XY");
        e.zero(6, 8);
        d.sync(ino, 9, 5, &e).expect("sync");
        let mut buf = [b'.'; 12];
        d.read(ino, 0, &mut buf).expect("read");
        assert_eq!(&buf, b"heXYo\0\0\0\0...");
        assert_eq!(d.len(ino).expect("len"), 9);
    }

    #[test]
    fn open_removes_data_files_no_record_reaches() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut d = Durable::open(dir.path()).expect("open");
        let ino = d.alloc_ino();
        let mut e = Extents::default();
        e.write(0, b"orphan");
        d.sync(ino, 6, 0, &e).expect("sync");
        let path = dir.path().join(DATA).join(ino.to_string());
        assert!(path.exists());
        drop(d);
        let mut d = Durable::open(dir.path()).expect("reopen");
        assert!(!path.exists());
        assert_eq!(d.len(ino).expect("len"), 0);
    }
}
