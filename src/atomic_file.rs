//! Replacing one data file so that a crash never leaves it torn: the ledger
//! and the fetched comments are committed to git, and a half-written one
//! would lose what was posted or fetched.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::thread::JoinHandle;

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
    replace_by(path, flush, |w| w.write_all(bytes))
}

/// [`replace_unflushed`], with the bytes written by `write` through a
/// buffer rather than gathered in memory first.
pub fn replace_unflushed_by(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    replace_by(path, false, write)
}

fn replace_by(
    path: &Path,
    flush: bool,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create folder", dir, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".herald.")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::io("create a temporary file in", dir, e))?;
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, tmp);
    write(&mut out)
        .and_then(|_| out.flush())
        .map_err(|e| Error::io("write", out.get_ref().path(), e))?;
    let tmp = out
        .into_inner()
        .map_err(|e| Error::io("write", dir, e.into_error()))?;
    if flush {
        tmp.as_file()
            .sync_all()
            .map_err(|e| Error::io("write", tmp.path(), e))?;
    }
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

/// Writes started by [`in_background`] and not yet waited for.
static BACKGROUND: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());

/// Runs `write` (the writing of a cache file, whose errors cost the next
/// build time, never correctness) on a thread of its own, so that the build
/// goes on meanwhile. [`wait_for_background`] waits for it; the binary does
/// before it exits, and a build before it returns.
pub fn in_background(write: impl FnOnce() + Send + 'static) {
    let handle = std::thread::spawn(write);
    let mut pending = BACKGROUND.lock().unwrap_or_else(|e| e.into_inner());
    pending.retain(|h| !h.is_finished());
    pending.push(handle);
}

/// Waits for every write started by [`in_background`].
pub fn wait_for_background() {
    let pending = std::mem::take(&mut *BACKGROUND.lock().unwrap_or_else(|e| e.into_inner()));
    for h in pending {
        // A write that panicked lost a cache file: the next build makes it again.
        let _ = h.join();
    }
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
