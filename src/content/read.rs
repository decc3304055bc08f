//! Reading one Markdown file: its front matter, or its page cache record.

use super::front_matter::{self, PageFrontMatter, SectionFrontMatter, Split};
use super::page_cache::{self, PageCache};
use super::paths::{normalize_path, parent_dir, section_path, title_from_dir};
use super::walk::{Found, Kind};
use super::{Page, PageTerms, Section, Terms};
use crate::config::toml_to_json;
use crate::error::{line_of, Diagnostic, Error, Result};
use crate::file_meta::{FileMeta, Folder};
use std::path::Path;

/// Gives a Markdown body: a page's is read again when it was left unread.
pub(super) type Body<'a> =
    dyn Fn() -> std::result::Result<std::borrow::Cow<'a, str>, Diagnostic> + Sync + 'a;

/// What a file parsed to, and its page-cache record.
pub(super) type ReadFile = (Parsed, Option<page_cache::Record>);

pub(super) enum Parsed {
    Page(Box<Page>),
    Section(Box<Section>),
}

/// Reads and parses one file. With a `cache` (and the file's folder, to
/// look at its metadata), a page is taken from it when it holds this file
/// unchanged (then the file is not even read: the page's body is left
/// unread) or this file's text; and the page comes with its record for the
/// next cache (and whether it was parsed afresh).
pub(super) fn parse_file(
    root: &Path,
    f: &Found,
    cache: Option<(&PageCache, &Folder)>,
) -> Result<ReadFile> {
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
