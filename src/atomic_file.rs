//! Replacing one data file so that a crash never leaves it torn: the ledger
//! and the fetched comments are committed to git, and a half-written one
//! would lose what was posted or fetched.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;

/// Replaces `path` with `bytes` so that readers see the old file or the new
/// one, never a part: the bytes go to a temporary file beside it, are flushed
/// to disk, and the temporary file is renamed over `path`.
pub fn replace(path: &Path, bytes: &[u8]) -> Result<()> {
    replace_with(path, bytes, true)
}

/// [`replace`] without flushing to disk: readers still see the old file or
/// the new one, but a crash may lose the new one (or leave an empty file).
/// For caches, where a lost file costs time and a torn one reads as empty.
pub fn replace_unflushed(path: &Path, bytes: &[u8]) -> Result<()> {
    replace_with(path, bytes, false)
}

fn replace_with(path: &Path, bytes: &[u8], flush: bool) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create folder", dir, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".herald.")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::io("create a temporary file in", dir, e))?;
    tmp.write_all(bytes)
        .and_then(|_| match flush {
            true => tmp.as_file().sync_all(),
            false => Ok(()),
        })
        .map_err(|e| Error::io("write", tmp.path(), e))?;
    tmp.persist(path)
        .map_err(|e| Error::io("replace", path, e.error))?;
    // Make the rename itself durable (best effort: not every platform can
    // open a folder for syncing).
    if flush {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_whole_file_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/data.toml");
        replace(&path, b"a much longer first version\n").unwrap();
        replace(&path, b"short\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"short\n");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["data.toml"]);
    }

    #[test]
    fn a_path_under_a_file_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        assert!(replace(&file.join("below"), b"new").is_err());
    }
}
