//! The rendered site in memory, and writing it to disk atomically.
//!
//! A build renders everything into an [`Output`] first; only when every step
//! succeeded is it written into a fresh folder beside the output folder and
//! swapped in, so a failed build leaves the previous site untouched.

use crate::error::{Error, Result};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Files to write, by path relative to the output folder (`news/a/index.html`).
#[derive(Debug, Default, Clone)]
pub struct Output {
    pub files: BTreeMap<String, Vec<u8>>,
    /// Files copied as they are: output path → source path.
    pub copies: BTreeMap<String, PathBuf>,
}

impl Output {
    /// Adds a rendered file; returns the earlier content if the path was taken.
    pub fn add(&mut self, path: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Option<Vec<u8>> {
        self.files.insert(path.into(), bytes.into())
    }

    /// The file that serves a URL path: `/a/` → `a/index.html`, `/a.xml` → `a.xml`.
    pub fn file_for_url_path(url_path: &str) -> String {
        let trimmed = url_path.trim_start_matches('/');
        if trimmed.is_empty() || trimmed.ends_with('/') {
            format!("{trimmed}index.html")
        } else {
            trimmed.to_string()
        }
    }

    /// Number of files, rendered and copied.
    pub fn len(&self) -> usize {
        self.files.len() + self.copies.len()
    }

    /// True when nothing would be written.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Writes `output` to `out_dir`, replacing what was there only on success.
pub fn write_atomically(output: &Output, out_dir: &Path) -> Result<()> {
    let parent = match out_dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| Error::io("create", &parent, e))?;
    let name = out_dir
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| {
            Error::Other(format!(
                "`{}` is not a usable output folder",
                out_dir.display()
            ))
        })?;
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.new-"))
        .tempdir_in(&parent)
        .map_err(|e| Error::io("create a temporary folder in", &parent, e))?;
    write_tree(output, staging.path())?;

    let staged = staging.keep();
    if out_dir.exists() {
        let old = tempfile::Builder::new()
            .prefix(&format!(".{name}.old-"))
            .tempdir_in(&parent)
            .map_err(|e| Error::io("create a temporary folder in", &parent, e))?
            .keep();
        std::fs::remove_dir(&old).map_err(|e| Error::io("remove", &old, e))?;
        std::fs::rename(out_dir, &old).map_err(|e| Error::io("move aside", out_dir, e))?;
        if let Err(e) = std::fs::rename(&staged, out_dir) {
            // Put the old site back so nothing is lost.
            let _ = std::fs::rename(&old, out_dir);
            let _ = std::fs::remove_dir_all(&staged);
            return Err(Error::io("move into place", out_dir, e));
        }
        std::fs::remove_dir_all(&old).map_err(|e| Error::io("remove", &old, e))?;
    } else if let Err(e) = std::fs::rename(&staged, out_dir) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(Error::io("move into place", out_dir, e));
    }
    Ok(())
}

/// Writes every file of `output` under `dir` (which exists), in parallel.
pub fn write_tree(output: &Output, dir: &Path) -> Result<()> {
    let mut dirs: Vec<PathBuf> = output
        .files
        .keys()
        .chain(output.copies.keys())
        .filter_map(|p| Path::new(p).parent().map(|d| dir.join(d)))
        .collect();
    dirs.sort();
    dirs.dedup();
    for d in &dirs {
        std::fs::create_dir_all(d).map_err(|e| Error::io("create", d, e))?;
    }
    output.files.par_iter().try_for_each(|(rel, bytes)| {
        let path = dir.join(rel);
        std::fs::write(&path, bytes).map_err(|e| Error::io("write", &path, e))
    })?;
    output.copies.par_iter().try_for_each(|(rel, src)| {
        let path = dir.join(rel);
        std::fs::copy(src, &path)
            .map(|_| ())
            .map_err(|e| Error::io("copy", src, e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_paths_map_to_files() {
        assert_eq!(Output::file_for_url_path("/"), "index.html");
        assert_eq!(Output::file_for_url_path("/news/a/"), "news/a/index.html");
        assert_eq!(Output::file_for_url_path("/atom.xml"), "atom.xml");
    }

    #[test]
    fn swap_replaces_old_site_and_leaves_no_temp_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        std::fs::create_dir_all(out.join("old")).unwrap();
        std::fs::write(out.join("old/index.html"), "old").unwrap();
        let mut o = Output::default();
        o.add("index.html", "new");
        write_atomically(&o, &out).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("index.html")).unwrap(),
            "new"
        );
        assert!(!out.join("old").exists());
        let names: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("public")]);
    }
}
