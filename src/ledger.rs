//! The syndication ledger, `data/syndication.toml`: which entry went to which
//! network, under which id and URL, and when.
//!
//! People review it in pull requests and CI commits it back, so it is sorted
//! (entries by file, then networks by name) and one value per line. It is
//! written atomically — a temporary file in the same folder, flushed to disk,
//! then renamed over the old one — so a crash leaves the old ledger or the new
//! one, never a torn file. `herald syndicate` writes an *intent* before each
//! send and the *result* after it; an intent without a result means the
//! process died (or the network timed out) in between, and the next run asks
//! the network before sending anything.

use crate::error::{Diagnostic, Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the ledger lives, relative to the site root.
pub const LEDGER_FILE: &str = "data/syndication.toml";

const HEADER: &str = "\
# Written by `herald syndicate`: where each entry was cross-posted.
# Commit this file. An entry listed here as `posted` is never sent to that network again;
# `intent` means a send was started and not confirmed: the next run checks with the network.
";

/// The state of one entry on one network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// A send was started; its result is not known yet.
    Intent,
    /// The network confirmed the post.
    Posted,
}

/// One entry on one network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub status: Status,
    /// The network's id of the post (status id, record URI, topic id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The public address of the post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// When the post was confirmed (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posted_at: Option<String>,
    /// When the send was started (RFC 3339, UTC); kept for intents only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent_at: Option<String>,
}

impl Record {
    /// A confirmed post.
    pub fn posted(id: &str, url: &str, at: chrono::DateTime<chrono::Utc>) -> Record {
        Record {
            status: Status::Posted,
            id: Some(id.to_string()),
            url: Some(url.to_string()),
            posted_at: Some(rfc3339(at)),
            intent_at: None,
        }
    }

    /// A send about to start.
    pub fn intent(at: chrono::DateTime<chrono::Utc>) -> Record {
        Record {
            status: Status::Intent,
            id: None,
            url: None,
            posted_at: None,
            intent_at: Some(rfc3339(at)),
        }
    }
}

fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The whole ledger: entry (file relative to `content/`) → network name → record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    pub entries: BTreeMap<String, BTreeMap<String, Record>>,
}

impl Ledger {
    /// The ledger's path under `root`.
    pub fn path(root: &Path) -> PathBuf {
        root.join(LEDGER_FILE)
    }

    /// Reads the ledger of the site in `root`; a missing file is an empty ledger.
    pub fn load(root: &Path) -> Result<Ledger> {
        let path = Ledger::path(root);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ledger::default()),
            Err(e) => return Err(Error::io("read", &path, e)),
        };
        Ledger::parse(&text)
    }

    /// Parses the text of a ledger file.
    pub fn parse(text: &str) -> Result<Ledger> {
        let entries = toml::from_str(text).map_err(|e| {
            let mut d = crate::toml_errors::diagnostic(Path::new(LEDGER_FILE), text, 1, &e);
            d.help.get_or_insert_with(|| {
                "the ledger is written by `herald syndicate`; restore it from git (`git checkout data/syndication.toml`)".into()
            });
            Error::from(d)
        })?;
        Ok(Ledger { entries })
    }

    /// The ledger as it is written to disk: a comment header, then sorted tables.
    pub fn to_toml(&self) -> String {
        let mut out = String::from(HEADER);
        // Written by hand rather than by the serializer, so the layout (one
        // table per entry and network, keys in a fixed order) never changes
        // with a dependency update and diffs stay minimal.
        for (entry, networks) in &self.entries {
            for (network, r) in networks {
                out.push('\n');
                out.push_str(&format!("[{}.{}]\n", quote_key(entry), quote_key(network)));
                let status = match r.status {
                    Status::Intent => "intent",
                    Status::Posted => "posted",
                };
                out.push_str(&format!("status = \"{status}\"\n"));
                for (k, v) in [
                    ("id", &r.id),
                    ("url", &r.url),
                    ("posted_at", &r.posted_at),
                    ("intent_at", &r.intent_at),
                ] {
                    if let Some(v) = v {
                        out.push_str(&format!("{k} = {}\n", toml::Value::String(v.clone())));
                    }
                }
            }
        }
        out
    }

    /// Writes the ledger of the site in `root` atomically: temp file in the
    /// same folder, fsync, rename.
    pub fn save(&self, root: &Path) -> Result<()> {
        crate::atomic_file::replace(&Ledger::path(root), self.to_toml().as_bytes())
    }

    /// The record of `entry` on `network`.
    pub fn get(&self, entry: &str, network: &str) -> Option<&Record> {
        self.entries.get(entry).and_then(|n| n.get(network))
    }

    /// Sets the record of `entry` on `network`.
    pub fn set(&mut self, entry: &str, network: &str, record: Record) {
        self.entries
            .entry(entry.to_string())
            .or_default()
            .insert(network.to_string(), record);
    }

    /// Removes the record of `entry` on `network` (an intent found not sent).
    pub fn remove(&mut self, entry: &str, network: &str) {
        if let Some(n) = self.entries.get_mut(entry) {
            n.remove(network);
            if n.is_empty() {
                self.entries.remove(entry);
            }
        }
    }

    /// Entries with an intent and no result on `network`.
    pub fn intents(&self, network: &str) -> Vec<String> {
        self.entries
            .iter()
            .filter(|(_, n)| n.get(network).is_some_and(|r| r.status == Status::Intent))
            .map(|(e, _)| e.clone())
            .collect()
    }
}

/// A TOML key, quoted unless it is a bare key.
fn quote_key(k: &str) -> String {
    if !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        k.to_string()
    } else {
        toml::Value::String(k.to_string()).to_string()
    }
}

/// A diagnostic about the ledger file.
pub fn diagnostic(message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(LEDGER_FILE, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at() -> chrono::DateTime<chrono::Utc> {
        chrono::Utc.with_ymd_and_hms(2026, 10, 6, 9, 30, 0).unwrap()
    }

    #[test]
    fn round_trip_is_sorted_and_stable() {
        let mut l = Ledger::default();
        l.set(
            "news/b.md",
            "mastodon",
            Record::posted("11", "https://m.example/@f/11", at()),
        );
        l.set("news/a b.md", "bluesky", Record::intent(at()));
        l.set(
            "news/a b.md",
            "forum",
            Record::posted("7", "https://forum.example/t/a/7", at()),
        );
        let text = l.to_toml();
        let back = Ledger::parse(&text).unwrap();
        assert_eq!(back, l);
        assert_eq!(back.to_toml(), text, "writing is deterministic");
        let a = text.find("[\"news/a b.md\".bluesky]").unwrap();
        let f = text.find("[\"news/a b.md\".forum]").unwrap();
        let b = text.find("[\"news/b.md\".mastodon]").unwrap();
        assert!(a < f && f < b, "{text}");
        assert!(text.contains("status = \"intent\"\nintent_at = \"2026-10-06T09:30:00Z\"\n"));
        assert_eq!(back.intents("bluesky"), vec!["news/a b.md".to_string()]);
        assert!(back.intents("forum").is_empty());
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::default();
        l.save(dir.path()).unwrap();
        l.set("x.md", "m", Record::posted("1", "https://x/1", at()));
        l.save(dir.path()).unwrap();
        assert_eq!(Ledger::load(dir.path()).unwrap(), l);
        let names: Vec<String> = std::fs::read_dir(dir.path().join("data"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["syndication.toml".to_string()]);
    }

    #[test]
    fn a_failed_write_leaves_the_old_ledger() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::default();
        l.set("x.md", "m", Record::posted("1", "https://x/1", at()));
        l.save(dir.path()).unwrap();
        let before = std::fs::read_to_string(Ledger::path(dir.path())).unwrap();
        // The target is now a folder: the rename fails after the temp file is written.
        let bad = dir.path().join("data/folder");
        std::fs::create_dir_all(bad.join("inner")).unwrap();
        assert!(crate::atomic_file::replace(&bad, b"new").is_err());
        assert_eq!(
            std::fs::read_to_string(Ledger::path(dir.path())).unwrap(),
            before
        );
        let temps = std::fs::read_dir(dir.path().join("data"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".tmp")
            })
            .count();
        assert_eq!(temps, 0, "the temporary file is removed");
    }

    #[test]
    fn a_missing_ledger_is_empty_and_a_broken_one_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Ledger::load(dir.path()).unwrap(), Ledger::default());
        let err = Ledger::parse("[\"a.md\".m]\nstatus = \"posted\"\nurll = \"x\"\n").unwrap_err();
        let d = &err.diagnostics()[0];
        assert_eq!(d.file, Path::new(LEDGER_FILE));
        assert_eq!(d.line, Some(3));
        assert_eq!(d.help.as_deref(), Some("did you mean `url`?"));
    }
}
