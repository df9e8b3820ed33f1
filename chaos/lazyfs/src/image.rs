//! The durable namespace: every inode a directory fsync has recorded, with
//! its attributes and, for a directory, its durable entries.
//!
//! It lives in one JSON file in the backing directory, replaced whole with
//! the host's `rename` so a daemon killed mid-write leaves the old or the new
//! image, never a mix. A record need not be reachable from the root: a
//! directory fsynced before its parent was is recorded, and becomes
//! reachable when the parent's entry does.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::attr::{Attr, Kind};
use crate::error::Error;
use crate::name::Name;

/// The root directory's inode number, as FUSE fixes it.
pub const ROOT: u64 = 1;

/// The metadata file format this code writes and reads.
const FORMAT: u32 = 1;

/// What is durable about one inode besides a file's data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Its kind.
    pub kind: Kind,
    /// Its attributes as last made durable.
    pub attr: Attr,
    /// A directory's durable entries.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub entries: BTreeMap<Name, u64>,
    /// A symlink's target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Name>,
}

/// The whole durable namespace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Image {
    format: u32,
    /// No inode number below this was ever handed out by this backing directory.
    pub next_ino: u64,
    /// The records, by inode number.
    pub records: BTreeMap<u64, Record>,
}

impl Image {
    /// A filesystem holding only an empty root directory.
    pub fn fresh(root: Attr) -> Image {
        let record = Record {
            kind: Kind::Dir,
            attr: root,
            entries: BTreeMap::new(),
            target: None,
        };
        Image {
            format: FORMAT,
            next_ino: ROOT + 1,
            records: BTreeMap::from([(ROOT, record)]),
        }
    }

    /// Reads the image at `path`; `None` if there is no file yet.
    pub fn load(path: &Path) -> Result<Option<Image>, Error> {
        let text = match fs::read(path) {
            Ok(text) => text,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("read metadata", path, e)),
        };
        let corrupt = |reason: String| Error::Corrupt {
            path: path.to_path_buf(),
            reason,
        };
        let image: Image = serde_json::from_slice(&text).map_err(|e| corrupt(e.to_string()))?;
        image.check().map_err(corrupt)?;
        Ok(Some(image))
    }

    /// Writes the image to `path` through a temporary file and a rename.
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_vec(self).map_err(|e| Error::Corrupt {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        fs::write(&tmp, text).map_err(|e| Error::io("write metadata", &tmp, e))?;
        fs::rename(&tmp, path).map_err(|e| Error::io("rename metadata into place", path, e))
    }

    /// The inodes reachable from `roots` through durable entries, roots included.
    pub fn closure(&self, roots: impl IntoIterator<Item = u64>) -> BTreeSet<u64> {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<u64> = roots.into_iter().collect();
        while let Some(ino) = todo.pop() {
            if !seen.insert(ino) {
                continue;
            }
            if let Some(record) = self.records.get(&ino) {
                todo.extend(record.entries.values().copied());
            }
        }
        seen
    }

    /// How many durable entries name each inode.
    pub fn link_counts(&self) -> BTreeMap<u64, u32> {
        let mut counts = BTreeMap::new();
        for record in self.records.values() {
            for &child in record.entries.values() {
                *counts.entry(child).or_insert(0) += 1;
            }
        }
        counts
    }

    /// Checks what the rest of the code relies on.
    fn check(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!(
                "format {} (this build reads {FORMAT})",
                self.format
            ));
        }
        match self.records.get(&ROOT) {
            Some(r) if r.kind == Kind::Dir => {}
            _ => return Err("no root directory".into()),
        }
        for (ino, record) in &self.records {
            if *ino >= self.next_ino {
                return Err(format!(
                    "inode {ino} is not below next_ino {}",
                    self.next_ino
                ));
            }
            if !record.entries.is_empty() && record.kind != Kind::Dir {
                return Err(format!("inode {ino} has entries but is not a directory"));
            }
            if let Some(child) = record
                .entries
                .values()
                .find(|c| !self.records.contains_key(c))
            {
                return Err(format!(
                    "inode {ino} names inode {child}, which has no record"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image_with_file() -> Image {
        let attr = Attr::new(0o755, 0, 0, 0);
        let mut image = Image::fresh(attr);
        let file = Record {
            kind: Kind::File,
            attr,
            entries: BTreeMap::new(),
            target: None,
        };
        image.records.insert(2, file);
        image.next_ino = 3;
        if let Some(root) = image.records.get_mut(&ROOT) {
            root.entries.insert(Name::new(b"f"), 2);
        }
        image
    }

    #[test]
    fn an_image_survives_save_and_load() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("meta.json");
        assert_eq!(Image::load(&path).expect("load"), None);
        let image = image_with_file();
        image.save(&path).expect("save");
        assert_eq!(Image::load(&path).expect("load"), Some(image));
    }

    #[test]
    fn an_entry_to_a_missing_record_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("meta.json");
        let mut image = image_with_file();
        image.records.remove(&2);
        image.save(&path).expect("save");
        let err = Image::load(&path).expect_err("must refuse");
        assert!(err.to_string().contains("names inode 2"), "{err}");
    }

    #[test]
    fn closure_follows_entries_and_counts_links() {
        let mut image = image_with_file();
        assert_eq!(image.closure([ROOT]), BTreeSet::from([1, 2]));
        image.records.remove(&ROOT);
        assert_eq!(image.closure([ROOT]), BTreeSet::from([1]));
        assert_eq!(image_with_file().link_counts().get(&2), Some(&1));
    }
}
