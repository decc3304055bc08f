//! Finding the files under `content/`.

use super::CONTENT_DIR;
use crate::error::{Diagnostic, Error, Result};
use std::path::{Path, PathBuf};

/// A Markdown file found under `content/`.
pub(super) struct Found {
    /// Relative to the site root.
    pub(super) file: PathBuf,
    /// Relative to `content/`, `/`-separated.
    pub(super) rel: String,
    pub(super) kind: Kind,
    /// The walk's index of its folder (see [`Walked::folders`]).
    pub(super) folder: usize,
    /// Where its name starts in `rel`.
    pub(super) name_at: usize,
}

/// What the walk of `content/` found.
pub(super) struct Walked {
    /// Markdown files, sorted by path.
    pub(super) found: Vec<Found>,
    /// Other files (path from the site root, path in `content/`).
    pub(super) other: Vec<(PathBuf, String)>,
    /// Each folder walked, relative to `content/` ("" for `content/`).
    pub(super) folders: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// `_index.md`
    Section,
    /// `dir/index.md`
    Bundle,
    /// Any other `.md`
    Page,
}

/// Lists Markdown files and other files under `content/`, sorted by path.
pub(super) fn walk(content_dir: &Path) -> Result<Walked> {
    let mut found = Vec::new();
    let mut other = Vec::new();
    let mut walked: Vec<String> = Vec::new();
    // Folders still to read, relative to `content/` ("" is `content/` itself).
    // Plain `read_dir`, whose entries know their type without a `stat`:
    // walkdir joined a full path for every entry, which took twice as long
    // in a folder of ten thousand posts.
    let mut folders = vec![String::new()];
    while let Some(folder) = folders.pop() {
        let dir = content_dir.join(&folder);
        let index = walked.len();
        walked.push(folder.clone());
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::io("read", &dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("read", &dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                return Err(
                    Diagnostic::new(entry.path(), "file name is not valid UTF-8")
                        .help("rename the file using letters, digits, dashes and dots")
                        .into(),
                );
            };
            if is_ignored(name) {
                continue;
            }
            let kind = entry
                .file_type()
                .map_err(|e| Error::io("read", &entry.path(), e))?;
            // Joined by hand: `format!` was a quarter of the walk.
            let rel = match folder.is_empty() {
                true => name.to_string(),
                false => [folder.as_str(), "/", name].concat(),
            };
            if kind.is_dir() {
                folders.push(rel);
                continue;
            }
            // Symbolic links are not followed, as walkdir did not.
            if !kind.is_file() {
                continue;
            }
            let file = PathBuf::from([CONTENT_DIR, "/", &rel].concat());
            if name.ends_with(".md") {
                let kind = match name {
                    "_index.md" => Kind::Section,
                    "index.md" if rel != "index.md" => Kind::Bundle,
                    _ => Kind::Page,
                };
                let name_at = rel.len() - name.len();
                found.push(Found {
                    file,
                    rel,
                    kind,
                    folder: index,
                    name_at,
                });
            } else {
                other.push((file, rel));
            }
        }
    }
    // Sorted here: Markdown files by path as a string (pages are listed in
    // that order; comparing `Path`s parses both for each comparison), other
    // files as a walk in name order lists them, folder by folder, since a
    // page bundle lists its files in that order.
    found.sort_unstable_by(|a, b| a.rel.cmp(&b.rel));
    other.sort_unstable_by(|a, b| a.1.split('/').cmp(b.1.split('/')));
    Ok(Walked {
        found,
        other,
        folders: walked,
    })
}

/// Hidden files and editors' temporary files.
pub(super) fn is_ignored(name: &str) -> bool {
    name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp") || name.starts_with("#")
}
