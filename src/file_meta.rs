//! The little a build needs to know of a file's metadata, looked up from
//! an open folder.
//!
//! A rebuild looks at every content file and every output file it keeps:
//! tens of thousands of `stat` calls. Made relative to a folder opened once,
//! each resolves a short path (`posts/a/index.html`) rather than the whole
//! path from `/`, with no path joined in memory first.

use std::io;
use std::path::{Path, PathBuf};

/// A file's length, modification and status-change times, inode and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMeta {
    pub len: u64,
    /// Nanoseconds since 1970; -1 when unknown.
    pub mtime: i128,
    /// When its inode last changed (contents, name, permissions), in
    /// nanoseconds since 1970; -1 where the platform has none.
    pub ctime: i128,
    /// 0 where the platform has none.
    pub ino: u64,
    pub is_file: bool,
}

/// Nanoseconds since 1970 from seconds and nanoseconds; -1 before 1970.
fn nanos(secs: i64, nsec: i64) -> i128 {
    match secs {
        s if s >= 0 => i128::from(s) * 1_000_000_000 + i128::from(nsec),
        _ => -1,
    }
}

impl FileMeta {
    /// From the standard library's metadata (of an open file, say).
    pub fn from_std(meta: &std::fs::Metadata) -> FileMeta {
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(-1, |d| d.as_nanos() as i128);
        #[cfg(unix)]
        let (ino, ctime) = {
            use std::os::unix::fs::MetadataExt;
            (meta.ino(), nanos(meta.ctime(), meta.ctime_nsec()))
        };
        #[cfg(not(unix))]
        let (ino, ctime) = (0, -1);
        FileMeta {
            len: meta.len(),
            mtime,
            ctime,
            ino,
            is_file: meta.is_file(),
        }
    }

    /// The later of its modification and status-change times. A file
    /// rewritten in place with its old mtime put back (`touch -r`, `cp -p`,
    /// an archive unpacked) has a new status-change time, which no one can
    /// set: git's index compares it for the same reason.
    pub fn changed(&self) -> i128 {
        self.mtime.max(self.ctime)
    }

    /// How long ago the file was last modified (zero if in the future or
    /// unknown).
    pub fn age(&self) -> std::time::Duration {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        match self.mtime {
            m if m >= 0 && now > m => {
                std::time::Duration::from_nanos(u64::try_from(now - m).unwrap_or(u64::MAX))
            }
            _ => std::time::Duration::ZERO,
        }
    }
}

/// A folder whose files are looked up by their path relative to it.
pub struct Folder {
    path: PathBuf,
    #[cfg(unix)]
    fd: Option<rustix::fd::OwnedFd>,
}

impl Folder {
    /// The folder at `path`. Never fails: a folder that cannot be opened
    /// (or a platform without `fstatat`) is looked up by joined paths, and
    /// a missing one makes every lookup fail as it should.
    pub fn open(path: &Path) -> Folder {
        #[cfg(unix)]
        let fd = {
            use rustix::fs::{Mode, OFlags, CWD};
            let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
            rustix::fs::openat(CWD, path, flags, Mode::empty()).ok()
        };
        Folder {
            path: path.to_path_buf(),
            #[cfg(unix)]
            fd,
        }
    }

    /// The metadata of the file at `rel` (`/`-separated, relative to the
    /// folder); a symbolic link is followed when `follow` is true.
    pub fn meta(&self, rel: &str, follow: bool) -> io::Result<FileMeta> {
        #[cfg(unix)]
        if let Some(fd) = &self.fd {
            use rustix::fs::{AtFlags, FileType};
            let flags = match follow {
                true => AtFlags::empty(),
                false => AtFlags::SYMLINK_NOFOLLOW,
            };
            let st = rustix::fs::statat(fd, rel, flags)?;
            return Ok(FileMeta {
                len: st.st_size as u64,
                mtime: nanos(st.st_mtime as i64, st.st_mtime_nsec as i64),
                ctime: nanos(st.st_ctime as i64, st.st_ctime_nsec as i64),
                ino: st.st_ino as u64,
                is_file: FileType::from_raw_mode(st.st_mode as _) == FileType::RegularFile,
            });
        }
        let path = self.path.join(rel);
        let meta = match follow {
            true => std::fs::metadata(path)?,
            false => std::fs::symlink_metadata(path)?,
        };
        Ok(FileMeta::from_std(&meta))
    }
}

impl Folder {
    /// Creates the folder `rel` (its parent must exist).
    pub fn mkdir(&self, rel: &str) -> io::Result<()> {
        #[cfg(unix)]
        if let Some(fd) = &self.fd {
            let mode = rustix::fs::Mode::from_raw_mode(0o777);
            return Ok(rustix::fs::mkdirat(fd, rel, mode)?);
        }
        std::fs::create_dir(self.path.join(rel))
    }

    /// Creates the file `rel` (or truncates it) for writing.
    pub fn create(&self, rel: &str) -> io::Result<std::fs::File> {
        #[cfg(unix)]
        if let Some(fd) = &self.fd {
            use rustix::fs::{Mode, OFlags};
            let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::CLOEXEC;
            let file = rustix::fs::openat(fd, rel, flags, Mode::from_raw_mode(0o666))?;
            return Ok(std::fs::File::from(file));
        }
        std::fs::File::create(self.path.join(rel))
    }

    /// The bytes of the file `rel`.
    pub fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
        #[cfg(unix)]
        if let Some(fd) = &self.fd {
            use rustix::fs::{Mode, OFlags};
            let flags = OFlags::RDONLY | OFlags::CLOEXEC;
            let mut file = std::fs::File::from(rustix::fs::openat(fd, rel, flags, Mode::empty())?);
            // Room for a typical Markdown file, read without asking its size.
            return read_all(&mut file, 16 * 1024);
        }
        std::fs::read(self.path.join(rel))
    }

    /// True when `rel` is a folder (a symbolic link is not followed).
    pub fn is_dir(&self, rel: &str) -> bool {
        // Asked only when making a folder failed: no need to be quick.
        std::fs::symlink_metadata(self.path.join(rel)).is_ok_and(|m| m.is_dir())
    }

    /// The folder's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The rest of `file`, which should hold about `expected` bytes.
///
/// The standard library's `read_to_end` on a file first asks for its size
/// and position (`statx`, `lseek`): two of the seven system calls of reading
/// a small file whose size the caller knows already.
pub fn read_all(file: &mut impl std::io::Read, expected: usize) -> io::Result<Vec<u8>> {
    use std::io::Read;
    // One more byte than expected, so that the second read sees the end;
    // through `take`, which reads to the end without asking first.
    let mut bytes = Vec::with_capacity(expected + 1);
    file.by_ref().take(u64::MAX).read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_standard_library() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/b.html"), "twelve bytes").unwrap();
        let folder = Folder::open(dir.path());
        let got = folder.meta("a/b.html", false).unwrap();
        let std_meta = std::fs::metadata(dir.path().join("a/b.html")).unwrap();
        assert_eq!(got, FileMeta::from_std(&std_meta));
        assert_eq!(got.len, 12);
        assert!(got.is_file);
        assert!(!folder.meta("a", false).unwrap().is_file);
        assert!(folder.meta("a/missing", false).is_err());
        assert!(got.age() < std::time::Duration::from_secs(60));
    }

    #[cfg(unix)]
    #[test]
    fn follows_a_symbolic_link_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("real.md"), "x").unwrap();
        std::os::unix::fs::symlink("real.md", dir.path().join("link.md")).unwrap();
        let folder = Folder::open(dir.path());
        assert!(folder.meta("link.md", true).unwrap().is_file);
        assert!(!folder.meta("link.md", false).unwrap().is_file);
    }

    #[test]
    fn reads_whole_files_whatever_size_was_expected() {
        let dir = tempfile::tempdir().unwrap();
        let text: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(dir.path().join("f"), &text).unwrap();
        for expected in [0, 1, 39_999, 40_000, 40_001, 100_000] {
            let mut file = std::fs::File::open(dir.path().join("f")).unwrap();
            assert_eq!(read_all(&mut file, expected).unwrap(), text, "{expected}");
        }
        let folder = Folder::open(dir.path());
        assert_eq!(folder.read("f").unwrap(), text);
        assert!(folder.read("missing").is_err());
    }

    #[test]
    fn a_missing_folder_finds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let folder = Folder::open(&dir.path().join("nope"));
        assert!(folder.meta("a", true).is_err());
    }
}
