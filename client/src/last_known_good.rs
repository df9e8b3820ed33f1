//! Last-known-good parameters, kept in a local file so a proposer that
//! restarts while the cluster is unreachable still serves them.
//!
//! The file is JSON (`{"target_system": {"param": value, ...}}`), replaced
//! atomically (written to a temporary file, fsynced, renamed) so a crash
//! never leaves half a file.

use arqonbus_core::ParamValue;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

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

    /// Records `parameters` for `target` and writes the file before returning.
    pub fn set(&mut self, target: &str, parameters: Parameters) -> Result<(), LastKnownGoodError> {
        if self.targets.get(target) == Some(&parameters) {
            return Ok(());
        }
        self.targets.insert(target.to_string(), parameters);
        self.save()
    }

    fn save(&self) -> Result<(), LastKnownGoodError> {
        let err = |reason: String| LastKnownGoodError::File {
            path: self.path.clone(),
            reason,
        };
        let json: BTreeMap<&String, BTreeMap<&String, serde_json::Value>> = self
            .targets
            .iter()
            .map(|(t, ps)| (t, ps.iter().map(|(k, v)| (k, v.to_json())).collect()))
            .collect();
        let text = serde_json::to_vec_pretty(&json).map_err(|e| err(e.to_string()))?;
        let tmp = self.path.with_extension("tmp");
        let mut file = std::fs::File::create(&tmp).map_err(|e| err(e.to_string()))?;
        file.write_all(&text).map_err(|e| err(e.to_string()))?;
        file.sync_all().map_err(|e| err(e.to_string()))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| err(e.to_string()))?;
        // The rename is durable only once the directory entry is.
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => std::path::Path::new("."),
        };
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| err(format!("syncing the directory {}: {e}", dir.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restarted_client_reads_back_what_it_stored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("lkg.json");
        let mut lkg = LastKnownGood::open(&path).expect("empty store");
        assert!(lkg.get("svc").is_none());
        let params = Parameters::from([
            ("batch_size".to_string(), ParamValue::Int(32)),
            ("temperature".to_string(), ParamValue::Float(0.7)),
            ("mode".to_string(), ParamValue::Enum("chat".into())),
        ]);
        lkg.set("svc", params.clone()).expect("saved");
        drop(lkg);
        let again = LastKnownGood::open(&path).expect("reopened");
        assert_eq!(again.get("svc"), Some(&params));
    }

    #[test]
    fn a_damaged_file_is_an_error_not_an_empty_store() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("lkg.json");
        std::fs::write(&path, "{\"svc\": [1,").expect("write");
        assert!(LastKnownGood::open(&path).is_err());
    }
}
