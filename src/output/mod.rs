//! The rendered site in memory, and writing it to disk atomically.
//!
//! A build renders everything into an [`Output`] first; only when every step
//! succeeded is anything written, so a failed build leaves the previous site
//! untouched. Two ways to write, picked by [`write_atomically`]:
//!
//! - **Full**: no usable manifest in the output folder (first build, a folder
//!   from elsewhere, or an interrupted build). Every file is written into a
//!   fresh folder beside the output folder, which is then swapped in.
//! - **Incremental**: the output folder holds `.herald-manifest`, written by
//!   the last build: each file's length, a digest of its bytes, and the
//!   mtime and inode it was left with. Files whose bytes did not change are
//!   not touched at all (on a real disk, creating and deleting files is what
//!   a build spends its time on). Changed and new files are first written
//!   into a staging folder beside the output folder; only when all of them
//!   are there is each renamed over its old version (each file is replaced
//!   atomically, so a reader sees the old or the new bytes, never a partial
//!   file), and files the build no longer makes are moved out. The old version
//!   of every file touched is kept in the staging folder until the end, so
//!   any error on the way puts every file back as it was: a failed build
//!   leaves the old site intact. The manifest is moved aside while files are
//!   being replaced; a build killed in that moment leaves no manifest, so the
//!   next build writes everything afresh (full) and the folder is whole again.
//!
//! Files in the output folder that no build wrote (not in the manifest) are
//! left alone by incremental builds.
//!
//! The parts: [`Stream`] writes a first build's files as they are rendered;
//! [`Previous`] is what the last build left, checked; `write` writes the
//! rest; `manifest` records what was written for the next build.

mod manifest;
mod previous;
mod stream;
mod write;

pub use previous::Previous;
pub use stream::Stream;
pub use write::{write_atomically, write_over, write_tree, WriteStats};

use manifest::Stamp;
use rustc_hash::FxHashMap as HashMap;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Files to write, by path relative to the output folder (`news/a/index.html`).
#[derive(Debug, Default, Clone)]
pub struct Output {
    /// Rendered files: output path → bytes, shared (see [`Bytes`]).
    pub files: BTreeMap<String, Bytes>,
    /// Files copied as they are: output path → source path.
    pub copies: BTreeMap<String, PathBuf>,
    /// The input key of rendered files that have one (see
    /// [`crate::input_key`]), recorded in the manifest for the next build.
    pub keys: HashMap<String, u128>,
    /// Files not rendered again because the last build wrote them from the
    /// same inputs (see [`Previous::reuse`]): they stay as they are. Most
    /// files of a rebuild: hashed, not ordered, as nothing needs their order.
    pub kept: HashMap<String, Kept>,
}

/// A rendered file's bytes. Shared, so that the dev server keeps a file
/// from one build to the next (see [`Output::keep_from`]) without copying
/// it: the whole site, 90 MB at 10,000 posts, took a quarter of each of its
/// rebuilds to copy.
pub type Bytes = Arc<Vec<u8>>;

/// A file already on disk: one of the last build that this build keeps as
/// it is, or one this build wrote as it went (see [`Stream`]).
#[derive(Debug, Clone)]
pub struct Kept {
    stamp: Stamp,
    key: Option<u128>,
}

impl Output {
    /// Takes the files this render kept (see [`Previous::in_memory`]) from
    /// `earlier`, the output it kept them from, so that it holds every
    /// file itself, each with its input key. The bytes are shared, not
    /// copied.
    pub fn keep_from(&mut self, earlier: &Output) {
        for (rel, kept) in std::mem::take(&mut self.kept) {
            if let Some(bytes) = earlier.files.get(&rel) {
                if let Some(key) = kept.key {
                    self.keys.insert(rel.clone(), key);
                }
                self.files.insert(rel, bytes.clone());
            }
        }
    }

    /// Adds a rendered file; returns the earlier content if the path was taken.
    pub fn add(&mut self, path: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Option<Bytes> {
        self.files.insert(path.into(), Arc::new(bytes.into()))
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

    /// Number of files, rendered, copied and kept.
    pub fn len(&self) -> usize {
        self.files.len() + self.copies.len() + self.kept.len()
    }

    /// True when `source` is a file this output copies as it is.
    pub fn copies_from(&self, source: &Path) -> bool {
        self.copies.values().any(|p| p == source)
    }

    /// True when the build makes the file `rel` (relative to the output folder).
    pub fn has(&self, rel: &str) -> bool {
        self.files.contains_key(rel) || self.copies.contains_key(rel) || self.kept.contains_key(rel)
    }

    /// True when nothing would be written.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The file, in the output folder, that describes what the last build wrote.
pub const MANIFEST: &str = ".herald-manifest";

#[cfg(test)]
mod tests;
