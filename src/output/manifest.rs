//! `.herald-manifest`: what each file was left as, for the next build.

use super::write::Entry;
use super::MANIFEST;
use crate::error::{Error, Result};
use crate::file_meta::FileMeta;
use rustc_hash::FxHashMap as HashMap;
use std::path::Path;

/// A file as a build left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct Stamp {
    pub(super) len: u64,
    pub(super) digest: u64,
    /// Modification time in nanoseconds since 1970, and inode number: a file
    /// edited or replaced by hand no longer matches. (Not the status-change
    /// time, as the content's stamps have: Herald's own rename of a file
    /// into place moves it after the stamp is taken.)
    pub(super) mtime: i128,
    pub(super) ino: u64,
    /// The input key it was rendered from, if it has one.
    pub(super) key: Option<u128>,
}

impl Stamp {
    pub(super) fn of(meta: &FileMeta, e: &Entry<'_>) -> Stamp {
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
    pub(super) fn is_still(&self, meta: &FileMeta) -> bool {
        meta.is_file && (meta.len, meta.mtime, meta.ino) == (self.len, self.mtime, self.ino)
    }
}

/// `.herald-manifest`: what the last build left in the output folder, each
/// file's [`Stamp`] by its path. Encoded with bincode after a version tag:
/// it is read and written whole on every build, and a text format took
/// tens of milliseconds to print and parse at 10,000 pages.
pub(super) struct Manifest {
    pub(super) files: HashMap<String, Stamp>,
}

impl Manifest {
    /// Changes when the layout or the digest function does (the digest of a
    /// fixed text is part of it).
    pub(super) fn version() -> (&'static str, u64) {
        ("herald-manifest 3", digest(b"herald"))
    }

    /// The manifest of `out_dir`, when there is a readable one of this version.
    pub(super) fn read(out_dir: &Path) -> Option<Manifest> {
        let bytes = std::fs::read(out_dir.join(MANIFEST)).ok()?;
        let ((tag, check), files): ((String, u64), HashMap<String, Stamp>) =
            bincode::deserialize(&bytes).ok()?;
        ((tag.as_str(), check) == Self::version()).then_some(Manifest { files })
    }

    /// Writes the manifest of `entries`, as `stamps` (in the same order)
    /// describe their files, to the new file `path` (in a staging folder).
    pub(super) fn write(path: &Path, entries: &[Entry<'_>], stamps: &[Stamp]) -> Result<()> {
        let bytes = Self::encode(entries, stamps)?;
        std::fs::write(path, bytes).map_err(|e| Error::io("write", path, e))
    }

    /// Replaces the manifest of the output folder `out_dir` with that of
    /// `entries` (see [`Manifest::write`]). Not flushed: a manifest lost in
    /// a crash makes the next build a full one, and one older than the
    /// files only makes it write more (their stamps no longer match).
    pub(super) fn replace(out_dir: &Path, entries: &[Entry<'_>], stamps: &[Stamp]) -> Result<()> {
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
pub(super) fn digest(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}
