//! The pages the last build parsed, kept in `.herald-cache/` so that a
//! rebuild neither reads nor parses the Markdown files that did not change.
//!
//! An entry is found by the file's path under `content/` and either its
//! stamp (length, the later of its modification and status-change times,
//! and inode, as a file's metadata gives them) or a hash of its whole text:
//! the same text at the same place
//! parses to the same page. A stamp is recorded only for a file that had
//! not been modified for a while when it was read, as git does with its
//! index: a file saved twice within the file system's clock tick keeps its
//! mtime, and only its text tells the two versions apart.
//!
//! Each entry holds the page as parsed, without its body (the text from
//! `body_start` on, read again when needed: see [`Page::markdown`]),
//! encoded on its own: an entry is decoded only when it is used, and
//! written back as it was read. Anything unreadable (another Herald, a torn
//! file) is an empty cache: every page is parsed again.

use super::markdown_cache::CACHE_DIR;
use super::Page;
use crate::file_meta::FileMeta;
use crate::input_key::build_id;
use rustc_hash::FxHashMap as HashMap;
use std::path::{Path, PathBuf};

const FILE: &str = "pages-1.bin";

/// The cache as read from disk.
#[derive(Default)]
pub struct PageCache {
    bytes: Vec<u8>,
    index: HashMap<String, IndexEntry>,
}

/// A file's length, the later of its modification and status-change times
/// (see [`FileMeta::changed`]), and inode.
pub type FileStamp = (u64, i128, u64);

/// How long a file must have been left alone for its stamp to be trusted.
const SETTLED: std::time::Duration = std::time::Duration::from_secs(2);

/// The stamp of the file `meta` describes, if it can be trusted to change
/// whenever the file does (see the module documentation).
pub fn stamp_of(meta: &FileMeta) -> Option<FileStamp> {
    let settled = meta.age() >= SETTLED;
    (settled && meta.mtime >= 0).then_some((meta.len, meta.changed(), meta.ino))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct IndexEntry {
    stamp: Option<FileStamp>,
    text_key: u128,
    body_start: usize,
    /// Where the encoded page lies in the cache file.
    start: usize,
    len: usize,
}

/// An entry recorded with a stamp (see [`PageCache::stamped`]).
pub struct Stamped<'a> {
    cache: &'a PageCache,
    rel: &'a str,
    entry: &'a IndexEntry,
}

impl Stamped<'_> {
    /// The page the last build parsed from the file, when it is still the
    /// same one: its `stamp` (which must be a trusted one, from
    /// [`stamp_of`]) is the recorded one. The page comes without its body,
    /// and with the record for the next cache.
    pub fn get_unchanged(&self, stamp: FileStamp) -> Option<(Page, Record)> {
        (self.entry.stamp == Some(stamp))
            .then(|| self.cache.decode_entry(self.rel, self.entry, Some(stamp)))
            .flatten()
    }
}

/// One page as it goes into the cache: the file it came from and the page
/// encoded without its body.
pub struct Record {
    rel: String,
    stamp: Option<FileStamp>,
    text_key: u128,
    body_start: usize,
    page: Encoded,
    /// The stamp the cache it was found in holds for it, if any.
    stamp_was: Option<FileStamp>,
}

/// A page encoded without its body.
enum Encoded {
    /// Just parsed.
    Fresh(Vec<u8>),
    /// As the cache it was found in holds it, at these bytes: written back
    /// from there, not copied.
    Cached(std::ops::Range<usize>),
}

/// The hash of a Markdown file's text that finds its entry.
pub fn text_key(text: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(text.as_bytes())
}

impl PageCache {
    fn path(root: &Path) -> PathBuf {
        root.join(CACHE_DIR).join(FILE)
    }

    /// The cache of the site in `root`; empty when there is none, it cannot
    /// be read, or another build of Herald wrote it.
    pub fn read(root: &Path) -> PageCache {
        let Ok(bytes) = std::fs::read(Self::path(root)) else {
            return PageCache::default();
        };
        Self::decode(bytes).unwrap_or_default()
    }

    /// The layout: the length of the head, the head (Herald's build and
    /// the index), then the encoded pages one after the other.
    fn decode(bytes: Vec<u8>) -> Option<PageCache> {
        let head_len =
            usize::try_from(u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?)).ok()?;
        let head = bytes.get(8..8usize.checked_add(head_len)?)?;
        let (build, mut index): (u128, HashMap<String, IndexEntry>) =
            bincode::deserialize(head).ok()?;
        let pages_at = 8 + head_len;
        let fits = index.values().all(|e| {
            e.start
                .checked_add(e.len)
                .is_some_and(|end| pages_at + end <= bytes.len())
        });
        if build != build_id() || !fits {
            return None;
        }
        for e in index.values_mut() {
            e.start += pages_at;
        }
        Some(PageCache { index, bytes })
    }

    /// The entry of the file at `rel` when it was recorded with a stamp:
    /// worth a look at the file's metadata before reading it.
    pub fn stamped<'a>(&'a self, rel: &'a str) -> Option<Stamped<'a>> {
        let entry = self.index.get(rel).filter(|e| e.stamp.is_some())?;
        Some(Stamped {
            cache: self,
            rel,
            entry,
        })
    }

    /// The page the last build parsed from `text` at `rel` (`key` is the
    /// text's [`text_key`]), without its body (the text from
    /// [`Record::body_start`] on); and its record for the next cache, with
    /// the file's `stamp`.
    pub fn get(
        &self,
        rel: &str,
        key: u128,
        text: &str,
        stamp: Option<FileStamp>,
    ) -> Option<(Page, Record)> {
        let e = self.index.get(rel).filter(|e| e.text_key == key)?;
        text.get(e.body_start..)?;
        self.decode_entry(rel, e, stamp)
    }

    fn decode_entry(
        &self,
        rel: &str,
        e: &IndexEntry,
        stamp: Option<FileStamp>,
    ) -> Option<(Page, Record)> {
        let range = e.start..e.start + e.len;
        let mut page: Page = bincode::deserialize(&self.bytes[range.clone()]).ok()?;
        page.text_key = e.text_key;
        page.body_start = e.body_start;
        let record = Record {
            rel: rel.to_string(),
            stamp,
            text_key: e.text_key,
            body_start: e.body_start,
            page: Encoded::Cached(range),
            stamp_was: e.stamp,
        };
        Some((page, record))
    }

    /// How many pages the cache holds.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when it holds no page.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Replaces the cache with `records` (those found in a cache were found
    /// in `found_in`). Not flushed to disk: a cache lost in a crash costs the
    /// next build time, and a torn one reads as empty.
    pub fn write(
        root: &Path,
        found_in: &PageCache,
        records: &[Record],
    ) -> crate::error::Result<()> {
        fn encoded<'a>(found_in: &'a PageCache, r: &'a Record) -> &'a [u8] {
            match &r.page {
                Encoded::Fresh(bytes) => bytes,
                Encoded::Cached(range) => &found_in.bytes[range.clone()],
            }
        }
        let mut start = 0;
        let index: HashMap<&str, IndexEntry> = records
            .iter()
            .map(|r| {
                let len = encoded(found_in, r).len();
                let e = IndexEntry {
                    stamp: r.stamp,
                    text_key: r.text_key,
                    body_start: r.body_start,
                    start,
                    len,
                };
                start += len;
                (r.rel.as_str(), e)
            })
            .collect();
        let head = bincode::serialize(&(build_id(), index)).map_err(|e| {
            crate::error::Error::Other(format!("cannot encode the page cache: {e}"))
        })?;
        let path = Self::path(root);
        crate::atomic_file::replace_unflushed_by(&path, |w| {
            w.write_all(&(head.len() as u64).to_le_bytes())?;
            w.write_all(&head)?;
            records
                .iter()
                .try_for_each(|r| w.write_all(encoded(found_in, r)))
        })
    }
}

impl Record {
    /// The record of `page`, just parsed from `text` (of the file with the
    /// trusted `stamp`) whose body starts at byte `body_start`, before
    /// anything is added to the page: its permalink, assets or rendering.
    pub fn new(
        page: &Page,
        text: &str,
        text_key: u128,
        body_start: usize,
        stamp: Option<FileStamp>,
    ) -> Option<Record> {
        text.get(body_start..)?;
        Some(Record {
            rel: page.rel.clone(),
            stamp,
            text_key,
            body_start,
            page: Encoded::Fresh(bincode::serialize(page).ok()?),
            stamp_was: None,
        })
    }

    /// True when the cache this record came from does not hold it as it
    /// is: the page was just parsed, or its file's stamp is new. A page
    /// recorded while its file was too young for a trusted stamp gets one
    /// this way, so that the next build can skip reading it.
    pub fn is_news(&self) -> bool {
        matches!(self.page, Encoded::Fresh(_)) || self.stamp != self.stamp_was
    }

    /// Where the page's body starts in its file's text.
    pub fn body_start(&self) -> usize {
        self.body_start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(text: &str, body_start: usize) -> Page {
        Page {
            file: "content/news/a.md".into(),
            rel: "news/a.md".into(),
            section: "news".into(),
            title: "Spring release".into(),
            description: Some("All of it".into()),
            date: chrono::DateTime::parse_from_rfc3339("2026-03-04T10:00:00+02:00").ok(),
            updated: None,
            draft: false,
            slug: "a".into(),
            path: String::new(),
            aliases: vec![("/old/".into(), 5)],
            authors: vec!["Ana".into()],
            weight: Some(3),
            template: None,
            taxonomies: crate::content::PageTerms::new([crate::content::Terms {
                taxonomy: "tags".into(),
                terms: vec!["Rust".into()],
                line: Some(4),
            }]),
            extra: serde_json::json!({"hero": {"alt": "x", "n": 2}}),
            syndicate: Default::default(),
            comments: true,
            body: text[body_start..].to_string(),
            body_line: 7,
            assets: Vec::new(),
            rendered: Default::default(),
            render_key: 0,
            text_key: text_key(text),
            body_start,
            body_unread: false,
        }
    }

    #[test]
    fn a_body_read_again_is_the_files_body_as_it_is_now() {
        let dir = tempfile::tempdir().unwrap();
        let news = dir.path().join("content/news");
        std::fs::create_dir_all(&news).unwrap();
        let text = "+++\ntitle = \"Spring release\"\n+++\nHello *there*.\n";
        std::fs::write(news.join("a.md"), text).unwrap();
        let mut p = page(text, text.find("Hello").unwrap());
        p.body = String::new();
        p.body_unread = true;
        let folder = crate::file_meta::Folder::open(&news);
        let body = |p: &Page| {
            p.markdown_from(dir.path(), &folder, "a.md")
                .map(|b| b.into_owned())
        };
        assert_eq!(body(&p).unwrap(), "Hello *there*.\n");
        // Edited since it was parsed, front matter and all: the new body.
        std::fs::write(
            news.join("a.md"),
            "+++\ntitle = \"Spring, again\"\n+++\nBye.\n",
        )
        .unwrap();
        assert_eq!(body(&p).unwrap(), "Bye.\n");
        std::fs::remove_file(news.join("a.md")).unwrap();
        let gone = body(&p).unwrap_err().to_string();
        assert!(
            gone.contains("content/news/a.md") && gone.contains("build again"),
            "{gone}"
        );
    }

    #[test]
    fn a_page_comes_back_as_parsed_for_the_same_text_only() {
        let dir = tempfile::tempdir().unwrap();
        let text = "+++\ntitle = \"Spring release\"\n+++\nHello *there*.\n";
        let body_start = text.find("Hello").unwrap();
        let p = page(text, body_start);
        let record = Record::new(&p, text, text_key(text), body_start, Some((9, 100, 7))).unwrap();
        PageCache::write(dir.path(), &PageCache::default(), &[record]).unwrap();

        let cache = PageCache::read(dir.path());
        assert_eq!(cache.len(), 1);
        let (mut got, record) = cache.get("news/a.md", text_key(text), text, None).unwrap();
        assert_eq!(record.body_start(), body_start);
        assert_eq!(got.text_key, text_key(text));
        got.body = text[body_start..].to_string();
        assert_eq!(format!("{got:?}"), format!("{p:?}"));
        // Written back as read, it reads the same.
        PageCache::write(dir.path(), &cache, &[record]).unwrap();
        let reread = PageCache::read(dir.path());
        let (_, record) = reread.get("news/a.md", text_key(text), text, None).unwrap();
        let (mut again, _) = PageCache::read(dir.path())
            .get("news/a.md", text_key(text), text, None)
            .unwrap();
        again.body = text[body_start..].to_string();
        assert_eq!(format!("{again:?}"), format!("{p:?}"));

        // The file as it was recorded: found by its stamp alone.
        assert!(cache
            .stamped("news/a.md")
            .and_then(|s| s.get_unchanged((9, 100, 7)))
            .is_some());
        assert!(cache
            .stamped("news/a.md")
            .and_then(|s| s.get_unchanged((9, 101, 7)))
            .is_none());
        assert!(cache
            .stamped("news/a.md")
            .and_then(|s| s.get_unchanged((9, 100, 8)))
            .is_none());
        // Written back with no trusted stamp, it is found by its text only.
        PageCache::write(dir.path(), &reread, &[record]).unwrap();
        let cache = PageCache::read(dir.path());
        assert!(cache
            .stamped("news/a.md")
            .and_then(|s| s.get_unchanged((9, 100, 7)))
            .is_none());
        assert!(cache.get("news/a.md", text_key(text), text, None).is_some());

        // Another text, or the same text elsewhere, is parsed again.
        let other = text.replace("there", "here");
        assert!(cache
            .get("news/a.md", text_key(&other), &other, None)
            .is_none());
        assert!(cache.get("news/b.md", text_key(text), text, None).is_none());
    }

    fn meta(f: &Path) -> FileMeta {
        FileMeta::from_std(&std::fs::metadata(f).unwrap())
    }

    #[test]
    fn only_a_settled_file_has_a_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.md");
        std::fs::write(&f, "x").unwrap();
        // Just written: saved again within the clock's tick, it could keep
        // its mtime.
        assert_eq!(stamp_of(&meta(&f)), None);
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(&f)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let (len, _, _) = stamp_of(&meta(&f)).unwrap();
        assert_eq!(len, 1);
    }

    #[test]
    fn a_torn_cache_is_an_empty_one() {
        let dir = tempfile::tempdir().unwrap();
        let text = "+++\ntitle = \"x\"\n+++\nHi\n";
        let at = text.find("Hi").unwrap();
        PageCache::write(
            dir.path(),
            &PageCache::default(),
            &[Record::new(&page(text, at), text, text_key(text), at, None).unwrap()],
        )
        .unwrap();
        let path = PageCache::path(dir.path());
        let bytes = std::fs::read(&path).unwrap();
        for cut in [0, 5, 12, bytes.len() - 1] {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            assert!(PageCache::read(dir.path()).is_empty(), "cut at {cut}");
        }
        let mut flipped = bytes.clone();
        flipped[9] ^= 0xff;
        std::fs::write(&path, &flipped).unwrap();
        assert!(PageCache::read(dir.path())
            .get("news/a.md", text_key(text), text, None)
            .is_none());
    }
}
