//! Reading `content/` into a [`Content`]: the files found (`walk`), each
//! one's front matter (`read`, or its page-cache record), the sections and
//! paths they make (`sections`, `paths`), then every page's Markdown.

use super::markdown_cache::{self, Lookup, MarkdownCache, Recorder};
use super::page_cache::{self, PageCache};
use super::paths::{early_path, page_path, parent_dir};
use super::read::{parse_file, Body, Parsed, ReadFile};
use super::sections::{assign_pages, build_sections, check_unique_paths};
use super::walk::{walk, Found, Kind, Walked};
use super::{Content, Page, Section, CONTENT_DIR};
use crate::config::Config;
use crate::error::{line_of, Diagnostic, Error, Result};
use crate::file_meta::Folder;
use crate::markdown::{self, RenderOptions, Rendered};
use chrono::{DateTime, FixedOffset};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

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

fn is_published(page: &Page, opts: &LoadOptions) -> bool {
    (!page.draft || opts.drafts) && (opts.future || page.date.is_none_or(|d| d <= opts.now))
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
    use crate::file_meta::FileMeta;

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
}
