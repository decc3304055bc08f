//! What the last build left in the output folder, checked against its manifest.

use super::manifest::{Manifest, Stamp};
use super::{Kept, Output};
use crate::file_meta::Folder;
use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::path::Path;

/// What the last build left in the output folder, for a build to reuse.
pub struct Previous {
    pub(super) manifest: Manifest,
    /// Files of the manifest that are no longer as the last build left
    /// them (edited, replaced or removed by hand): usually none.
    pub(super) touched: HashSet<String>,
}

impl Previous {
    /// The last build's manifest in `out_dir`, when there is a usable one,
    /// with every file it lists checked against its stamp. The checks run
    /// while the site loads, on whichever core is free: in a rebuild they
    /// are most of the work of keeping what did not change.
    pub fn read(out_dir: &Path) -> Option<Previous> {
        let manifest = Manifest::read(out_dir)?;
        let touched = touched_files(&manifest, out_dir);
        Some(Previous { manifest, touched })
    }

    /// The files of an earlier render held in memory (the dev server's
    /// last good build), for a render to keep by input key: nothing on a
    /// disk to check. What is kept is filled in by [`Output::keep_from`].
    pub fn in_memory(earlier: &Output) -> Previous {
        let files = earlier
            .keys
            .iter()
            .filter(|(rel, _)| earlier.files.contains_key(*rel))
            .map(|(rel, &key)| {
                let stamp = Stamp {
                    len: 0,
                    digest: 0,
                    mtime: 0,
                    ino: 0,
                    key: Some(key),
                };
                (rel.clone(), stamp)
            })
            .collect();
        Previous {
            manifest: Manifest { files },
            touched: HashSet::default(),
        }
    }

    /// The file `rel`, when the last build wrote it from inputs of this
    /// `key` and it is still exactly what that build left (not edited,
    /// replaced or removed by hand since).
    pub fn reuse(&self, rel: &str, key: u128) -> Option<Kept> {
        let stamp = self.manifest.files.get(rel)?;
        let key = Some(key);
        if stamp.key != key || self.touched.contains(rel) {
            return None;
        }
        Some(Kept { stamp: *stamp, key })
    }
}

/// The files of `manifest` that are no longer as the last build left them
/// in `out_dir`, checked in parallel. Each is looked up from its top folder
/// (`posts/`), opened once: one path step fewer per `stat`.
pub(super) fn touched_files(manifest: &Manifest, out_dir: &Path) -> HashSet<String> {
    let folder = Folder::open(out_dir);
    let tops: HashMap<&str, Folder> = manifest
        .files
        .keys()
        .filter_map(|rel| rel.split_once('/').map(|(top, _)| top))
        .collect::<HashSet<&str>>()
        .into_iter()
        .map(|top| (top, Folder::open(&out_dir.join(top))))
        .collect();
    let meta = |rel: &str| match rel.split_once('/') {
        Some((top, rest)) => tops[top].meta(rest, false),
        None => folder.meta(rel, false),
    };
    manifest
        .files
        .par_iter()
        .filter(|(rel, stamp)| !meta(rel).is_ok_and(|m| stamp.is_still(&m)))
        .map(|(rel, _)| rel.clone())
        .collect()
}
