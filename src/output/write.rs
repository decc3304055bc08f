//! Writing an [`Output`] to its folder: all afresh, or only what changed.

use super::manifest::{digest, Manifest, Stamp};
use super::{Bytes, Kept, Output, Previous, Stream, MANIFEST};
use crate::error::{Error, Result};
use crate::file_meta::{FileMeta, Folder};
use rayon::prelude::*;
use rustc_hash::FxHashSet as HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

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
        let plan = match stands_in_the_way(&previous, out_dir) {
            false => plan(&entries, &previous),
            true => None,
        };
        // Fifteen thousand paths at ten thousand pages.
        crate::free::free_later(previous);
        if let Some(plan) = plan {
            return write_incremental(&entries, plan, out_dir, &parent, &name);
        }
    }
    let staging = staging_dir(&parent, &name, "new")?;
    write_full(&entries, out_dir, (&parent, &name), staging, false)
}

/// True when a file the last build wrote is now a folder, or one of its
/// folders a file (made by hand since): renaming files into place cannot
/// get past that, so everything is written afresh, as for a new layout.
/// Only the files found touched are looked at: usually none.
fn stands_in_the_way(previous: &Previous, out_dir: &Path) -> bool {
    previous.touched.iter().any(|rel| {
        let is_dir = |p: &Path| std::fs::symlink_metadata(p).ok().map(|m| m.is_dir());
        let mut folders = Path::new(rel).ancestors().skip(1);
        is_dir(&out_dir.join(rel)) == Some(true)
            || folders.any(|f| !f.as_os_str().is_empty() && is_dir(&out_dir.join(f)) == Some(false))
    })
}

/// The folder holding `out_dir`, and `out_dir`'s name.
pub(super) fn split_out_dir(out_dir: &Path) -> Result<(PathBuf, String)> {
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

pub(super) fn staging_dir(parent: &Path, name: &str, kind: &str) -> Result<tempfile::TempDir> {
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
pub(super) fn create_dirs(folder: &Folder, dirs: HashSet<&str>) -> Result<()> {
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
pub(super) fn create_dir_all(folder: &Folder, rel: &str) -> Result<()> {
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
pub(super) fn ancestors<'a>(files: impl Iterator<Item = &'a str>) -> HashSet<&'a str> {
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

pub(super) fn parent_of(rel: &str) -> Option<&str> {
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
pub(super) struct Entry<'a> {
    pub(super) rel: &'a str,
    pub(super) src: Src<'a>,
    pub(super) len: u64,
    pub(super) digest: u64,
    pub(super) key: Option<u128>,
}

#[derive(Clone, Copy)]
pub(super) enum Src<'a> {
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
        let id = format!(
            "copy\0{}\0{}\0{}\0{}",
            src.display(),
            m.len,
            m.changed(),
            m.ino
        );
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
    pub(super) fn write_to(
        &self,
        folder: &Folder,
        rel: &str,
        kept_in: Option<&Path>,
    ) -> Result<Stamp> {
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
