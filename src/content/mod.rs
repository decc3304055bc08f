//! The content model: pages and sections loaded from `content/`.
//!
//! Loading happens in two passes so that pages can link to each other:
//! first every file's front matter is read (in parallel) and every permalink
//! is known; then every body is rendered (in parallel) with `@/` links
//! resolved against those permalinks.

pub mod front_matter;
pub(crate) mod images;
mod load;
pub mod markdown_cache;
pub mod page_cache;
mod paths;
mod read;
mod sections;
mod terms;
mod walk;

pub use front_matter::{SortBy, SyndicateMatter};
pub use load::{load, load_then, reload_page, render_markdown, Hooks, LoadOptions};
pub use terms::{PageTerms, Terms};

use crate::error::Diagnostic;
use crate::markdown::Rendered;
use chrono::{DateTime, FixedOffset};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The folder under the site root that holds the Markdown.
pub const CONTENT_DIR: &str = "content";

/// One entry (or standalone page such as "About").
///
/// It serializes as parsed from its file, for the page cache (see
/// [`page_cache`]): without its body or anything added after parsing.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Page {
    /// The Markdown file, relative to the site root (`content/news/a.md`).
    pub file: PathBuf,
    /// The file relative to `content/`, with `/` separators: what `@/` links name.
    pub rel: String,
    /// The section's folder relative to `content/` (`""` for the root).
    pub section: String,
    pub title: String,
    pub description: Option<String>,
    #[serde(with = "date_parts")]
    pub date: Option<DateTime<FixedOffset>>,
    #[serde(with = "date_parts")]
    pub updated: Option<DateTime<FixedOffset>>,
    pub draft: bool,
    pub slug: String,
    /// URL path, starting and ending with `/`.
    pub path: String,
    /// Normalised alias paths, with the front-matter line each was written on.
    pub aliases: Vec<(String, usize)>,
    pub authors: Vec<String>,
    pub weight: Option<i64>,
    pub template: Option<String>,
    /// Terms as written, by taxonomy, with the line each taxonomy is on.
    pub taxonomies: PageTerms,
    #[serde(with = "json_text")]
    pub extra: serde_json::Value,
    pub syndicate: SyndicateMatter,
    /// False when the front matter says `comments = false`.
    pub comments: bool,
    /// The Markdown body and the line of the file it starts on.
    #[serde(skip)]
    pub body: String,
    pub body_line: usize,
    /// Files of a page bundle: source (relative to the site root) and the
    /// path relative to the bundle folder.
    #[serde(skip)]
    pub assets: Vec<(PathBuf, String)>,
    #[serde(skip)]
    pub rendered: Rendered,
    /// The key of the rendering (see [`markdown_cache::render_key`]): two
    /// builds with the same key render the same HTML for this page.
    #[serde(skip)]
    pub render_key: u128,
    /// A hash of the whole file (see [`page_cache::text_key`]): with `rel`,
    /// it decides everything parsed from the file. 0 for a page that was
    /// not read from a file.
    #[serde(skip)]
    pub text_key: u128,
    /// Where the body starts in the file's text.
    #[serde(skip)]
    pub body_start: usize,
    /// True when `body` was left unread: the page came from the page cache
    /// and its Markdown did not need rendering (see [`Page::markdown`]).
    #[serde(skip)]
    pub body_unread: bool,
}

/// A JSON value kept as its text: the page cache's encoding cannot hold a
/// self-describing value.
mod json_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &serde_json::Value, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<serde_json::Value, D::Error> {
        let text = String::deserialize(d)?;
        serde_json::from_str(&text).map_err(serde::de::Error::custom)
    }
}

/// A date kept as seconds, nanoseconds and offset: the page cache decodes
/// ten thousand of them per rebuild, and parsing RFC 3339 text showed up.
mod date_parts {
    use chrono::{DateTime, FixedOffset};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    type Parts = Option<(i64, u32, i32)>;

    pub fn serialize<S: Serializer>(
        v: &Option<DateTime<FixedOffset>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let parts: Parts = v.map(|d| {
            let offset = d.offset().local_minus_utc();
            (d.timestamp(), d.timestamp_subsec_nanos(), offset)
        });
        parts.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<DateTime<FixedOffset>>, D::Error> {
        let Some((secs, nanos, offset)) = Parts::deserialize(d)? else {
            return Ok(None);
        };
        let offset = FixedOffset::east_opt(offset);
        let utc = DateTime::from_timestamp(secs, nanos);
        match (offset, utc) {
            (Some(o), Some(utc)) => Ok(Some(utc.with_timezone(&o))),
            _ => Err(serde::de::Error::custom("a date out of range")),
        }
    }
}

impl Page {
    /// The page's Markdown body, read again from its file (in the site at
    /// `root`) when the load left it unread. A file edited since the load
    /// gives its new body, as a file edited during any build would.
    pub fn markdown(&self, root: &Path) -> Result<Cow<'_, str>, Diagnostic> {
        if !self.body_unread {
            return Ok(Cow::Borrowed(&self.body));
        }
        let unreadable = |why: String| {
            Diagnostic::new(&self.file, format!("cannot read the file again: {why}"))
                .help("the file changed while the site was being built: build again")
        };
        let text = std::fs::read_to_string(root.join(&self.file))
            .map_err(|e| unreadable(e.to_string()))?;
        self.body_of(text)
    }

    /// [`Page::markdown`], reading the file as `name` in `folder` (which
    /// holds it): a shorter path to look up, for a build that reads
    /// thousands of bodies again.
    pub fn markdown_from(
        &self,
        root: &Path,
        folder: &crate::file_meta::Folder,
        name: &str,
    ) -> Result<Cow<'_, str>, Diagnostic> {
        if !self.body_unread {
            return Ok(Cow::Borrowed(&self.body));
        }
        match folder.read(name).map(String::from_utf8) {
            Ok(Ok(text)) => self.body_of(text),
            // Told properly by the slower way.
            _ => self.markdown(root),
        }
    }

    /// The body in `text`, the file's text as read again.
    fn body_of(&self, mut text: String) -> Result<Cow<'_, str>, Diagnostic> {
        if page_cache::text_key(&text) == self.text_key && text.is_char_boundary(self.body_start) {
            text.drain(..self.body_start);
            return Ok(Cow::Owned(text));
        }
        let split = front_matter::split(&self.file, &text)?;
        Ok(Cow::Owned(split.body.to_string()))
    }

    /// Reading time in whole minutes, at least one.
    pub fn reading_time(&self, words_per_minute: usize) -> usize {
        self.rendered
            .word_count
            .div_ceil(words_per_minute.max(1))
            .max(1)
    }
}

/// A folder of pages, described by its optional `_index.md`.
#[derive(Debug, Clone)]
pub struct Section {
    /// `_index.md` relative to the site root, when there is one.
    pub file: Option<PathBuf>,
    /// The folder relative to `content/` (`""` for the root).
    pub dir: String,
    /// URL path, starting and ending with `/`.
    pub path: String,
    pub title: String,
    pub description: Option<String>,
    pub sort_by: SortBy,
    pub paginate_by: Option<usize>,
    /// Lists only this many of its pages, the first in its order (the
    /// home page's newest ten, say); `None` or 0: all of them.
    pub limit: Option<usize>,
    pub weight: i64,
    pub template: Option<String>,
    pub page_template: Option<String>,
    pub extra: serde_json::Value,
    pub body: String,
    pub body_line: usize,
    pub rendered: Rendered,
    /// Indexes into [`Content::pages`], in the section's order.
    pub pages: Vec<usize>,
    /// Folders of direct subsections, ordered by weight then title.
    pub subsections: Vec<String>,
    /// Folder of the parent section (`None` for the root).
    pub parent: Option<String>,
}

impl Section {
    /// The pages it lists, of `listing` (all its pages, in its order):
    /// the first [`Section::limit`] of them.
    pub fn listed<'a>(&self, listing: &'a [usize]) -> &'a [usize] {
        match self.limit {
            Some(n) if n > 0 => &listing[..n.min(listing.len())],
            _ => listing,
        }
    }
}

/// Everything loaded from `content/`.
#[derive(Debug, Clone, Default)]
pub struct Content {
    /// Published pages, ordered by file path. Boxed: a page is large, and a
    /// rebuild that takes ten thousand from the page cache would otherwise
    /// copy each once more into fresh memory.
    pub pages: Vec<Box<Page>>,
    /// Sections by folder; the root section has the key `""`.
    pub sections: BTreeMap<String, Section>,
    /// Other files under `content/` outside bundles: source and output path.
    pub assets: Vec<(PathBuf, String)>,
    /// See [`Content::link_targets`]: made when first asked for.
    link_targets: std::sync::OnceLock<std::collections::HashMap<String, String>>,
}

impl Content {
    /// What `@/` links may name: file relative to `content/` → URL path.
    /// Made when first needed: a rebuild that renders no Markdown never
    /// needs it.
    pub fn link_targets(&self) -> &std::collections::HashMap<String, String> {
        self.link_targets
            .get_or_init(|| link_targets(&self.pages, &self.sections))
    }

    /// The section holding `page`.
    pub fn section_of(&self, page: &Page) -> &Section {
        &self.sections[&page.section]
    }

    /// Indexes of all pages with a date, newest first (ties by path).
    pub fn dated_pages_newest_first(&self) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.pages.len())
            .filter(|&i| self.pages[i].date.is_some())
            .collect();
        sort_pages(&self.pages, &mut idx, SortBy::Date);
        idx
    }
}

/// What `@/` links may name among `pages` and `sections` (see
/// [`Content::link_targets`]).
fn link_targets(
    pages: &[Box<Page>],
    sections: &BTreeMap<String, Section>,
) -> std::collections::HashMap<String, String> {
    pages
        .iter()
        .map(|p| (p.rel.clone(), p.path.clone()))
        .chain(sections.values().filter_map(|s| {
            let rel = if s.dir.is_empty() {
                "_index.md".to_string()
            } else {
                format!("{}/_index.md", s.dir)
            };
            s.file.as_ref().map(|_| (rel, s.path.clone()))
        }))
        .collect()
}

/// Sorts page indexes the way a section asks; ties break by path, so the
/// order never depends on the file system.
pub fn sort_pages(pages: &[Box<Page>], idx: &mut [usize], by: SortBy) {
    idx.sort_by(page_order(pages, by));
}

/// The order [`sort_pages`] sorts in, as a comparison of page indexes: a
/// total order (paths are unique), so a partial sort agrees with a full one.
pub fn page_order(
    pages: &[Box<Page>],
    by: SortBy,
) -> impl Fn(&usize, &usize) -> std::cmp::Ordering + '_ {
    use std::cmp::Ordering;
    let by_path = |a: &Page, b: &Page| a.path.cmp(&b.path);
    move |&a, &b| {
        let (a, b) = (&pages[a], &pages[b]);
        let primary = match by {
            SortBy::Date => match (a.date, b.date) {
                (Some(x), Some(y)) => y.cmp(&x),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => a.title.to_lowercase().cmp(&b.title.to_lowercase()),
            },
            SortBy::Title => a.title.to_lowercase().cmp(&b.title.to_lowercase()),
            SortBy::Weight => match (a.weight, b.weight) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            },
            SortBy::None => a.rel.cmp(&b.rel),
        };
        primary.then_with(|| by_path(a, b))
    }
}
