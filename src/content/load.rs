//! Reading `content/` into a [`Content`].

use super::front_matter::{self, PageFrontMatter, SectionFrontMatter, Split};
use super::markdown_cache::{self, Lookup, MarkdownCache, Recorder};
use super::page_cache::{self, PageCache};
use super::{sort_pages, Content, Page, PageTerms, Section, Terms, CONTENT_DIR};
use crate::config::{toml_to_json, Config};
use crate::error::{line_of, Diagnostic, Error, Result};
use crate::file_meta::{FileMeta, Folder};
use crate::markdown::{self, RenderOptions, Rendered};
use chrono::{DateTime, FixedOffset};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// What to include.
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    /// Include pages marked `draft = true`.
    pub drafts: bool,
    /// Include pages dated after `now` (scheduled entries).
    pub future: bool,
    /// The moment that decides what is scheduled.
    pub now: DateTime<FixedOffset>,
    /// Reuse the Markdown rendered by the last load, and keep this one's
    /// for the next (see [`super::markdown_cache`]).
    pub cache: bool,
}

/// A Markdown file found under `content/`.
struct Found {
    /// Relative to the site root.
    file: PathBuf,
    /// Relative to `content/`, `/`-separated.
    rel: String,
    kind: Kind,
    /// The walk's index of its folder (see [`Walked::folders`]).
    folder: usize,
    /// Where its name starts in `rel`.
    name_at: usize,
}

/// What the walk of `content/` found.
struct Walked {
    /// Markdown files, sorted by path.
    found: Vec<Found>,
    /// Other files (path from the site root, path in `content/`).
    other: Vec<(PathBuf, String)>,
    /// Each folder walked, relative to `content/` ("" for `content/`).
    folders: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `_index.md`
    Section,
    /// `dir/index.md`
    Bundle,
    /// Any other `.md`
    Page,
}

/// Loads, checks and renders everything under `root/content`.
/// Every problem found is reported, not just the first.
pub fn load(root: &Path, config: &Config, opts: &LoadOptions) -> Result<Content> {
    load_then(root, config, opts, &Hooks::NONE)
}

/// What the caller of [`load_then`] hears as the load goes.
pub struct Hooks<'a> {
    /// Called with the URL path of each published page as soon as its
    /// front matter is read, from the reading threads, before every page
    /// is known: a path two pages share is found later, as an error.
    /// `None` spares making the paths (a rebuild has no use for them).
    pub page_found: Option<&'a (dyn Fn(&str) + Sync)>,
}

impl Hooks<'static> {
    /// Hooks that do nothing.
    pub const NONE: Hooks<'static> = Hooks { page_found: None };
}

/// [`load`], calling the `hooks` as it goes.
pub fn load_then(
    root: &Path,
    config: &Config,
    opts: &LoadOptions,
    hooks: &Hooks<'_>,
) -> Result<Content> {
    let content_dir = root.join(CONTENT_DIR);
    if !content_dir.is_dir() {
        return Err(Diagnostic::new(CONTENT_DIR, "no content folder")
            .help("create `content/` and put Markdown files in it, or run `herald init`")
            .into());
    }
    // The caches an earlier load of this process is still writing.
    crate::atomic_file::wait_for_background();
    // The walk, and the caches the last build left, read side by side.
    let read_caches = || match opts.cache {
        true => rayon::join(|| PageCache::read(root), || MarkdownCache::read(root)),
        false => Default::default(),
    };
    let (walked, (page_cache, mut cache)) = rayon::join(|| walk(&content_dir), read_caches);
    let Walked {
        found,
        other: other_files,
        folders,
    } = walked?;
    crate::trace::mark("walk and caches");
    // Each file is looked up by its name in its own folder: one path step
    // per `stat` rather than one per folder on the way.
    let folders: Vec<Folder> = folders
        .iter()
        .map(|d| Folder::open(&content_dir.join(d)))
        .collect();
    let bundle_dirs: BTreeSet<String> = found
        .iter()
        .filter(|f| f.kind == Kind::Bundle)
        .map(|f| parent_dir(&f.rel).to_string())
        .collect();

    // Pass 1: front matter, in parallel; a page whose file has not changed
    // since the last build is taken from the page cache.
    let parsed: Vec<Result<ReadFile>> = found
        .par_iter()
        .map(|f| {
            let cache = opts.cache.then(|| (&page_cache, &folders[f.folder]));
            let read = parse_file(root, f, cache);
            if let (Ok((Parsed::Page(page), _)), Some(found)) = (&read, hooks.page_found) {
                if is_published(page, opts) {
                    found(&early_path(page));
                }
            }
            read
        })
        .collect();
    let mut problems: Vec<Diagnostic> = Vec::new();
    // Sized up front: pages are big, and each doubling of ten thousand of
    // them touches megabytes of fresh memory.
    let mut pages = Vec::with_capacity(found.len());
    let mut sections: BTreeMap<String, Section> = BTreeMap::new();
    let mut records = Vec::with_capacity(if opts.cache { found.len() } else { 0 });
    // Records the cache does not hold as they are: new pages, new stamps.
    let mut news = 0;
    // Where each page's file is: its folder, and its name from there.
    let mut page_files: Vec<(usize, usize)> = Vec::with_capacity(found.len());
    for (f, p) in found.iter().zip(parsed) {
        let p = p.map(|(parsed, record)| {
            if let Some(record) = record {
                news += usize::from(record.is_news());
                records.push(record);
            }
            parsed
        });
        match p {
            Ok(Parsed::Page(page)) => {
                if is_published(&page, opts) {
                    pages.push(page);
                    page_files.push((f.folder, f.name_at));
                }
            }
            Ok(Parsed::Section(s)) => {
                sections.insert(s.dir.clone(), *s);
            }
            Err(e) => problems.extend(e.diagnostics().iter().cloned()),
        }
    }

    if opts.cache && (records.len() != page_cache.len() || worth_rewriting(news, records.len())) {
        // Losing the cache costs time, never correctness: an error is ignored.
        let root = root.to_path_buf();
        crate::atomic_file::in_background(move || {
            let _ = PageCache::write(&root, &page_cache, &records);
        });
    } else {
        // Freed off the build's path: it holds every page's encoding.
        crate::free::free_later((page_cache, records));
    }

    // Bundle assets and loose files.
    let mut assets = Vec::new();
    for (file, rel) in other_files {
        match bundle_dirs
            .iter()
            .find(|b| rel.starts_with(&format!("{b}/")))
        {
            Some(b) => {
                let inner = rel[b.len() + 1..].to_string();
                if let Some(page) = pages
                    .iter_mut()
                    .find(|p| parent_dir(&p.rel) == b && p.rel.ends_with("/index.md"))
                {
                    page.assets.push((file, inner));
                }
            }
            None => assets.push((file, format!("/{rel}"))),
        }
    }

    build_sections(&mut sections, &pages);
    for page in &mut pages {
        page.path = page_path(page, &sections[&page.section].path).into_owned();
    }
    problems.extend(check_unique_paths(&pages, &sections));

    crate::trace::mark("front matter");
    // Pass 2: Markdown, in parallel, with every permalink known.
    // Each body goes to the task that renders it, which lets it go as soon
    // as it is rendered when the build caches (see below): holding every
    // body until every page had rendered held the whole of `content/`.
    let bodies: Vec<String> = pages
        .iter_mut()
        .map(|p| std::mem::take(&mut p.body))
        .collect();
    // Made at the first `@/` link: a rebuild may render no Markdown at all.
    let targets = std::sync::OnceLock::new();
    let resolve = |target: &str| {
        targets
            .get_or_init(|| super::link_targets(&pages, &sections))
            .get(target)
            .map(|path| config.url(path))
    };
    let md_key = |text_key: u128, body_start: usize| {
        markdown_cache::input_key(
            text_key,
            body_start,
            config.markdown.smart_punctuation,
            config.markdown.heading_anchors,
        )
    };
    // Renders one file's Markdown (whose key is `input`; `body` gives it),
    // or reuses the last build's rendering of it; returns the lookups the
    // rendering made, for the next build.
    let render_one = |file: &Path,
                      body: &Body<'_>,
                      body_line: usize,
                      input: u128,
                      cached: Option<markdown_cache::Entry>|
     -> std::result::Result<MarkdownDone, Vec<Diagnostic>> {
        let size = |url: &str| super::images::image_size(root, &config.theme, file, url);
        let recorder = Recorder::new(&resolve, &size);
        if let Some((rendered, lookups)) = cached.and_then(|e| e.reuse(input, &recorder)) {
            return Ok(MarkdownDone {
                rendered,
                input,
                lookups,
                reused: true,
            });
        }
        let body = body().map_err(|d| vec![d])?;
        let body = body.as_ref();
        let resolve_noted = |target: &str| recorder.resolve(target);
        let size_noted = |url: &str| recorder.size(url);
        let rendered = markdown::render(body, &page_options(config, &resolve_noted, &size_noted));
        let lookups = recorder.into_lookups();
        rendered
            .map(|rendered| MarkdownDone {
                rendered,
                input,
                lookups,
                reused: false,
            })
            .map_err(|broken| {
            broken
                .into_iter()
                .map(|b| {
                    Diagnostic::new(file, format!("internal link `{}` points at no page", b.link))
                        .at_line(line_of(body, b.offset) + body_line - 1)
                        .help("`@/` links name a Markdown file relative to content/, e.g. `@/news/2026-03-04-launch.md`; check the spelling, and that the page is not a draft")
                })
                .collect::<Vec<_>>()
        })
    };
    let cached: Vec<Option<markdown_cache::Entry>> = pages
        .iter()
        .map(|p| cache.take(&cache_name(&p.file)))
        .collect();
    let page_results: Vec<_> = pages
        .par_iter()
        .zip(cached)
        .zip(bodies)
        .zip(&page_files)
        .map(|(((p, cached), body), &(folder, name_at))| {
            let input = md_key(p.text_key, p.body_start);
            let read = || match p.body_unread {
                true => p.markdown_from(root, &folders[folder], &p.rel[name_at..]),
                false => Ok(std::borrow::Cow::Borrowed(body.as_str())),
            };
            let done = render_one(&p.file, &read, p.body_line, input, cached);
            // Kept only by a load without cache (`herald check`
            // reads every body again for its links).
            (done, (!opts.cache).then_some(body))
        })
        .collect();
    // The sections' Markdown, while the pages' permalinks are still lent
    // to `resolve`.
    let section_results: Vec<_> = sections
        .values()
        .filter_map(|s| {
            let file = s.file.as_ref()?;
            let input = md_key(page_cache::text_key(&s.body), 0);
            let body = || Ok(std::borrow::Cow::Borrowed(s.body.as_str()));
            Some((
                s.dir.clone(),
                render_one(file, &body, s.body_line, input, None),
            ))
        })
        .collect();
    crate::trace::mark("markdown");
    // What each page's rendering depended on, for the next build's cache.
    // Each page takes its rendering, in parallel (ten thousand keys to hash).
    let outcomes: Vec<_> = pages
        .par_iter_mut()
        .zip(page_results)
        .map(|(page, (r, body))| {
            if let Some(body) = body {
                page.body = body;
            }
            r.map(|done| {
                page.rendered = done.rendered;
                page.render_key = markdown_cache::render_key(done.input, &done.lookups);
                if opts.cache {
                    // Rendered, and its body let go: the rest of a build
                    // reads the Markdown of a few pages at most (feeds).
                    page.body_unread = true;
                }
                (done.input, done.lookups, done.reused)
            })
        })
        .collect();
    let mut lookups: Vec<(u128, Vec<Lookup>)> = Vec::with_capacity(pages.len());
    // Pages rendered afresh; entries of files gone count too.
    let mut rendered = cache.len();
    for outcome in outcomes {
        match outcome {
            Ok((input, l, reused)) => {
                rendered += usize::from(!reused);
                lookups.push((input, l));
            }
            Err(d) => problems.extend(d),
        }
    }
    for (dir, done) in section_results {
        match done {
            Ok(done) => sections.get_mut(&dir).expect("a section").rendered = done.rendered,
            Err(d) => problems.extend(d),
        }
    }

    if !problems.is_empty() {
        problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        return Err(Error::Site(problems));
    }

    if opts.cache && worth_rewriting(rendered, pages.len()) {
        // Made before the pages are sorted, while `lookups` follows them.
        let next_cache: Vec<(String, markdown_cache::Entry)> = pages
            .par_iter()
            .zip(lookups)
            .map(|(p, (input, l))| {
                let entry = markdown_cache::Entry::new(input, l, &p.rendered);
                (cache_name(&p.file).into_owned(), entry)
            })
            .collect();
        // Losing the cache costs time, never correctness: an error is ignored.
        let root = root.to_path_buf();
        crate::atomic_file::in_background(move || {
            let _ = MarkdownCache::write(&root, &next_cache);
        });
    }
    // In this order already, as the walk sorts by path: checking costs a
    // pass, where even a sort of sorted pages takes a scratch copy of them.
    if !pages.is_sorted_by(|a, b| a.rel <= b.rel) {
        pages.sort_by(|a, b| a.rel.cmp(&b.rel));
    }
    let mut content = Content {
        pages,
        sections,
        assets,
        link_targets: targets,
    };
    assign_pages(&mut content);
    Ok(content)
}

/// Reads one page again, for the dev server's fast path after an edit:
/// front matter, permalink and Markdown, with `@/` links resolved against
/// the already loaded `content`. `file` is relative to the site root, like
/// [`super::Page::file`]. Bundle assets are not looked up (the caller keeps
/// the old page's). Any problem is an error without detail: the caller then
/// loads the whole site, which reports it properly.
pub fn reload_page(root: &Path, config: &Config, content: &Content, file: &Path) -> Result<Page> {
    let not_a_page = || Error::Other(format!("`{}` is not a page", file.display()));
    let rel = file
        .strip_prefix(CONTENT_DIR)
        .map_err(|_| not_a_page())?
        .to_str()
        .ok_or_else(not_a_page)?
        .replace('\\', "/");
    let name = rel.rsplit('/').next().unwrap_or(&rel);
    let kind = match name {
        "_index.md" => return Err(not_a_page()),
        "index.md" if rel != "index.md" => Kind::Bundle,
        _ if name.ends_with(".md") => Kind::Page,
        _ => return Err(not_a_page()),
    };
    let found = Found {
        file: file.to_path_buf(),
        rel,
        kind,
        folder: 0,
        name_at: 0,
    };
    let (Parsed::Page(page), _) = parse_file(root, &found, None)? else {
        return Err(not_a_page());
    };
    let mut page = *page;
    if page.path.is_empty() {
        let section = content.sections.get(&page.section).ok_or_else(not_a_page)?;
        page.path = format!("{}{}/", section.path, page.slug);
    }
    page.rendered = render_markdown(root, config, content.link_targets(), &page)
        .map_err(|_| Error::Other(format!("`{}` has a broken link", file.display())))?;
    Ok(page)
}

/// Renders a page's Markdown with `@/` links resolved against
/// `link_targets`: for a page loaded with only its summary (see
/// [`Rendered::deferred`]), or one read again. A broken link (which a load
/// reports with its line) or a file that cannot be read again is an error.
pub fn render_markdown(
    root: &Path,
    config: &Config,
    link_targets: &HashMap<String, String>,
    page: &Page,
) -> std::result::Result<Rendered, Diagnostic> {
    let resolve = |target: &str| link_targets.get(target).map(|p| config.url(p));
    let size = |url: &str| super::images::image_size(root, &config.theme, &page.file, url);
    let body = page.markdown(root)?;
    markdown::render(&body, &page_options(config, &resolve, &size)).map_err(|broken| {
        let link = broken.first().map_or("", |b| b.link.as_str());
        Diagnostic::new(
            &page.file,
            format!("internal link `{link}` points at no page"),
        )
        .help("build the whole site again: it reports every broken link with its line")
    })
}

/// How a page's (or a section's) Markdown is rendered for its own page.
fn page_options<'a>(
    config: &Config,
    resolve: &'a (dyn Fn(&str) -> Option<String> + Sync),
    size: &'a markdown::ImageSize<'a>,
) -> RenderOptions<'a> {
    RenderOptions {
        smart_punctuation: config.markdown.smart_punctuation,
        heading_anchors: config.markdown.heading_anchors,
        resolve,
        absolute_base: None,
        image_size: Some(size),
    }
}

/// Whether a cache is worth writing again after a build that found `stale`
/// of its `total` entries out of date.
///
/// An entry out of date costs each build that reads it one page read and
/// parsed (or rendered) again, a fraction of a millisecond; writing the
/// cache again costs every entry (megabytes at ten thousand pages, on every
/// edit). So a build that changed a page or two leaves the caches as they
/// are, and they are written again once one page in a hundred is out of
/// date: a build reads less than that hundredth again.
fn worth_rewriting(stale: usize, total: usize) -> bool {
    stale > 0 && stale * 100 >= total
}

/// Lists Markdown files and other files under `content/`, sorted by path.
fn walk(content_dir: &Path) -> Result<Walked> {
    let mut found = Vec::new();
    let mut other = Vec::new();
    let mut walked: Vec<String> = Vec::new();
    // Folders still to read, relative to `content/` ("" is `content/` itself).
    // Plain `read_dir`, whose entries know their type without a `stat`:
    // walkdir joined a full path for every entry, which took twice as long
    // in a folder of ten thousand posts.
    let mut folders = vec![String::new()];
    while let Some(folder) = folders.pop() {
        let dir = content_dir.join(&folder);
        let index = walked.len();
        walked.push(folder.clone());
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::io("read", &dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("read", &dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                return Err(
                    Diagnostic::new(entry.path(), "file name is not valid UTF-8")
                        .help("rename the file using letters, digits, dashes and dots")
                        .into(),
                );
            };
            if is_ignored(name) {
                continue;
            }
            let kind = entry
                .file_type()
                .map_err(|e| Error::io("read", &entry.path(), e))?;
            // Joined by hand: `format!` was a quarter of the walk.
            let rel = match folder.is_empty() {
                true => name.to_string(),
                false => [folder.as_str(), "/", name].concat(),
            };
            if kind.is_dir() {
                folders.push(rel);
                continue;
            }
            // Symbolic links are not followed, as walkdir did not.
            if !kind.is_file() {
                continue;
            }
            let file = PathBuf::from([CONTENT_DIR, "/", &rel].concat());
            if name.ends_with(".md") {
                let kind = match name {
                    "_index.md" => Kind::Section,
                    "index.md" if rel != "index.md" => Kind::Bundle,
                    _ => Kind::Page,
                };
                let name_at = rel.len() - name.len();
                found.push(Found {
                    file,
                    rel,
                    kind,
                    folder: index,
                    name_at,
                });
            } else {
                other.push((file, rel));
            }
        }
    }
    // Sorted here: Markdown files by path as a string (pages are listed in
    // that order; comparing `Path`s parses both for each comparison), other
    // files as a walk in name order lists them, folder by folder, since a
    // page bundle lists its files in that order.
    found.sort_unstable_by(|a, b| a.rel.cmp(&b.rel));
    other.sort_unstable_by(|a, b| a.1.split('/').cmp(b.1.split('/')));
    Ok(Walked {
        found,
        other,
        folders: walked,
    })
}

/// Hidden files and editors' temporary files.
fn is_ignored(name: &str) -> bool {
    name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp") || name.starts_with("#")
}

/// Gives a Markdown body: a page's is read again when it was left unread.
type Body<'a> = dyn Fn() -> std::result::Result<std::borrow::Cow<'a, str>, Diagnostic> + Sync + 'a;

/// What a file parsed to, and its page-cache record.
type ReadFile = (Parsed, Option<page_cache::Record>);

enum Parsed {
    Page(Box<Page>),
    Section(Box<Section>),
}

/// Reads and parses one file. With a `cache` (and the file's folder, to
/// look at its metadata), a page is taken from it when it holds this file
/// unchanged (then the file is not even read: the page's body is left
/// unread) or this file's text; and the page comes with its record for the
/// next cache (and whether it was parsed afresh).
fn parse_file(root: &Path, f: &Found, cache: Option<(&PageCache, &Folder)>) -> Result<ReadFile> {
    let (cache, folder) = cache.filter(|_| f.kind != Kind::Section).unzip();
    if let (Some(entry), Some(folder)) = (cache.and_then(|c| c.stamped(&f.rel)), folder) {
        let meta = folder
            .meta(&f.rel[f.name_at..], true)
            .map_err(|e| Error::io("read", &f.file, e))?;
        let stamp = page_cache::stamp_of(&meta);
        if let Some((mut page, record)) = stamp.and_then(|s| entry.get_unchanged(s)) {
            page.body_unread = true;
            return Ok((Parsed::Page(Box::new(page)), Some(record)));
        }
    }
    // The stamp for the next cache comes from the open file: no second
    // lookup of the path.
    let path = root.join(&f.file);
    let (bytes, stamp) =
        read_with_stamp(&path, cache.is_some()).map_err(|e| Error::io("read", &f.file, e))?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let line = line_of(&String::from_utf8_lossy(&e.as_bytes()[..valid]), valid);
            return Err(Diagnostic::new(&f.file, "this file is not UTF-8 text")
                .at_line(line)
                .help("save it as UTF-8 in your editor, or move binary files out of content/ unless they sit beside a page's index.md")
                .into());
        }
    };
    let text_key = page_cache::text_key(&text);
    // (`cache` is `None` for a section.)
    if let Some((page, record)) = cache.and_then(|c| c.get(&f.rel, text_key, &text, stamp)) {
        let page = without_body(page, text_key, record.body_start());
        return Ok((Parsed::Page(Box::new(page)), Some(record)));
    }
    let split = front_matter::split(&f.file, &text)?;
    match f.kind {
        Kind::Section => parse_section(f, &split).map(|s| (Parsed::Section(Box::new(s)), None)),
        Kind::Page | Kind::Bundle => {
            let page = parse_page(f, &split)?;
            let body_start = text.len() - split.body.len();
            let record = cache
                .and_then(|_| page_cache::Record::new(&page, &text, text_key, body_start, stamp));
            // A build that caches lets the body go now and reads it again
            // to render it: holding every body from here to the Markdown
            // pass held all of `content/` in fresh memory (900 MB at
            // 100,000 pages), while each second read reuses the memory the
            // last one freed.
            let page = match cache {
                Some(_) => without_body(page, text_key, body_start),
                None => with_body(page, text, text_key, body_start),
            };
            Ok((Parsed::Page(Box::new(page)), record))
        }
    }
}

/// The bytes of the file at `path`, and its trusted stamp (when `stamp`
/// is asked for and the file has one: see [`page_cache::stamp_of`]).
fn read_with_stamp(
    path: &Path,
    stamp: bool,
) -> std::io::Result<(Vec<u8>, Option<page_cache::FileStamp>)> {
    let mut file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    let bytes = crate::file_meta::read_all(&mut file, usize::try_from(meta.len()).unwrap_or(0))?;
    let stamp = if stamp {
        page_cache::stamp_of(&FileMeta::from_std(&meta))
    } else {
        None
    };
    Ok((bytes, stamp))
}

/// `page` without its body, left to be read again (see [`Page::markdown`])
/// from the file whose text has the key `text_key`.
fn without_body(mut page: Page, text_key: u128, body_start: usize) -> Page {
    page.text_key = text_key;
    page.body_start = body_start;
    page.body_unread = true;
    page
}

/// `page` with its body: the file's `text` (whose key is `text_key`) from
/// `body_start` on, moved rather than copied (ten thousand bodies are worth
/// not copying).
fn with_body(mut page: Page, mut text: String, text_key: u128, body_start: usize) -> Page {
    text.drain(..body_start);
    page.body = text;
    page.text_key = text_key;
    page.body_start = body_start;
    page
}

fn parse_section(f: &Found, split: &Split<'_>) -> Result<Section> {
    let fm: SectionFrontMatter = front_matter::parse(&f.file, split)?;
    let dir = parent_dir(&f.rel).to_string();
    let SectionFrontMatter {
        title,
        description,
        sort_by,
        paginate_by,
        limit,
        weight,
        template,
        page_template,
        extra,
    } = fm;
    Ok(Section {
        file: Some(f.file.clone()),
        title: title.unwrap_or_else(|| title_from_dir(&dir)),
        path: section_path(&dir),
        dir,
        description,
        sort_by,
        paginate_by,
        limit,
        weight,
        template,
        page_template,
        extra: toml_to_json(&toml::Value::Table(extra)),
        body: split.body.to_string(),
        body_line: split.body_line,
        rendered: Default::default(),
        pages: Vec::new(),
        subsections: Vec::new(),
        parent: None,
    })
}

fn parse_page(f: &Found, split: &Split<'_>) -> Result<Page> {
    let fm: PageFrontMatter = front_matter::parse(&f.file, split)?;
    let mut problems = Vec::new();
    let fm_line = |offset: usize| line_of(split.front_matter, offset) + split.front_matter_line - 1;

    // The name that gives slug and date: the file stem, or the bundle folder.
    let (section, name) = match f.kind {
        Kind::Bundle => {
            let dir = parent_dir(&f.rel);
            (
                parent_dir(dir).to_string(),
                dir.rsplit('/').next().unwrap_or(dir).to_string(),
            )
        }
        _ => {
            let stem = f
                .rel
                .rsplit('/')
                .next()
                .unwrap_or(&f.rel)
                .trim_end_matches(".md");
            (parent_dir(&f.rel).to_string(), stem.to_string())
        }
    };
    let (name_date, name_rest) = match front_matter::date_prefix(&name) {
        Some((d, rest)) => (Some(d), rest.to_string()),
        None => (None, name.clone()),
    };

    let PageFrontMatter {
        title,
        description,
        date,
        updated,
        draft,
        slug: slug_fm,
        path: path_fm,
        aliases,
        authors,
        weight,
        template,
        taxonomies,
        extra,
        syndicate,
        comments,
    } = fm;

    let mut parse_date = |key: &str, v: &Option<toml::Spanned<toml::Value>>| {
        v.as_ref()
            .and_then(|v| match front_matter::parse_date(&f.file, split, key, v) {
                Ok(d) => Some(d),
                Err(d) => {
                    problems.push(d);
                    None
                }
            })
    };
    let date = parse_date("date", &date).or(name_date);
    let updated = parse_date("updated", &updated);

    let title = match title {
        Some(t) if !t.trim().is_empty() => t,
        _ => {
            problems.push(
                Diagnostic::new(&f.file, "the page has no `title`")
                    .at_line(split.front_matter_line.saturating_sub(1).max(1))
                    .help("add a line such as title = \"Our spring release\" to the front matter"),
            );
            String::new()
        }
    };

    let slug = match &slug_fm {
        Some(s) => {
            let slugged = slug::slugify(s.get_ref());
            if slugged.is_empty() {
                problems.push(
                    Diagnostic::new(
                        &f.file,
                        format!("`slug` \"{}\" has no letters or digits", s.get_ref()),
                    )
                    .at_line(fm_line(s.span().start))
                    .help("use letters, digits and dashes, e.g. slug = \"spring-release\""),
                );
            }
            slugged
        }
        None => slug::slugify(&name_rest),
    };
    if slug.is_empty() && slug_fm.is_none() {
        problems.push(
            Diagnostic::new(&f.file, "cannot make a URL from this file name")
                .help("rename the file using letters and digits (e.g. 2026-03-04-launch.md), or set slug = \"…\""),
        );
    }

    let path = match &path_fm {
        Some(p) => match normalize_path(p.get_ref()) {
            Some(p) if p != "/" => p,
            _ => {
                problems.push(
                    Diagnostic::new(&f.file, format!("`path` \"{}\" is not a usable URL path", p.get_ref()))
                        .at_line(fm_line(p.span().start))
                        .help("write a path like path = \"company/press\" (no `..`, no spaces, not the site root)"),
                );
                String::new()
            }
        },
        None => String::new(),
    };

    let mut alias_paths = Vec::new();
    for a in &aliases {
        let line = fm_line(a.span().start);
        match normalize_path(a.get_ref()) {
            Some(p) if p != "/" => alias_paths.push((p, line)),
            _ => problems.push(
                Diagnostic::new(
                    &f.file,
                    format!("alias \"{}\" is not a usable URL path", a.get_ref()),
                )
                .at_line(line)
                .help("write the old address's path, e.g. aliases = [\"/blog/old-name/\"]"),
            ),
        }
    }

    if !problems.is_empty() {
        return Err(Error::Site(problems));
    }
    Ok(Page {
        file: f.file.clone(),
        rel: f.rel.clone(),
        section,
        title,
        description,
        date,
        updated,
        draft,
        slug,
        path,
        aliases: alias_paths,
        authors,
        weight,
        template,
        taxonomies: PageTerms::new(taxonomies.into_iter().map(|(taxonomy, terms)| {
            let line = crate::config::find_key_line(split.front_matter, &taxonomy)
                .map(|l| l + split.front_matter_line - 1);
            Terms {
                taxonomy,
                terms,
                line,
            }
        })),
        extra: toml_to_json(&toml::Value::Table(extra)),
        syndicate,
        comments: comments.unwrap_or(true),
        // Filled in by `with_body`, without a copy.
        body: String::new(),
        body_line: split.body_line,
        assets: Vec::new(),
        rendered: Default::default(),
        render_key: 0,
        text_key: 0,
        body_start: 0,
        body_unread: false,
    })
}

fn is_published(page: &Page, opts: &LoadOptions) -> bool {
    (!page.draft || opts.drafts) && (opts.future || page.date.is_none_or(|d| d <= opts.now))
}

/// `a/b/c.md` → `a/b`; `c.md` → ``.
fn parent_dir(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

/// The URL path `page` will have, known from its front matter alone: a
/// section's path comes from its folder alone (see `section_path`).
fn early_path(page: &Page) -> std::borrow::Cow<'_, str> {
    let section = match page.path.is_empty() {
        true => section_path(&page.section),
        false => String::new(),
    };
    page_path(page, &section)
}

/// A page's URL path: the one its front matter gives, or its section's
/// path and its slug.
fn page_path<'a>(page: &'a Page, section_path: &str) -> std::borrow::Cow<'a, str> {
    match page.path.as_str() {
        "" => format!("{section_path}{}/", page.slug).into(),
        path => path.into(),
    }
}

fn section_path(dir: &str) -> String {
    if dir.is_empty() {
        "/".into()
    } else {
        let segments: Vec<String> = dir.split('/').map(url_segment).collect();
        format!("/{}/", segments.join("/"))
    }
}

/// A folder name as a URL segment: a date prefix is kept, case is lowered.
fn url_segment(s: &str) -> String {
    let slugged = slug::slugify(s);
    if slugged.is_empty() {
        s.to_string()
    } else {
        slugged
    }
}

fn title_from_dir(dir: &str) -> String {
    let name = dir.rsplit('/').next().unwrap_or(dir);
    if name.is_empty() {
        return String::new();
    }
    let words = name.replace(['-', '_'], " ");
    let mut c = words.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// `"/a/b"`, `"a/b/"` → `"/a/b/"`; `None` for paths with `..` or odd characters.
pub fn normalize_path(p: &str) -> Option<String> {
    let parts: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
    let ok = parts.iter().all(|s| {
        *s != "." && *s != ".." && s.chars().all(|c| c.is_alphanumeric() || "-_.~".contains(c))
    });
    if !ok {
        return None;
    }
    if parts.is_empty() {
        return Some("/".into());
    }
    // A path to a file (`/feed.xml`) keeps no trailing slash.
    let last = parts[parts.len() - 1];
    let is_file = last.contains('.') && p.ends_with(last);
    Some(format!(
        "/{}{}",
        parts.join("/"),
        if is_file { "" } else { "/" }
    ))
}

/// Makes sure every folder holding pages has a section, and links parents.
fn build_sections(sections: &mut BTreeMap<String, Section>, pages: &[Box<Page>]) {
    // Each page's section, without a string per page: ten thousand pages
    // are in a handful of sections.
    let mut needed: BTreeSet<String> = BTreeSet::new();
    for p in pages {
        if !needed.contains(&p.section) {
            needed.insert(p.section.clone());
        }
    }
    needed.extend(sections.keys().cloned());
    needed.insert(String::new());
    // Every ancestor of a section is a section too.
    for dir in needed.clone() {
        let mut d = dir.as_str();
        while !d.is_empty() {
            d = parent_dir(d);
            needed.insert(d.to_string());
        }
    }
    for dir in needed {
        sections.entry(dir.clone()).or_insert_with(|| Section {
            file: None,
            title: title_from_dir(&dir),
            path: section_path(&dir),
            dir: dir.clone(),
            description: None,
            sort_by: Default::default(),
            paginate_by: None,
            limit: None,
            weight: 0,
            template: None,
            page_template: None,
            extra: serde_json::Value::Object(Default::default()),
            body: String::new(),
            body_line: 1,
            rendered: Default::default(),
            pages: Vec::new(),
            subsections: Vec::new(),
            parent: None,
        });
    }
    let dirs: Vec<String> = sections.keys().cloned().collect();
    for dir in &dirs {
        if dir.is_empty() {
            continue;
        }
        let parent = parent_dir(dir).to_string();
        sections.get_mut(dir).expect("listed").parent = Some(parent.clone());
        sections
            .get_mut(&parent)
            .expect("ancestors exist")
            .subsections
            .push(dir.clone());
    }
    let order: HashMap<String, (i64, String)> = sections
        .iter()
        .map(|(d, s)| (d.clone(), (s.weight, s.title.to_lowercase())))
        .collect();
    for s in sections.values_mut() {
        s.subsections
            .sort_by(|a, b| order[a].cmp(&order[b]).then(a.cmp(b)));
    }
}

/// Two pages at one address, or an alias over a page, are errors.
fn check_unique_paths(
    pages: &[Box<Page>],
    sections: &BTreeMap<String, Section>,
) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let mut owners: BTreeMap<&str, &Path> = BTreeMap::new();
    for s in sections.values() {
        if let Some(f) = &s.file {
            owners.insert(&s.path, f);
        }
    }
    let mut sorted: Vec<&Page> = pages.iter().map(|p| &**p).collect();
    sorted.sort_by(|a, b| a.rel.cmp(&b.rel));
    for p in &sorted {
        if let Some(other) = owners.insert(&p.path, &p.file) {
            problems.push(
                Diagnostic::new(
                    &p.file,
                    format!(
                        "two pages have the address {}: this one and `{}`",
                        p.path,
                        other.display()
                    ),
                )
                .help("give one of them another `slug` or `path` in its front matter"),
            );
        }
    }
    for p in &sorted {
        for (alias, line) in &p.aliases {
            if let Some(other) = owners.get(alias.as_str()) {
                problems.push(
                    Diagnostic::new(
                        &p.file,
                        format!("alias {alias} is the address of `{}`", other.display()),
                    )
                    .at_line(*line)
                    .help("remove the alias, or move the other page"),
                );
            }
        }
    }
    let mut alias_owner: BTreeMap<&str, &Path> = BTreeMap::new();
    for p in &sorted {
        for (alias, line) in &p.aliases {
            if let Some(other) = alias_owner.insert(alias, &p.file) {
                if other != p.file {
                    problems.push(
                        Diagnostic::new(&p.file, format!("alias {alias} is also an alias of `{}`", other.display()))
                            .at_line(*line)
                            .help("an old address can redirect to one page only: remove one of the aliases"),
                    );
                }
            }
        }
    }
    problems
}

/// Fills each section's page list, in the section's order.
fn assign_pages(content: &mut Content) {
    let mut by_section: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, p) in content.pages.iter().enumerate() {
        by_section.entry(p.section.clone()).or_default().push(i);
    }
    for (dir, mut idx) in by_section {
        let section = content
            .sections
            .get_mut(&dir)
            .expect("built for every page");
        sort_pages(&content.pages, &mut idx, section.sort_by);
        section.pages = idx;
    }
}

/// The name of a file in the Markdown cache: its path from the site root.
fn cache_name(file: &Path) -> std::borrow::Cow<'_, str> {
    match file.to_string_lossy() {
        name if name.contains('\\') => name.replace('\\', "/").into(),
        name => name,
    }
}

/// One file's Markdown, rendered or reused.
struct MarkdownDone {
    rendered: Rendered,
    /// The key of its text and options.
    input: u128,
    /// What the rendering looked up.
    lookups: Vec<Lookup>,
    /// True when it came from the cache.
    reused: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalise_and_refuse_escapes() {
        assert_eq!(normalize_path("a/b").as_deref(), Some("/a/b/"));
        assert_eq!(normalize_path("/a/b/").as_deref(), Some("/a/b/"));
        assert_eq!(
            normalize_path("/old/feed.xml").as_deref(),
            Some("/old/feed.xml")
        );
        assert_eq!(normalize_path("/a/../b"), None);
        assert_eq!(normalize_path("/a b/"), None);
    }

    /// A minimal site's configuration, and the options of a build that caches.
    fn cached_load() -> (Config, LoadOptions) {
        let config = Config::parse("title = \"T\"\nbase_url = \"https://example.com\"\n").unwrap();
        let opts = LoadOptions {
            drafts: false,
            future: false,
            now: chrono::Utc::now().fixed_offset(),
            cache: true,
        };
        (config, opts)
    }

    #[test]
    fn a_page_cached_while_too_young_for_a_stamp_gets_one_later() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("content/news")).unwrap();
        let file = root.join("content/news/a.md");
        std::fs::write(&file, "+++\ntitle = \"A\"\n+++\nHi.\n").unwrap();
        let (config, opts) = cached_load();
        let stamped = || PageCache::read(root).stamped("news/a.md").is_some();
        load(root, &config, &opts).unwrap();
        crate::atomic_file::wait_for_background();
        assert!(!stamped(), "a file just written has no trusted stamp");
        // Nothing changes but the file's age, as after a `git pull`.
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        let f = std::fs::File::options().write(true).open(&file).unwrap();
        f.set_modified(old).unwrap();
        load(root, &config, &opts).unwrap();
        crate::atomic_file::wait_for_background();
        assert!(stamped(), "the next build would read the file again");
    }

    #[test]
    fn caches_are_written_again_only_once_a_hundredth_is_out_of_date() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("content/news")).unwrap();
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        // Written a minute ago, as after a `git pull`: stamps are trusted.
        let write = |n: usize, title: &str| {
            let file = root.join(format!("content/news/p{n:03}.md"));
            std::fs::write(&file, format!("+++\ntitle = \"{title}\"\n+++\nHi.\n")).unwrap();
            let f = std::fs::File::options().write(true).open(&file).unwrap();
            f.set_modified(old + std::time::Duration::from_secs(n as u64))
                .unwrap();
        };
        for n in 0..200 {
            write(n, &format!("Page {n}"));
        }
        let (config, opts) = cached_load();
        let cache_files = || {
            let dir = root.join(markdown_cache::CACHE_DIR);
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| {
                    let e = e.unwrap();
                    // By a hash of their bytes: a failure prints two numbers.
                    let bytes = std::fs::read(e.path()).unwrap();
                    (e.file_name(), xxhash_rust::xxh3::xxh3_64(&bytes))
                })
                .collect();
            files.sort();
            files
        };
        let title_of = |content: &Content, n: usize| {
            let rel = format!("news/p{n:03}.md");
            content
                .pages
                .iter()
                .find(|p| p.rel == rel)
                .unwrap()
                .title
                .clone()
        };
        load(root, &config, &opts).unwrap();
        crate::atomic_file::wait_for_background();
        let first = cache_files();
        assert_eq!(first.len(), 2, "the page and Markdown caches");

        // One page of 200 changed: the caches stay as they were, and every
        // load still sees the change.
        write(7, "Seven, edited");
        for _ in 0..2 {
            let content = load(root, &config, &opts).unwrap();
            crate::atomic_file::wait_for_background();
            assert_eq!(title_of(&content, 7), "Seven, edited");
            assert_eq!(cache_files(), first, "caches written for one page in 200");
        }

        // A second: two in 200 is a hundredth, and both caches are written.
        write(9, "Nine, edited");
        let content = load(root, &config, &opts).unwrap();
        crate::atomic_file::wait_for_background();
        assert_eq!(title_of(&content, 9), "Nine, edited");
        let second = cache_files();
        assert_ne!(second[0].1, first[0].1);
        assert_ne!(second[1].1, first[1].1);
        let cache = PageCache::read(root);
        for rel in ["news/p007.md", "news/p009.md"] {
            let meta =
                FileMeta::from_std(&std::fs::metadata(root.join("content").join(rel)).unwrap());
            let now = page_cache::stamp_of(&meta).unwrap();
            let entry = cache.stamped(rel).and_then(|e| e.get_unchanged(now));
            assert!(entry.is_some(), "{rel} recorded as it is now");
        }
        // Nothing out of date now: nothing written.
        let content = load(root, &config, &opts).unwrap();
        crate::atomic_file::wait_for_background();
        assert_eq!(title_of(&content, 7), "Seven, edited");
        assert_eq!(cache_files(), second);
    }

    #[test]
    fn folder_titles_read_well() {
        assert_eq!(title_from_dir("news/product-updates"), "Product updates");
        assert_eq!(section_path("news/Mobile"), "/news/mobile/");
    }
}
