//! File-system helpers shared by every stage that writes: nothing is ever left half-written
//! where a finished file belongs. And the one read loop every reader of untrusted streams
//! shares, [`read_full`].

use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::{Context, Result};

/// Writes `bytes` to `path` through a temporary file in the same directory, then renames it
/// into place, so readers see the old file or the new one, never a part.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let temp = finished_temp_file(path, bytes, mode)?;
    temp.persist(path)
        .map_err(|err| err.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Like [`write_atomic`], but never replaces an existing `path`: the error then says so.
pub fn write_atomic_new(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let temp = finished_temp_file(path, bytes, mode)?;
    temp.persist_noclobber(path)
        .map_err(|err| err.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// A temporary file beside `path` holding `bytes` with `mode`, synced, ready to be renamed.
fn finished_temp_file(path: &Path, bytes: &[u8], mode: u32) -> Result<tempfile::NamedTempFile> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut temp = tempfile::Builder::new()
        .prefix(".dh-mlmodel-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    temp.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    temp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))?;
    temp.as_file().sync_all().ok();
    Ok(temp)
}

/// Copies `source` to `dest` (streaming, so memory stays flat) through a temporary file in the
/// destination directory, then renames it into place with `mode`.
pub fn install_file(source: &Path, dest: &Path, mode: u32) -> Result<()> {
    let dir = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut input =
        std::fs::File::open(source).with_context(|| format!("cannot read {}", source.display()))?;
    let mut temp = tempfile::Builder::new()
        .prefix(".dh-mlmodel-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    std::io::copy(&mut input, temp.as_file_mut())
        .with_context(|| format!("cannot copy {} to {}", source.display(), dest.display()))?;
    temp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))?;
    temp.persist(dest)
        .map_err(|err| err.error)
        .with_context(|| format!("cannot write {}", dest.display()))?;
    Ok(())
}

/// Copies a file, or a directory tree in sorted order, keeping only the executable bit of each
/// file's mode (0755 or 0644), as a package build directory wants.
pub fn copy_tree(source: &Path, dest: &Path) -> Result<()> {
    let meta =
        std::fs::metadata(source).with_context(|| format!("cannot read {}", source.display()))?;
    if meta.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(source)
            .with_context(|| format!("cannot read {}", source.display()))?
            .collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            copy_tree(&entry.path(), &dest.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        let mode = if meta.permissions().mode() & 0o111 != 0 {
            0o755
        } else {
            0o644
        };
        install_file(source, dest, mode)
    }
}

/// Writes `value` as pretty-printed JSON with a final newline, atomically, mode 0644.
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let mut json = serde_json::to_string_pretty(value)?;
    json.push('\n');
    write_atomic(path, json.as_bytes(), 0o644)
}

/// Reads until `buf` is full or the input ends (retrying interrupted reads); the count read,
/// less than `buf.len()` only at the end of the input.
pub fn read_full<R: Read + ?Sized>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(filled)
}
