//! Writing a first build's files as they are rendered.

use super::manifest::digest;
use super::write::{
    ancestors, create_dir_all, create_dirs, parent_of, split_out_dir, staging_dir, Entry, Src,
};
use super::Kept;
use crate::error::{Error, Result};
use crate::file_meta::Folder;
use std::collections::BTreeSet;
use std::path::Path;

/// The folder a build writes its files into as it renders them, when the
/// output folder has no manifest (a first build): the files then need not
/// all be held in memory. It is beside the output folder and swapped in at
/// the end like any full write; dropped unused (a failed build), it is
/// removed, and the output folder was never touched.
pub struct Stream {
    pub(super) dir: tempfile::TempDir,
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
