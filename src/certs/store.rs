//! The certificate directory: where `ca.pem`, `ca.key`, `<name>.pem` and
//! `<name>.key` live, and how they are written (keys mode 0600, atomically,
//! never over an existing file unless forced).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::error::CertError;

/// Base name of the CA files (`ca.pem`, `ca.key`); no certificate may use it.
pub const CA_NAME: &str = "ca";

/// A directory of PEM files: the cluster CA and the certificates it issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertDir {
    root: PathBuf,
}

impl CertDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        CertDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `DIR/ca.pem`: the CA certificate every node and client trusts.
    pub fn ca_cert(&self) -> PathBuf {
        self.cert(CA_NAME)
    }

    /// `DIR/ca.key`: the CA's private key; only `certs` commands read it.
    pub fn ca_key(&self) -> PathBuf {
        self.key(CA_NAME)
    }

    /// `DIR/<name>.pem`.
    pub fn cert(&self, name: &str) -> PathBuf {
        self.root.join(format!("{name}.pem"))
    }

    /// `DIR/<name>.key`.
    pub fn key(&self, name: &str) -> PathBuf {
        self.root.join(format!("{name}.key"))
    }

    /// Whether either CA file is present.
    pub fn has_ca(&self) -> bool {
        self.ca_cert().exists() || self.ca_key().exists()
    }

    /// Creates the directory (mode 0700 where it is new).
    pub(crate) fn create(&self) -> Result<(), CertError> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&self.root)
            .map_err(|e| CertError::io("create directory", &self.root, e))
    }
}

/// Fails with `FileExists` on the first path that exists, unless `force`.
pub(crate) fn ensure_absent<'a>(
    paths: impl IntoIterator<Item = &'a PathBuf>,
    force: bool,
) -> Result<(), CertError> {
    if force {
        return Ok(());
    }
    match paths.into_iter().find(|p| p.exists()) {
        Some(path) => Err(CertError::FileExists(path.clone())),
        None => Ok(()),
    }
}

/// Whether a file holds a secret (mode 0600) or public data (mode 0644).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Secrecy {
    Secret,
    Public,
}

/// Writes `contents` to `path` through a temporary file in the same
/// directory and a rename, so a reader never sees half a key and a secret is
/// never readable by others, not even for a moment.
pub(crate) fn write_file(path: &Path, contents: &str, secrecy: Secrecy) -> Result<(), CertError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let mode = match secrecy {
        Secrecy::Secret => 0o600,
        Secrecy::Public => 0o644,
    };
    let result = write_new(&tmp, contents, mode)
        .and_then(|()| fs::rename(&tmp, path).map_err(|e| CertError::io("rename into", path, e)));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn write_new(path: &Path, contents: &str, mode: u32) -> Result<(), CertError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    let mut file = options
        .open(path)
        .map_err(|e| CertError::io("create", path, e))?;
    // The umask may have removed bits; set exactly the mode we mean.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(|e| CertError::io("set permissions on", path, e))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| CertError::io("write", path, e))
}

/// Reads a whole PEM file.
pub(crate) fn read_text(path: &Path) -> Result<String, CertError> {
    fs::read_to_string(path).map_err(|e| CertError::io("read", path, e))
}
