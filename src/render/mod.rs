//! Render stage: the loaded [`Site`] and its templates become an [`Output`]
//! (every HTML page, feed, sitemap and copied file), entirely in memory.
//!
//! [`render`] reads as the list of steps; each step has its file: `pages`
//! (every entry, `404.html`), `lists` (sections and taxonomy terms,
//! paginated), `feeds`, `sitemap`, `redirects`. They share `ctx` (what
//! every step reads, and the keeping of what the last build made) and add
//! to `out` (the output, and who wrote each file).

mod context;
mod ctx;
mod feeds;
mod lists;
mod out;
mod page_html;
mod pages;
mod redirects;
mod sitemap;
mod summaries;
pub mod views;

use crate::error::{Diagnostic, Error, Result};
use crate::output::{Output, Previous, Stream};
use crate::site::Site;
use crate::templates::Templates;
pub use page_html::PageHtml;
use serde_json::Value;
use std::path::Path;

use ctx::{Ctx, Made};
use lists::{render_sections, render_taxonomies};
use out::Out;
use pages::{page_template, render_404, render_pages};
use redirects::render_aliases;

pub use pages::render_page;

/// Renders the whole site.
pub fn render(site: &Site, templates: &Templates) -> Result<Output> {
    let mut output = render_documents(site, templates)?;
    add_static(site, &mut output);
    Ok(output)
}

/// Renders the whole site for an output folder, recording each rendered
/// file's input key; a file the `previous` build wrote from the same inputs
/// (same key, and untouched since) is not rendered again but kept
/// ([`Output::kept`]). With a `stream`, pages and lists are written into it
/// as they are rendered rather than held in memory. Pages whose HTML was
/// taken into `html` ([`PageHtml::take_from`]) are rendered from it.
pub fn render_over(
    site: &Site,
    templates: &Templates,
    previous: Option<&Previous>,
    stream: Option<&Stream>,
    html: Option<&PageHtml>,
) -> Result<Output> {
    let mut output = render_documents_over(site, templates, previous, stream, html)?;
    add_static(site, &mut output);
    Ok(output)
}

/// [`render_over`] without [`add_static`]'s files, for the dev server,
/// which keeps the two apart (its `previous` is the last good build held
/// in memory: see [`Previous::in_memory`] and [`Output::keep_from`]).
pub fn render_documents_over(
    site: &Site,
    templates: &Templates,
    previous: Option<&Previous>,
    stream: Option<&Stream>,
    html: Option<&PageHtml>,
) -> Result<Output> {
    let reuse = Reuse {
        previous: previous.filter(|_| templates.key().is_some()),
        stream,
        html,
    };
    render_with(site, templates, Some(reuse))
}

/// Renders every page, list, feed, sitemap and alias, and the page-bundle
/// assets beside their pages: the whole site except [`add_static`]'s files.
/// The dev server keeps the two apart, so a static file change re-renders
/// nothing.
pub fn render_documents(site: &Site, templates: &Templates) -> Result<Output> {
    render_with(site, templates, None)
}

fn render_with(site: &Site, templates: &Templates, reuse: Option<Reuse<'_>>) -> Result<Output> {
    check_templates_exist(site, templates)?;
    crate::trace::mark("render start");
    let ctx = Ctx::new(site, templates, reuse);
    crate::trace::mark("summaries");
    let mut out = Out::default();
    let render_rest = || {
        let mut rest = Out::deferred();
        render_sections(&ctx, &mut rest);
        render_taxonomies(&ctx, &mut rest);
        feeds::render_feeds(&ctx, &mut rest);
        sitemap::render_sitemap(&ctx, &mut rest);
        render_404(&ctx, &mut rest);
        render_aliases(&ctx, &mut rest);
        rest
    };
    // A rebuild, which keeps most files, makes the pages beside the lists,
    // feeds and the rest: each step keeps both cores busy only part of the
    // time (a section or a taxonomy is set up on one). A first build makes
    // them one after the other: beside the pages, whose HTML is let go as
    // each is written, the lists' summaries of every page raised its peak
    // memory by a quarter (111 -> 140 MB at 10,000 posts).
    let rest = match reuse.is_some_and(|r| r.previous.is_some()) {
        true => rayon::join(|| render_pages(&ctx, &mut out), render_rest).1,
        false => {
            render_pages(&ctx, &mut out);
            render_rest()
        }
    };
    // Taken in after the pages, as if made after them.
    out.absorb(rest);
    crate::trace::mark("pages and lists");
    // Every page's summary, as JSON: freeing them took a third of a second
    // at 100,000 pages, and nothing waits for it.
    let summaries = ctx.summaries;
    crate::free::free_later(summaries);
    out.finish()
}

/// Adds the theme's `static/`, then the site's (which wins), then loose
/// files under `content/`; each replaces a rendered file at the same path.
pub fn add_static(site: &Site, output: &mut Output) {
    let theme_static = site
        .root
        .join("themes")
        .join(&site.config.theme)
        .join("static");
    if theme_static.is_dir() {
        copy_tree(&theme_static, output);
    } else if site.config.theme == "default" {
        if let Some(dir) = crate::templates::DEFAULT_THEME.get_dir("static") {
            add_embedded(dir, output);
        }
    }
    copy_tree(&site.root.join("static"), output);
    for (src, url_path) in &site.content.assets {
        output.copies.insert(
            url_path.trim_start_matches('/').to_string(),
            site.root.join(src),
        );
    }
}

/// Reports each missing template once, naming a file that needs it.
fn check_templates_exist(site: &Site, templates: &Templates) -> Result<()> {
    let config_file = Path::new(crate::config::CONFIG_FILE);
    let mut needed: Vec<(&str, &Path)> = Vec::new();
    for p in &site.content.pages {
        needed.push((page_template(site, p), &p.file));
        for _ in p.aliases.iter().take(1) {
            needed.push(("alias.html", &p.file));
        }
    }
    for (dir, s) in &site.content.sections {
        let owner = s.file.as_deref().unwrap_or(config_file);
        needed.push((
            s.template.as_deref().unwrap_or(if dir.is_empty() {
                "index.html"
            } else {
                "section.html"
            }),
            owner,
        ));
    }
    if !site.taxonomies.is_empty() {
        needed.push(("taxonomy_list.html", config_file));
        needed.push(("taxonomy_term.html", config_file));
    }
    needed.push(("404.html", config_file));
    let mut seen = std::collections::BTreeSet::new();
    let problems: Vec<Diagnostic> = needed
        .into_iter()
        .filter(|(name, _)| !templates.has(name) && seen.insert(*name))
        .map(|(name, file)| {
            Diagnostic::new(file, format!("template `{name}` not found"))
                .help(format!("create templates/{name} (or themes/{}/templates/{name}), or fix the `template` key", site.config.theme))
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Site(problems))
    }
}

/// Whether outputs get input keys, and the build whose files may be kept.
#[derive(Clone, Copy)]
struct Reuse<'a> {
    previous: Option<&'a Previous>,
    stream: Option<&'a Stream>,
    html: Option<&'a PageHtml>,
}

fn copy_tree(dir: &Path, output: &mut Output) {
    if !dir.is_dir() {
        return;
    }
    for entry in walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(|e| e.ok())
    {
        if entry.file_type().is_file() {
            let rel = entry
                .path()
                .strip_prefix(dir)
                .expect("child")
                .to_string_lossy()
                .replace('\\', "/");
            output.files.remove(&rel);
            output.copies.insert(rel, entry.path().to_path_buf());
        }
    }
}

fn add_embedded(dir: &include_dir::Dir<'_>, output: &mut Output) {
    for f in dir.files() {
        if let Some(rel) = f.path().to_str().and_then(|p| p.strip_prefix("static/")) {
            output.add(rel.to_string(), f.contents().to_vec());
        }
    }
    for d in dir.dirs() {
        add_embedded(d, output);
    }
}
