//! Writing the certificate directory: keys mode 0600, atomically, never
//! over an existing file unless forced. Its layout is
//! [`arqonbus_transport::CertDir`].

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use arqonbus_transport::CertDir;

use super::error::CertError;

/// Creates the directory (mode 0700 where it is new).
pub(crate) fn create_dir(dir: &CertDir) -> Result<(), CertError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir.root())
        .map_err(|e| CertError::io("create directory", dir.root(), e))
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
