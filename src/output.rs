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

use crate::error::{Error, Result};
use crate::file_meta::{FileMeta, Folder};
use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
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

/// The folder a build writes its files into as it renders them, when the
/// output folder has no manifest (a first build): the files then need not
/// all be held in memory. It is beside the output folder and swapped in at
/// the end like any full write; dropped unused (a failed build), it is
/// removed, and the output folder was never touched.
pub struct Stream {
    dir: tempfile::TempDir,
    /// The same folder, open: files and folders are made relative to it.
    folder: Folder,
    /// Folders made so far, relative.
    made: std::sync::Mutex<BTreeSet<String>>,
}

impl Stream {
    /// A new folder beside `out_dir`.
    pub fn beside(out_dir: &Path) -> Result<Stream> {
        let (parent, name) = split_out_dir(out_dir)?;
        std::fs::create_dir_all(&parent).map_err(|e| Error::io("create", &parent, e))?;
        let dir = staging_dir(&parent, &name, "new")?;
        Ok(Stream {
            folder: Folder::open(dir.path()),
            dir,
            made: Default::default(),
        })
    }

    /// Makes the folders of `files` (relative to the output folder) that
    /// are not made yet, one after the other in sorted order: on ext4,
    /// folders made from several threads at once while files are being
    /// written cost several times the kernel time.
    pub fn make_folders<'a>(&self, files: impl Iterator<Item = &'a str>) -> Result<()> {
        let mut dirs = ancestors(files);
        let mut made = self.made.lock().unwrap_or_else(|e| e.into_inner());
        dirs.retain(|d| !made.contains(*d));
        create_dirs(&self.folder, dirs.clone())?;
        made.extend(dirs.into_iter().map(String::from));
        Ok(())
    }

    /// Makes the folder of the file `file` (relative to the output folder)
    /// and those it is in, unless made already: for one thread that makes
    /// the pages' folders as their front matter is read, long before the
    /// pages are rendered.
    pub fn make_folder_of(&self, file: &str) -> Result<()> {
        let Some(dir) = parent_of(file) else {
            return Ok(());
        };
        // Held while the folder is made: folders are made one at a time.
        let mut made = self.made.lock().unwrap_or_else(|e| e.into_inner());
        if made.contains(dir) {
            return Ok(());
        }
        create_dir_all(&self.folder, dir)?;
        let mut cur = Some(dir);
        while let Some(d) = cur {
            if !made.insert(d.to_string()) {
                break;
            }
            cur = parent_of(d);
        }
        Ok(())
    }

    /// Writes the file `rel` (relative to the output folder).
    pub fn write(&self, rel: &str, bytes: &[u8], key: Option<u128>) -> Result<Kept> {
        self.make_folder_of(rel)?;
        let entry = Entry {
            rel,
            src: Src::Bytes(bytes),
            len: bytes.len() as u64,
            digest: digest(bytes),
            key,
        };
        let stamp = entry.write_to(&self.folder, rel, None)?;
        Ok(Kept { stamp, key })
    }
}

/// What the last build left in the output folder, for a build to reuse.
pub struct Previous {
    manifest: Manifest,
    /// Files of the manifest that are no longer as the last build left
    /// them (edited, replaced or removed by hand): usually none.
    touched: HashSet<String>,
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
fn touched_files(manifest: &Manifest, out_dir: &Path) -> HashSet<String> {
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

/// What [`write_atomically`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Files written because they are new or their bytes changed.
    pub written: usize,
    /// Files left untouched because their bytes did not change.
    pub unchanged: usize,
    /// Files removed because the build no longer makes them.
    pub removed: usize,
    /// True when the whole folder was written afresh and swapped in.
    pub full: bool,
}

/// Writes `output` to `out_dir`, replacing what was there only on success,
/// and rewriting only the files whose bytes changed (see the module docs).
pub fn write_atomically(output: &Output, out_dir: &Path) -> Result<WriteStats> {
    write_over(output, out_dir, Previous::read(out_dir), None)
}

/// As [`write_atomically`], with the manifest the output folder held when
/// the build started (the one its [`Output::kept`] files come from), or the
/// [`Stream`] the build wrote its files into (there was no manifest).
pub fn write_over(
    output: &Output,
    out_dir: &Path,
    previous: Option<Previous>,
    stream: Option<Stream>,
) -> Result<WriteStats> {
    let (parent, name) = split_out_dir(out_dir)?;
    std::fs::create_dir_all(&parent).map_err(|e| Error::io("create", &parent, e))?;
    let entries = fingerprint(output)?;
    if let Some(stream) = stream {
        return write_full(&entries, out_dir, (&parent, &name), stream.dir, true);
    }
    if let Some(previous) = previous {
        let plan = plan(&entries, &previous);
        // Fifteen thousand paths at ten thousand pages.
        crate::free::free_later(previous);
        if let Some(plan) = plan {
            return write_incremental(&entries, plan, out_dir, &parent, &name);
        }
    }
    let staging = staging_dir(&parent, &name, "new")?;
    write_full(&entries, out_dir, (&parent, &name), staging, false)
}

/// The folder holding `out_dir`, and `out_dir`'s name.
fn split_out_dir(out_dir: &Path) -> Result<(PathBuf, String)> {
    let parent = match out_dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = out_dir
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| {
            Error::Other(format!(
                "`{}` is not a usable output folder",
                out_dir.display()
            ))
        })?;
    Ok((parent, name.to_string()))
}

fn staging_dir(parent: &Path, name: &str, kind: &str) -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(&format!(".{name}.{kind}-"))
        .tempdir_in(parent)
        .map_err(|e| Error::io("create a temporary folder in", parent, e))
}

/// Writes everything into `staging` (beside `out_dir`), then swaps it in.
/// `streamed`: `staging` is a [`Stream`]'s folder, which holds the files
/// kept in `entries` already.
fn write_full(
    entries: &[Entry<'_>],
    out_dir: &Path,
    (parent, name): (&Path, &str),
    staging: tempfile::TempDir,
    streamed: bool,
) -> Result<WriteStats> {
    // Kept files are where the stream wrote them, or else in the old folder.
    let kept_in = (!streamed).then_some(out_dir);
    let stamps = write_entries(entries, staging.path(), kept_in)?;
    Manifest::write(&staging.path().join(MANIFEST), entries, &stamps)?;

    let staged = staging.keep();
    if out_dir.exists() {
        let old = staging_dir(parent, name, "old")?.keep();
        std::fs::remove_dir(&old).map_err(|e| Error::io("remove", &old, e))?;
        std::fs::rename(out_dir, &old).map_err(|e| Error::io("move aside", out_dir, e))?;
        if let Err(e) = std::fs::rename(&staged, out_dir) {
            // Put the old site back so nothing is lost.
            let _ = std::fs::rename(&old, out_dir);
            let _ = std::fs::remove_dir_all(&staged);
            return Err(Error::io("move into place", out_dir, e));
        }
        remove_tree_parallel(&old)?;
    } else if let Err(e) = std::fs::rename(&staged, out_dir) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(Error::io("move into place", out_dir, e));
    }
    Ok(WriteStats {
        written: entries.len(),
        unchanged: 0,
        removed: 0,
        full: true,
    })
}

/// Writes every file of `output` under `dir` (which exists), in parallel.
/// No manifest is written: this is a plain export.
pub fn write_tree(output: &Output, dir: &Path) -> Result<()> {
    write_entries(&fingerprint(output)?, dir, None).map(|_| ())
}

/// Creates the folders first, then writes the files in parallel; returns
/// what each file was left as. Kept files are copied from the folder
/// `kept_in`; without one, they are in `dir` already (a [`Stream`] wrote
/// them there, with their folders).
fn write_entries(entries: &[Entry<'_>], dir: &Path, kept_in: Option<&Path>) -> Result<Vec<Stamp>> {
    let in_place = |e: &Entry<'_>| kept_in.is_none() && matches!(e.src, Src::Kept(_));
    let folder = Folder::open(dir);
    let to_write = entries.iter().filter(|e| !in_place(e));
    create_dirs(&folder, ancestors(to_write.map(|e| e.rel)))?;
    entries
        .par_iter()
        .map(|e| match &e.src {
            Src::Kept(k) if in_place(e) => Ok(k.stamp),
            _ => e.write_to(&folder, e.rel, kept_in),
        })
        .collect()
}

/// Creates every folder of `dirs` (relative, every ancestor listed, so that
/// sorted order creates parents first) under `dir`, one after the other:
/// creating them in parallel gained nothing on ext4, where folders made in
/// one parent (`posts/*`) wait for that parent's lock anyway.
fn create_dirs(folder: &Folder, dirs: HashSet<&str>) -> Result<()> {
    // Sorted, so that a folder comes before the folders in it.
    let mut dirs: Vec<&str> = dirs.into_iter().collect();
    dirs.sort_unstable();
    for d in dirs {
        create_dir(folder, d)?;
    }
    Ok(())
}

/// Creates the folder `rel` in `folder`; one already there is fine.
fn create_dir(folder: &Folder, rel: &str) -> Result<()> {
    made(folder, rel, folder.mkdir(rel))
}

/// Creates the folder `rel` in `folder`, and the folders it is in.
fn create_dir_all(folder: &Folder, rel: &str) -> Result<()> {
    match folder.mkdir(rel) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = parent_of(rel) {
                create_dir_all(folder, parent)?;
            }
            create_dir(folder, rel)
        }
        result => made(folder, rel, result),
    }
}

/// What making the folder `rel` in `folder` came to: a folder already
/// there is fine.
fn made(folder: &Folder, rel: &str, result: std::io::Result<()>) -> Result<()> {
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && folder.is_dir(rel) => Ok(()),
        Err(e) => Err(Error::io("create", &folder.path().join(rel), e)),
    }
}

/// What to do in an incremental write.
struct Plan {
    /// Indexes into the entries of files to write (new or changed).
    write: Vec<usize>,
    /// What each unchanged entry's file is (by entry index).
    unchanged: Vec<(usize, Stamp)>,
    /// Files of the last build that this one does not make.
    remove: Vec<String>,
    /// True when an unchanged file's input key is not the one the manifest
    /// holds (the manifest must be written again even if no file is).
    rekeyed: bool,
}

/// Compares the new files with the manifest; `None` when the layout changed
/// in a way renaming files cannot follow (a file where a folder was, or the
/// other way round): then everything is written afresh.
fn plan(entries: &[Entry<'_>], previous: &Previous) -> Option<Plan> {
    let old = &previous.manifest;
    // The usual rebuild makes the same files as the last one: then no file
    // can stand where a folder was, and none is removed.
    let same_files =
        entries.len() == old.files.len() && entries.iter().all(|e| old.files.contains_key(e.rel));
    let new_files: HashSet<&str> = match same_files {
        true => HashSet::default(),
        false => entries.iter().map(|e| e.rel).collect(),
    };
    if !same_files {
        let old_dirs = ancestors(old.files.keys().map(String::as_str));
        let new_dirs = ancestors(new_files.iter().copied());
        if new_files.iter().any(|f| old_dirs.contains(f))
            || new_dirs.iter().any(|d| old.files.contains_key(*d))
        {
            return None;
        }
    }
    let checked: Vec<Option<Stamp>> = entries
        .par_iter()
        .map(|e| {
            if let Src::Kept(k) = &e.src {
                // Checked when it was kept.
                return Some(k.stamp);
            }
            let was = old.files.get(e.rel)?;
            if was.len != e.len || was.digest != e.digest {
                return None;
            }
            // The file must still be what the last build left (not edited
            // by hand), as `Previous::read` found: then it is as stamped.
            (!previous.touched.contains(e.rel)).then_some(Stamp {
                digest: e.digest,
                key: e.key,
                ..*was
            })
        })
        .collect();
    let mut plan = Plan {
        write: Vec::new(),
        unchanged: Vec::new(),
        remove: Vec::new(),
        rekeyed: false,
    };
    for (i, c) in checked.into_iter().enumerate() {
        match c {
            Some(stamp) => {
                plan.rekeyed |= old.files.get(entries[i].rel).map(|s| s.key) != Some(stamp.key);
                plan.unchanged.push((i, stamp))
            }
            None => plan.write.push(i),
        }
    }
    if !same_files {
        plan.remove = old
            .files
            .keys()
            .filter(|f| !new_files.contains(f.as_str()))
            .cloned()
            .collect();
    }
    Some(plan)
}

/// Every folder (relative path) holding one of `files`.
fn ancestors<'a>(files: impl Iterator<Item = &'a str>) -> HashSet<&'a str> {
    let mut out = HashSet::default();
    for f in files {
        let mut cur = f;
        while let Some(p) = parent_of(cur) {
            if !out.insert(p) {
                break;
            }
            cur = p;
        }
    }
    out
}

fn parent_of(rel: &str) -> Option<&str> {
    rel.rfind('/').map(|i| &rel[..i])
}

/// One step done to the output folder, remembered so it can be undone.
enum Done {
    /// The manifest was moved from `from` into the staging folder at `to`.
    ManifestAside { from: PathBuf, to: PathBuf },
    /// A folder was created.
    Dir(PathBuf),
    /// A file was put in place; its old version (if any) is at `backup`.
    Placed {
        target: PathBuf,
        backup: Option<PathBuf>,
    },
    /// A file was moved out to `backup`.
    Removed { target: PathBuf, backup: PathBuf },
}

/// Stages the changed files, then replaces them one by one (see the module docs).
fn write_incremental(
    entries: &[Entry<'_>],
    plan: Plan,
    out_dir: &Path,
    parent: &Path,
    name: &str,
) -> Result<WriteStats> {
    let mut stats = WriteStats {
        written: plan.write.len(),
        unchanged: plan.unchanged.len(),
        removed: plan.remove.len(),
        full: false,
    };
    if plan.write.is_empty() && plan.remove.is_empty() {
        if plan.rekeyed {
            // Nothing written: every entry is unchanged, in entry order.
            let stamps: Vec<Stamp> = plan.unchanged.iter().map(|(_, s)| *s).collect();
            Manifest::replace(out_dir, entries, &stamps)?;
        }
        return Ok(stats);
    }
    // 1. Stage: every changed file, under a flat name, beside the output folder.
    let staging = staging_dir(parent, name, "new")?;
    let stage = staging.path();
    let stage_folder = Folder::open(stage);
    let staged: Vec<Stamp> = plan
        .write
        .par_iter()
        .map(|&i| entries[i].write_to(&stage_folder, &format!("n{i}"), None))
        .collect::<Result<_>>()?;
    let mut stamps: Vec<Option<Stamp>> = vec![None; entries.len()];
    for (&i, s) in plan.write.iter().zip(staged) {
        stamps[i] = Some(s);
    }
    for (i, s) in plan.unchanged {
        stamps[i] = Some(s);
    }
    let stamps: Vec<Stamp> = stamps
        .into_iter()
        .map(|s| s.expect("every entry"))
        .collect();
    let new_manifest = stage.join("manifest");
    Manifest::write(&new_manifest, entries, &stamps)?;

    // 2. Apply, remembering each step so that an error can undo them all.
    let mut done: Vec<Done> = Vec::new();
    let result = apply(
        entries,
        &plan.write,
        &plan.remove,
        out_dir,
        stage,
        &mut done,
    );
    if let Err(e) = result {
        undo(done);
        return Err(e);
    }
    let manifest = out_dir.join(MANIFEST);
    if let Err(e) = std::fs::rename(&new_manifest, &manifest) {
        undo(done);
        return Err(Error::io("move into place", &manifest, e));
    }
    // 3. Done: folders emptied by removals go; the old versions go with the staging folder.
    let mut emptied: Vec<&str> = ancestors(plan.remove.iter().map(String::as_str))
        .into_iter()
        .collect();
    emptied.sort_by_key(|d| std::cmp::Reverse(d.len()));
    for d in emptied {
        let _ = std::fs::remove_dir(out_dir.join(d));
    }
    drop(staging);
    stats.full = false;
    Ok(stats)
}

fn apply(
    entries: &[Entry<'_>],
    write: &[usize],
    remove: &[String],
    out_dir: &Path,
    stage: &Path,
    done: &mut Vec<Done>,
) -> Result<()> {
    let manifest = out_dir.join(MANIFEST);
    let aside = stage.join("old-manifest");
    std::fs::rename(&manifest, &aside).map_err(|e| Error::io("move aside", &manifest, e))?;
    done.push(Done::ManifestAside {
        from: manifest,
        to: aside,
    });

    let mut dirs: Vec<&str> = write
        .iter()
        .filter_map(|&i| parent_of(entries[i].rel))
        .collect();
    dirs.sort_unstable();
    dirs.dedup();
    for d in dirs {
        // Create each missing folder on the way, so that undo can remove it.
        let mut missing = Vec::new();
        let mut cur = Some(d);
        while let Some(c) = cur {
            let p = out_dir.join(c);
            if p.is_dir() {
                break;
            }
            missing.push(p);
            cur = parent_of(c);
        }
        for p in missing.into_iter().rev() {
            std::fs::create_dir(&p).map_err(|e| Error::io("create", &p, e))?;
            done.push(Done::Dir(p));
        }
    }

    for &i in write {
        let target = out_dir.join(entries[i].rel);
        let backup = stage.join(format!("o{i}"));
        let backup = match std::fs::symlink_metadata(&target) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io("read", &target, e)),
            Ok(m) if m.is_dir() => {
                return Err(Error::Other(format!(
                    "`{}` is a folder, where the build writes a file: remove it",
                    target.display()
                )))
            }
            Ok(_) => match std::fs::hard_link(&target, &backup) {
                Ok(()) => Some(backup),
                // No hard links here: move the old file aside instead.
                Err(_) => match std::fs::rename(&target, &backup) {
                    Ok(()) => Some(backup),
                    Err(e) => return Err(Error::io("move aside", &target, e)),
                },
            },
        };
        let src = stage.join(format!("n{i}"));
        if let Err(e) = std::fs::rename(&src, &target) {
            if let Some(b) = backup {
                let _ = std::fs::rename(&b, &target);
            }
            return Err(Error::io("move into place", &target, e));
        }
        done.push(Done::Placed { target, backup });
    }

    for (k, rel) in remove.iter().enumerate() {
        let target = out_dir.join(rel);
        let backup = stage.join(format!("r{k}"));
        match std::fs::rename(&target, &backup) {
            Ok(()) => done.push(Done::Removed { target, backup }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove", &target, e)),
        }
    }
    Ok(())
}

/// Puts the output folder back as it was, newest step first.
fn undo(done: Vec<Done>) {
    for d in done.into_iter().rev() {
        match d {
            Done::ManifestAside { from, to } => {
                let _ = std::fs::rename(to, from);
            }
            Done::Dir(p) => {
                let _ = std::fs::remove_dir(p);
            }
            Done::Placed { target, backup } => {
                let _ = match backup {
                    Some(b) => std::fs::rename(b, &target),
                    None => std::fs::remove_file(&target),
                };
            }
            Done::Removed { target, backup } => {
                let _ = std::fs::rename(backup, target);
            }
        }
    }
}

/// Removes a folder tree, its top-level entries in parallel.
fn remove_tree_parallel(dir: &Path) -> Result<()> {
    let children: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io("read", dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    children.par_iter().try_for_each(|p| {
        let r = if p.is_dir() && !p.is_symlink() {
            std::fs::remove_dir_all(p)
        } else {
            std::fs::remove_file(p)
        };
        r.map_err(|e| Error::io("remove", p, e))
    })?;
    std::fs::remove_dir(dir).map_err(|e| Error::io("remove", dir, e))
}

/// One file to write: where, what, and its fingerprint.
struct Entry<'a> {
    rel: &'a str,
    src: Src<'a>,
    len: u64,
    digest: u64,
    key: Option<u128>,
}

#[derive(Clone, Copy)]
enum Src<'a> {
    Bytes(&'a [u8]),
    /// Copied from this file.
    Copy(&'a Path),
    /// Left as the last build wrote it.
    Kept(&'a Kept),
}

/// Fingerprints every file of `output`, in parallel: rendered files by a
/// digest of their bytes; copied files by their source's path, length,
/// mtime and inode (reading them all on every build would cost more).
fn fingerprint(output: &Output) -> Result<Vec<Entry<'_>>> {
    // A path both rendered and copied is copied (as when copies were written last).
    let rendered: Vec<(&String, &Bytes)> = output
        .files
        .iter()
        .filter(|(rel, _)| !output.copies.contains_key(*rel))
        .collect();
    // Sized up front: grown push by push, the vector of fifteen thousand
    // entries was copied into fresh memory a dozen times.
    let mut entries: Vec<Entry<'_>> =
        Vec::with_capacity(rendered.len() + output.kept.len() + output.copies.len());
    rendered
        .par_iter()
        .map(|(rel, bytes)| Entry {
            rel: rel.as_str(),
            src: Src::Bytes(bytes.as_slice()),
            len: bytes.len() as u64,
            digest: digest(bytes),
            key: output.keys.get(rel.as_str()).copied(),
        })
        .collect_into_vec(&mut entries);
    entries.extend(
        output
            .kept
            .iter()
            .filter(|(rel, _)| !output.copies.contains_key(*rel))
            .map(|(rel, k)| Entry {
                rel: rel.as_str(),
                src: Src::Kept(k),
                len: k.stamp.len,
                digest: k.stamp.digest,
                key: k.key,
            }),
    );
    for (rel, src) in &output.copies {
        let m = std::fs::metadata(src).map_err(|e| Error::io("read", src, e))?;
        let m = FileMeta::from_std(&m);
        let id = format!("copy\0{}\0{}\0{}\0{}", src.display(), m.len, m.mtime, m.ino);
        entries.push(Entry {
            rel: rel.as_str(),
            src: Src::Copy(src.as_path()),
            len: m.len,
            digest: digest(id.as_bytes()),
            key: None,
        });
    }
    Ok(entries)
}

impl Entry<'_> {
    /// Writes the file `rel` of `folder` (a kept one is copied from the
    /// folder `kept_in`); returns what it was left as.
    fn write_to(&self, folder: &Folder, rel: &str, kept_in: Option<&Path>) -> Result<Stamp> {
        let path = || folder.path().join(rel);
        let meta = match self.src {
            Src::Bytes(bytes) => {
                let mut f = folder
                    .create(rel)
                    .map_err(|e| Error::io("write", &path(), e))?;
                f.write_all(bytes)
                    .map_err(|e| Error::io("write", &path(), e))?;
                f.metadata()
            }
            Src::Copy(src) => {
                let path = path();
                std::fs::copy(src, &path).map_err(|e| Error::io("copy", src, e))?;
                std::fs::symlink_metadata(path)
            }
            // A full write (the layout changed) copies kept files from the
            // old folder into the new one.
            Src::Kept(_) => {
                let (path, from) = (path(), kept_in.unwrap_or(folder.path()).join(self.rel));
                std::fs::copy(&from, &path).map_err(|e| Error::io("copy", &from, e))?;
                std::fs::symlink_metadata(path)
            }
        }
        .map_err(|e| Error::io("write", &path(), e))?;
        Ok(Stamp::of(&FileMeta::from_std(&meta), self))
    }
}

/// A file as a build left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Stamp {
    len: u64,
    digest: u64,
    /// Modification time in nanoseconds since 1970, and inode number: a file
    /// edited or replaced by hand no longer matches.
    mtime: i128,
    ino: u64,
    /// The input key it was rendered from, if it has one.
    key: Option<u128>,
}

impl Stamp {
    fn of(meta: &FileMeta, e: &Entry<'_>) -> Stamp {
        Stamp {
            len: meta.len,
            digest: e.digest,
            mtime: meta.mtime,
            ino: meta.ino,
            key: e.key,
        }
    }

    /// True when the file `meta` describes is still the one this stamp was
    /// taken of: same length, mtime and inode (not edited or replaced by
    /// hand since).
    fn is_still(&self, meta: &FileMeta) -> bool {
        meta.is_file && (meta.len, meta.mtime, meta.ino) == (self.len, self.mtime, self.ino)
    }
}

/// `.herald-manifest`: what the last build left in the output folder, each
/// file's [`Stamp`] by its path. Encoded with bincode after a version tag:
/// it is read and written whole on every build, and a text format took
/// tens of milliseconds to print and parse at 10,000 pages.
struct Manifest {
    files: HashMap<String, Stamp>,
}

impl Manifest {
    /// Changes when the layout or the digest function does (the digest of a
    /// fixed text is part of it).
    fn version() -> (&'static str, u64) {
        ("herald-manifest 3", digest(b"herald"))
    }

    /// The manifest of `out_dir`, when there is a readable one of this version.
    fn read(out_dir: &Path) -> Option<Manifest> {
        let bytes = std::fs::read(out_dir.join(MANIFEST)).ok()?;
        let ((tag, check), files): ((String, u64), HashMap<String, Stamp>) =
            bincode::deserialize(&bytes).ok()?;
        ((tag.as_str(), check) == Self::version()).then_some(Manifest { files })
    }

    /// Writes the manifest of `entries`, as `stamps` (in the same order)
    /// describe their files, to the new file `path` (in a staging folder).
    fn write(path: &Path, entries: &[Entry<'_>], stamps: &[Stamp]) -> Result<()> {
        let bytes = Self::encode(entries, stamps)?;
        std::fs::write(path, bytes).map_err(|e| Error::io("write", path, e))
    }

    /// Replaces the manifest of the output folder `out_dir` with that of
    /// `entries` (see [`Manifest::write`]). Not flushed: a manifest lost in
    /// a crash makes the next build a full one, and one older than the
    /// files only makes it write more (their stamps no longer match).
    fn replace(out_dir: &Path, entries: &[Entry<'_>], stamps: &[Stamp]) -> Result<()> {
        let bytes = Self::encode(entries, stamps)?;
        crate::atomic_file::replace_unflushed(&out_dir.join(MANIFEST), &bytes)
    }

    fn encode(entries: &[Entry<'_>], stamps: &[Stamp]) -> Result<Vec<u8>> {
        use serde::ser::{SerializeMap, Serializer};
        // Encoded as a map straight from the entries, with no map built.
        struct Rows<'a>(&'a [Entry<'a>], &'a [Stamp]);
        impl serde::Serialize for Rows<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(self.0.len()))?;
                for (e, stamp) in self.0.iter().zip(self.1) {
                    map.serialize_entry(e.rel, stamp)?;
                }
                map.end()
            }
        }
        bincode::serialize(&(Self::version(), Rows(entries, stamps)))
            .map_err(|e| Error::Other(format!("cannot encode the manifest: {e}")))
    }
}

/// A fast 64-bit digest of `bytes` (XXH3): tells whether a file's bytes
/// changed since the last build. Not cryptographic; the length is compared too.
fn digest(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
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

    fn site(files: &[(&str, &str)]) -> Output {
        let mut o = Output::default();
        for (p, b) in files {
            o.add(*p, *b);
        }
        o
    }

    #[test]
    fn new_keys_of_unchanged_files_replace_the_manifest() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        let keyed = |key: u128| {
            let mut o = site(&[("index.html", "home"), ("a/index.html", "a")]);
            o.keys.insert("index.html".into(), key);
            o
        };
        write_atomically(&keyed(1), &out).unwrap();
        // Same bytes, new key (say, a template edit that changed nothing):
        // no file is written, but the next build must find the new key.
        let stats = write_atomically(&keyed(2), &out).unwrap();
        assert_eq!((stats.written, stats.unchanged, stats.full), (0, 2, false));
        let manifest = Manifest::read(&out).unwrap();
        assert_eq!(manifest.files["index.html"].key, Some(2));
        assert_eq!(manifest.files["a/index.html"].key, None);
        assert_eq!(leftovers(tmp.path()), vec!["public"]);
    }

    #[cfg(unix)]
    fn inode(p: &Path) -> u64 {
        std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap())
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn digest_tells_small_changes_apart() {
        let a = digest(b"<p>Hello, world.</p>\n");
        assert_eq!(a, digest(b"<p>Hello, world.</p>\n"));
        assert_ne!(a, digest(b"<p>Hello, world!</p>\n"));
        assert_ne!(digest(b""), digest(b"\0"));
        let long = "x".repeat(1000);
        let mut changed = long.clone().into_bytes();
        changed[517] = b'y';
        assert_ne!(digest(long.as_bytes()), digest(&changed));
    }

    #[test]
    #[cfg(unix)]
    fn unchanged_files_are_not_rewritten() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        let first = site(&[
            ("index.html", "home"),
            ("news/a/index.html", "a"),
            ("news/b/index.html", "b"),
        ]);
        assert!(write_atomically(&first, &out).unwrap().full);
        assert!(out.join(MANIFEST).is_file());
        let a = out.join("news/a/index.html");
        let b = out.join("news/b/index.html");
        let (ino_a, mtime_a) = (
            inode(&a),
            std::fs::metadata(&a).unwrap().modified().unwrap(),
        );
        let ino_b = inode(&b);

        let second = site(&[
            ("index.html", "home"),
            ("news/a/index.html", "a"),
            ("news/b/index.html", "b, edited"),
        ]);
        let stats = write_atomically(&second, &out).unwrap();
        assert_eq!(
            stats,
            WriteStats {
                written: 1,
                unchanged: 2,
                removed: 0,
                full: false
            }
        );
        // The same file, never reopened: same inode, same mtime.
        assert_eq!(inode(&a), ino_a);
        assert_eq!(std::fs::metadata(&a).unwrap().modified().unwrap(), mtime_a);
        assert_ne!(inode(&b), ino_b);
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "b, edited");

        // Nothing changed: nothing written, not even the manifest.
        let manifest_ino = inode(&out.join(MANIFEST));
        let stats = write_atomically(&second, &out).unwrap();
        assert_eq!((stats.written, stats.unchanged), (0, 3));
        assert_eq!(inode(&out.join(MANIFEST)), manifest_ino);
        assert_eq!(leftovers(tmp.path()), vec!["public"]);
    }

    #[test]
    fn files_no_longer_made_are_removed_with_their_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        write_atomically(
            &site(&[("index.html", "home"), ("old/deep/index.html", "old")]),
            &out,
        )
        .unwrap();
        let stats = write_atomically(
            &site(&[("index.html", "home"), ("new/index.html", "new")]),
            &out,
        )
        .unwrap();
        assert_eq!((stats.written, stats.removed, stats.full), (1, 1, false));
        assert!(!out.join("old").exists());
        assert_eq!(
            std::fs::read_to_string(out.join("new/index.html")).unwrap(),
            "new"
        );
        assert_eq!(leftovers(&out), vec![MANIFEST, "index.html", "new"]);
        assert_eq!(leftovers(tmp.path()), vec!["public"]);
    }

    #[test]
    fn a_file_edited_by_hand_is_written_again() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        let o = site(&[("index.html", "home")]);
        write_atomically(&o, &out).unwrap();
        // Same length, other bytes, a later mtime: the manifest no longer vouches for it.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(out.join("index.html"), "HOME").unwrap();
        let stats = write_atomically(&o, &out).unwrap();
        assert_eq!(stats.written, 1);
        assert_eq!(
            std::fs::read_to_string(out.join("index.html")).unwrap(),
            "home"
        );
    }

    #[test]
    fn a_file_where_a_folder_was_falls_back_to_a_full_write() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        write_atomically(&site(&[("a/index.html", "a")]), &out).unwrap();
        let stats = write_atomically(&site(&[("a", "now a file")]), &out).unwrap();
        assert!(stats.full);
        assert_eq!(
            std::fs::read_to_string(out.join("a")).unwrap(),
            "now a file"
        );
        assert_eq!(leftovers(tmp.path()), vec!["public"]);
    }

    #[test]
    #[cfg(unix)]
    fn a_failed_write_leaves_the_old_site_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        let old = site(&[
            ("index.html", "old home"),
            ("news/a/index.html", "old a"),
            ("gone/index.html", "gone"),
        ]);
        write_atomically(&old, &out).unwrap();
        let snapshot = |dir: &Path| -> Vec<(String, Vec<u8>, u64)> {
            let mut v: Vec<_> = walkdir::WalkDir::new(dir)
                .into_iter()
                .map(|e| e.unwrap())
                .filter(|e| e.file_type().is_file())
                .map(|e| {
                    (
                        e.path().strip_prefix(dir).unwrap().display().to_string(),
                        std::fs::read(e.path()).unwrap(),
                        inode(e.path()),
                    )
                })
                .collect();
            v.sort();
            v
        };
        let before = snapshot(&out);

        // A build whose second half cannot be written: the copy's source is missing.
        let mut new = site(&[
            ("index.html", "new home"),
            ("news/a/index.html", "new a"),
            ("news/b/index.html", "new b"),
        ]);
        new.copies
            .insert("style.css".into(), tmp.path().join("missing.css"));
        assert!(write_atomically(&new, &out).is_err());
        assert_eq!(snapshot(&out), before);

        // A failure while files are being replaced (a folder in the way of a
        // new file) is undone too: every file back, the manifest back.
        let mut new = site(&[
            ("index.html", "new home"),
            ("news/a/index.html", "new a"),
            ("zz/index.html", "new z"),
        ]);
        new.add("news/b/index.html", "new b");
        std::fs::create_dir_all(out.join("zz/index.html")).unwrap();
        std::fs::write(out.join("zz/index.html/keep"), "x").unwrap();
        let before = snapshot(&out);
        assert!(write_atomically(&new, &out).is_err());
        assert_eq!(snapshot(&out), before);
        assert!(!out.join("news/b").exists());
        let names = leftovers(tmp.path());
        assert_eq!(names, vec!["public"], "no staging folder is left behind");
        // And the next good build still knows what it wrote.
        std::fs::remove_dir_all(out.join("zz")).unwrap();
        let stats = write_atomically(&old, &out).unwrap();
        assert_eq!((stats.full, stats.written), (false, 0));
        assert_eq!(
            std::fs::read_to_string(out.join("index.html")).unwrap(),
            "old home"
        );
    }

    #[test]
    fn copies_win_over_rendered_files_and_are_skipped_when_unchanged() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("style.css");
        std::fs::write(&src, "body{}").unwrap();
        let out = tmp.path().join("public");
        let mut o = site(&[("style.css", "rendered"), ("index.html", "home")]);
        o.copies.insert("style.css".into(), src.clone());
        write_atomically(&o, &out).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("style.css")).unwrap(),
            "body{}"
        );
        let stats = write_atomically(&o, &out).unwrap();
        assert_eq!((stats.written, stats.unchanged), (0, 2));
    }
}
