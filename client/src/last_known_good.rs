//! Last-known-good parameters, kept in a local file so a proposer that
//! restarts while the cluster is unreachable still serves them.
//!
//! The file is JSON (`{"target_system": {"param": value, ...}}`), replaced
//! atomically (written to a temporary file, fsynced, renamed, the directory
//! fsynced) so a crash never leaves half a file.
//!
//! [`LastKnownGood`] is the values in memory, changed under the session's
//! lock without touching the disk; [`LkgFile`] writes them, one write at a
//! time, on tokio's blocking pool, so no runtime thread ever waits on a
//! fsync and no lock is held across one.

use arqonbus_core::ParamValue;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub type Parameters = BTreeMap<String, ParamValue>;

#[derive(Debug, thiserror::Error)]
pub enum LastKnownGoodError {
    #[error("last-known-good file {path}: {reason}")]
    File { path: PathBuf, reason: String },
}

/// Parameters per target system, mirrored to a file on every change.
#[derive(Debug)]
pub struct LastKnownGood {
    path: PathBuf,
    targets: BTreeMap<String, Parameters>,
}

impl LastKnownGood {
    /// Loads `path` (an absent file is an empty store).
    pub fn open(path: &Path) -> Result<Self, LastKnownGoodError> {
        let err = |reason: String| LastKnownGoodError::File {
            path: path.to_path_buf(),
            reason,
        };
        let targets = match std::fs::read_to_string(path) {
            Ok(text) => {
                let raw: BTreeMap<String, BTreeMap<String, serde_json::Value>> =
                    serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
                raw.into_iter()
                    .map(|(t, ps)| {
                        let ps = ps
                            .into_iter()
                            .map(|(k, v)| {
                                Ok((
                                    k,
                                    ParamValue::from_json(&v).map_err(|e| err(e.to_string()))?,
                                ))
                            })
                            .collect::<Result<Parameters, LastKnownGoodError>>()?;
                        Ok((t, ps))
                    })
                    .collect::<Result<_, LastKnownGoodError>>()?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(err(e.to_string())),
        };
        Ok(LastKnownGood {
            path: path.to_path_buf(),
            targets,
        })
    }

    pub fn get(&self, target: &str) -> Option<&Parameters> {
        self.targets.get(target)
    }

    /// Records `parameters` for `target` in memory; whether they changed
    /// (then the file needs writing: [`LkgFile::write`]).
    pub fn set(&mut self, target: &str, parameters: Parameters) -> bool {
        if self.targets.get(target) == Some(&parameters) {
            return false;
        }
        self.targets.insert(target.to_string(), parameters);
        true
    }

    /// The file's contents for what is in memory now.
    pub fn render(&self) -> Result<Vec<u8>, LastKnownGoodError> {
        let json: BTreeMap<&String, BTreeMap<&String, serde_json::Value>> = self
            .targets
            .iter()
            .map(|(t, ps)| (t, ps.iter().map(|(k, v)| (k, v.to_json())).collect()))
            .collect();
        serde_json::to_vec_pretty(&json).map_err(|e| LastKnownGoodError::File {
            path: self.path.clone(),
            reason: e.to_string(),
        })
    }
}

/// Writes the last-known-good file off the runtime threads, one write at
/// a time (so the last one written is the last one rendered).
#[derive(Debug, Clone)]
pub struct LkgFile {
    path: PathBuf,
    writing: Arc<tokio::sync::Mutex<()>>,
}

impl LkgFile {
    pub fn new(path: &Path) -> Self {
        LkgFile {
            path: path.to_path_buf(),
            writing: Arc::default(),
        }
    }

    /// Writes what `render` gives, once earlier writes are done: it is
    /// called then, so it renders the newest values.
    pub async fn write(
        &self,
        render: impl FnOnce() -> Result<Vec<u8>, LastKnownGoodError>,
    ) -> Result<(), LastKnownGoodError> {
        let _one_at_a_time = self.writing.lock().await;
        let bytes = render()?;
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || write_file(&path, &bytes))
            .await
            .map_err(|e| LastKnownGoodError::File {
                path: self.path.clone(),
                reason: e.to_string(),
            })?
    }
}

/// Replaces the file at `path` with `bytes`, durably (blocking).
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), LastKnownGoodError> {
    let err = |reason: String| LastKnownGoodError::File {
        path: path.to_path_buf(),
        reason,
    };
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp).map_err(|e| err(e.to_string()))?;
    file.write_all(bytes).map_err(|e| err(e.to_string()))?;
    file.sync_all().map_err(|e| err(e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|e| err(e.to_string()))?;
    // The rename is durable only once the directory entry is.
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| err(format!("syncing the directory {}: {e}", dir.display())))
}

#[cfg(test)]
mod tests;
