//! What the last build learned rendering each Markdown file, kept in
//! `.herald-cache/` in the site folder, so that a rebuild renders only the
//! pages that changed.
//!
//! A rendering is known to be the same as last time when the text is the
//! same (and Herald and the Markdown options are) *and* every lookup the
//! rendering made gives the same answer today: each `@/` link it resolved
//! and each image whose size it read. Those lookups are recorded as the page
//! is rendered, so nothing the result depends on goes unchecked. The cache
//! keeps what lists need (the summary and the word count) and the page's
//! [`render_key`]; the HTML itself is not kept: a page whose output file is
//! kept never needs it, and one that is rendered again renders its Markdown
//! again. Anything unreadable in the cache (another version, a torn file)
//! just means every page is rendered again.

use crate::input_key::InputKey;
use crate::markdown::Rendered;
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The folder, in the site folder, for what one build leaves to the next.
pub const CACHE_DIR: &str = ".herald-cache";
const FILE: &str = "markdown-2.bin";

/// The Markdown cache as read from disk.
#[derive(Default)]
pub struct MarkdownCache {
    entries: HashMap<String, Entry>,
}

/// What one file's rendering depended on, and what lists need of it.
#[derive(Serialize, Deserialize)]
pub struct Entry {
    /// [`input_key`] of the text.
    input: u128,
    lookups: Vec<Lookup>,
    summary: Option<String>,
    word_count: usize,
}

/// A question the rendering asked, and the answer it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lookup {
    /// The URL of an `@/` link's target (`None`: no such page).
    Link(String, Option<String>),
    /// The size of an image, by its URL as written.
    Image(String, Option<(usize, usize)>),
}

/// Answers the rendering's questions and writes them down.
pub struct Recorder<'a> {
    resolve: &'a (dyn Fn(&str) -> Option<String> + Sync),
    size: &'a (dyn Fn(&str) -> Option<(usize, usize)> + Sync),
    asked: Mutex<Vec<Lookup>>,
}

impl<'a> Recorder<'a> {
    pub fn new(
        resolve: &'a (dyn Fn(&str) -> Option<String> + Sync),
        size: &'a (dyn Fn(&str) -> Option<(usize, usize)> + Sync),
    ) -> Self {
        Recorder {
            resolve,
            size,
            asked: Mutex::new(Vec::new()),
        }
    }

    pub fn resolve(&self, target: &str) -> Option<String> {
        let answer = (self.resolve)(target);
        self.note(Lookup::Link(target.to_string(), answer.clone()));
        answer
    }

    pub fn size(&self, url: &str) -> Option<(usize, usize)> {
        let answer = (self.size)(url);
        self.note(Lookup::Image(url.to_string(), answer));
        answer
    }

    fn note(&self, l: Lookup) {
        self.asked.lock().unwrap_or_else(|e| e.into_inner()).push(l);
    }

    /// Every lookup made, in order.
    pub fn into_lookups(self) -> Vec<Lookup> {
        self.asked.into_inner().unwrap_or_else(|e| e.into_inner())
    }

    /// True when every lookup of an earlier rendering has the same answer now.
    fn still_holds(&self, lookups: &[Lookup]) -> bool {
        lookups.iter().all(|l| match l {
            Lookup::Link(target, url) => (self.resolve)(target) == *url,
            Lookup::Image(src, size) => (self.size)(src) == *size,
        })
    }
}

/// The key of a rendering: the same key, the same HTML, table of contents,
/// summary and word count.
pub fn render_key(input: u128, lookups: &[Lookup]) -> u128 {
    InputKey::new("rendering")
        .u128(input)
        .json(lookups)
        .finish()
}

/// The key of a Markdown body with the options that change its rendering.
/// The body is known by the [`text_key`](super::page_cache::text_key) of
/// its file's text and the byte where it starts in it, so that an
/// unchanged page is keyed without reading its file.
pub fn input_key(
    text_key: u128,
    body_start: usize,
    smart_punctuation: bool,
    heading_anchors: bool,
) -> u128 {
    InputKey::new("markdown")
        .u128(u128::from(smart_punctuation) | u128::from(heading_anchors) << 1)
        .u128(text_key)
        .u128(body_start as u128)
        .finish()
}

impl MarkdownCache {
    fn path(root: &Path) -> PathBuf {
        root.join(CACHE_DIR).join(FILE)
    }

    /// The cache of the site in `root`; empty when there is none or it
    /// cannot be read.
    pub fn read(root: &Path) -> MarkdownCache {
        let Ok(bytes) = std::fs::read(Self::path(root)) else {
            return MarkdownCache::default();
        };
        // Written as a list of pairs, which bincode encodes as it does a
        // map: read straight into one, with no list in between.
        match bincode::deserialize(&bytes) {
            Ok(entries) => MarkdownCache { entries },
            Err(_) => MarkdownCache::default(),
        }
    }

    /// Takes out the entry of `file` (relative to the site root).
    pub fn take(&mut self, file: &str) -> Option<Entry> {
        self.entries.remove(file)
    }

    /// True when nothing is left in it (every entry was taken).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The number of entries left in it.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Writes the entries, by file (relative to the site root), replacing
    /// the cache atomically. Not flushed to disk: a cache lost in a crash
    /// costs the next build time, and a torn one reads as empty, so the
    /// caller may ignore the error.
    pub fn write(root: &Path, entries: &[(String, Entry)]) -> crate::error::Result<()> {
        crate::atomic_file::replace_unflushed_by(&Self::path(root), |w| {
            bincode::serialize_into(w, entries).map_err(std::io::Error::other)
        })
    }
}

impl Entry {
    /// What the rendering of `input` (with its `lookups`) leaves to the next build.
    pub fn new(input: u128, lookups: Vec<Lookup>, rendered: &Rendered) -> Entry {
        Entry {
            input,
            lookups,
            summary: rendered.summary.clone(),
            word_count: rendered.word_count,
        }
    }

    /// When rendering `input` with the lookups of `recorder` would give the
    /// same as last time: the rendering with only its summary and word count
    /// (see [`Rendered::deferred`]), and the lookups.
    pub fn reuse(self, input: u128, recorder: &Recorder<'_>) -> Option<(Rendered, Vec<Lookup>)> {
        (self.input == input && recorder.still_holds(&self.lookups)).then(|| {
            let rendered = Rendered {
                summary: self.summary,
                word_count: self.word_count,
                deferred: true,
                ..Default::default()
            };
            (rendered, self.lookups)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(html: &str) -> Rendered {
        Rendered {
            html: html.to_string(),
            ..Default::default()
        }
    }

    #[test]
    fn entries_survive_a_round_trip_and_check_their_lookups() {
        let dir = tempfile::tempdir().unwrap();
        let lookups = vec![
            Lookup::Link("news/a.md".into(), Some("https://x.test/news/a/".into())),
            Lookup::Image("cat.png".into(), Some((40, 30))),
        ];
        let r = Rendered {
            summary: Some("<p>Hi</p>\n".into()),
            word_count: 1,
            ..rendered("<p>Hi</p>\n<p>there</p>\n")
        };
        let key = input_key(1, 0, true, false);
        MarkdownCache::write(
            dir.path(),
            &[(
                "content/b.md".to_string(),
                Entry::new(key, lookups.clone(), &r),
            )],
        )
        .unwrap();

        let mut cache = MarkdownCache::read(dir.path());
        let same_links = |t: &str| (t == "news/a.md").then(|| "https://x.test/news/a/".to_string());
        let same_size = |u: &str| (u == "cat.png").then_some((40, 30));
        let rec = Recorder::new(&same_links, &same_size);
        let (got, got_lookups) = cache
            .take("content/b.md")
            .unwrap()
            .reuse(key, &rec)
            .unwrap();
        // What lists need is kept; the HTML is rendered again if needed.
        assert_eq!(got.summary, r.summary);
        assert_eq!(got.word_count, 1);
        assert!(got.deferred && got.html.is_empty());
        assert_eq!(got_lookups, lookups);
        assert!(cache.is_empty());

        // The target moved: the rendering is stale.
        let mut cache = MarkdownCache::read(dir.path());
        let moved = |_: &str| Some("https://x.test/news/a-2/".to_string());
        let rec = Recorder::new(&moved, &same_size);
        assert!(cache
            .take("content/b.md")
            .unwrap()
            .reuse(key, &rec)
            .is_none());
        // The image changed size.
        let mut cache = MarkdownCache::read(dir.path());
        let bigger = |_: &str| Some((80, 60));
        let rec = Recorder::new(&same_links, &bigger);
        assert!(cache
            .take("content/b.md")
            .unwrap()
            .reuse(key, &rec)
            .is_none());
        // The text changed.
        let mut cache = MarkdownCache::read(dir.path());
        let rec = Recorder::new(&same_links, &same_size);
        let other = input_key(2, 0, true, false);
        assert!(cache
            .take("content/b.md")
            .unwrap()
            .reuse(other, &rec)
            .is_none());
    }

    #[test]
    fn a_torn_cache_is_an_empty_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(CACHE_DIR)).unwrap();
        std::fs::write(MarkdownCache::path(dir.path()), b"\x05\0\0not bincode").unwrap();
        assert!(MarkdownCache::read(dir.path()).is_empty());
    }

    #[test]
    fn options_change_the_key() {
        assert_ne!(input_key(1, 0, true, false), input_key(1, 0, false, false));
        assert_ne!(input_key(1, 0, true, false), input_key(1, 0, true, true));
        assert_ne!(input_key(1, 0, true, false), input_key(1, 4, true, false));
    }
}
