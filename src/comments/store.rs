//! `data/comments/`: one JSON file per entry (`data/comments/news/launch.json`
//! for `content/news/launch.md`), written atomically (a temporary file in the
//! same folder, flushed, then renamed), and `history.jsonl`, one line of
//! counts per post per run, appended in one write.
//!
//! A build reads only these files, so it needs no network and is
//! reproducible from git.

use super::model::{EntryComments, Snapshot};
use crate::error::{Diagnostic, Error, Result};
use std::io::Write;
use std::path::{Component, Path, PathBuf};

/// The folder, relative to the site root.
pub const COMMENTS_DIR: &str = "data/comments";
/// The history of counts, relative to the site root.
pub const HISTORY_FILE: &str = "data/comments/history.jsonl";

/// The file holding `entry` (a path relative to `content/`), relative to the
/// site root; `None` when the entry's name could escape the folder.
pub fn entry_file(entry: &str) -> Option<PathBuf> {
    let rel = Path::new(entry);
    let safe = !entry.is_empty() && rel.components().all(|c| matches!(c, Component::Normal(_)));
    if !safe {
        return None;
    }
    let stem = entry.strip_suffix(".md").unwrap_or(entry);
    Some(Path::new(COMMENTS_DIR).join(format!("{stem}.json")))
}

/// Reads the comments of `entry`; `Ok(None)` when none were fetched.
pub fn load(root: &Path, entry: &str) -> Result<Option<EntryComments>> {
    let Some(rel) = entry_file(entry) else {
        return Ok(None);
    };
    let path = root.join(&rel);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    let c: EntryComments = serde_json::from_str(&text).map_err(|e| {
        Error::from(
            Diagnostic::new(&rel, format!("not a comment file Herald can read: {e}"))
                .at_line(e.line().max(1))
                .help("this file is written by `herald comments`: restore it from git, or delete it and run `herald comments` again"),
        )
    })?;
    Ok(Some(c))
}

/// Writes the comments of one entry atomically.
pub fn save(root: &Path, c: &EntryComments) -> Result<()> {
    let rel = entry_file(&c.entry).ok_or_else(|| {
        Error::Other(format!(
            "entry `{}` in data/syndication.toml is not a path under content/",
            c.entry
        ))
    })?;
    let mut json = serde_json::to_string_pretty(c).expect("comment model serializes");
    json.push('\n');
    crate::atomic_file::replace(&root.join(rel), json.as_bytes())
}

/// Appends `snapshots` to the history file in one write. A line torn by a
/// crash is skipped by readers, and the next append starts on a new line.
pub fn append_history(root: &Path, snapshots: &[Snapshot]) -> Result<()> {
    if snapshots.is_empty() {
        return Ok(());
    }
    let path = root.join(HISTORY_FILE);
    let dir = path.parent().expect("history file has a folder");
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create folder", dir, e))?;
    let needs_newline = std::fs::read(&path)
        .map(|b| b.last().is_some_and(|&c| c != b'\n'))
        .unwrap_or(false);
    let mut buf = String::new();
    if needs_newline {
        buf.push('\n');
    }
    for s in snapshots {
        buf.push_str(&serde_json::to_string(s).expect("snapshots serialize"));
        buf.push('\n');
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| Error::io("open", &path, e))?;
    f.write_all(buf.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::io("append to", &path, e))
}

/// Every readable line of the history file, oldest first.
pub fn read_history(root: &Path) -> Result<Vec<Snapshot>> {
    let path = root.join(HISTORY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(t) => Ok(t
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::io("read", &path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comments::model::*;

    #[test]
    fn entry_files_mirror_content_and_cannot_escape() {
        assert_eq!(
            entry_file("news/launch.md").unwrap(),
            Path::new("data/comments/news/launch.json")
        );
        assert_eq!(
            entry_file("news/x/index.md").unwrap(),
            Path::new("data/comments/news/x/index.json")
        );
        assert!(entry_file("../x.md").is_none());
        assert!(entry_file("/etc/passwd").is_none());
        assert!(entry_file("").is_none());
    }

    #[test]
    fn save_load_round_trip_and_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = EntryComments {
            entry: "news/a.md".into(),
            ..Default::default()
        };
        c.networks.insert(
            "m".into(),
            NetworkThread {
                kind: Kind::Mastodon,
                label: "Mastodon".into(),
                post_id: "1".into(),
                post_url: None,
                fetched_at: "2026-01-01T00:00:00Z".into(),
                counts: Counts::default(),
                followers: Some(3),
                truncated: false,
                etags: Default::default(),
                comments: vec![],
            },
        );
        save(dir.path(), &c).unwrap();
        save(dir.path(), &c).unwrap();
        assert_eq!(load(dir.path(), "news/a.md").unwrap().unwrap(), c);
        assert!(load(dir.path(), "news/b.md").unwrap().is_none());
        let names: Vec<_> = std::fs::read_dir(dir.path().join("data/comments/news"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.json"]);
        std::fs::write(dir.path().join("data/comments/news/a.json"), "{\n oops").unwrap();
        let err = load(dir.path(), "news/a.md").unwrap_err().to_string();
        assert!(err.contains("data/comments/news/a.json:2"), "{err}");
    }

    #[test]
    fn history_appends_and_survives_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let s = Snapshot {
            at: "t".into(),
            entry: "a.md".into(),
            network: "m".into(),
            kind: Kind::Bluesky,
            post_url: None,
            likes: 1,
            reposts: 2,
            quotes: 3,
            replies: 4,
            comments: 4,
            followers: None,
        };
        append_history(dir.path(), std::slice::from_ref(&s)).unwrap();
        let path = dir.path().join(HISTORY_FILE);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"{\"at\":\"torn").unwrap();
        append_history(dir.path(), std::slice::from_ref(&s)).unwrap();
        assert_eq!(read_history(dir.path()).unwrap(), vec![s.clone(), s]);
    }
}
