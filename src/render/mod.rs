//! Render stage: the loaded [`Site`] and its templates become an [`Output`]
//! (every HTML page, feed, sitemap and copied file), entirely in memory.
//!
//! [`render`] reads as the list of steps; each step is a function below.

mod feeds;
mod sitemap;
pub mod views;

use crate::content::{sort_pages, Page};
use crate::error::{Diagnostic, Error, Result};
use crate::output::Output;
use crate::site::Site;
use crate::templates::Templates;
use rayon::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use views::*;

/// Renders the whole site.
pub fn render(site: &Site, templates: &Templates) -> Result<Output> {
    let mut output = render_documents(site, templates)?;
    add_static(site, &mut output);
    Ok(output)
}

/// Renders every page, list, feed, sitemap and alias, and the page-bundle
/// assets beside their pages: the whole site except [`add_static`]'s files.
/// The dev server keeps the two apart, so a static file change re-renders
/// nothing.
pub fn render_documents(site: &Site, templates: &Templates) -> Result<Output> {
    check_templates_exist(site, templates)?;
    let ctx = Ctx::new(site, templates);
    let mut out = Out::default();
    render_pages(&ctx, &mut out);
    render_sections(&ctx, &mut out);
    render_taxonomies(&ctx, &mut out);
    feeds::render_feeds(&ctx, &mut out);
    sitemap::render_sitemap(&ctx, &mut out);
    render_404(&ctx, &mut out);
    render_aliases(&ctx, &mut out);
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

/// What every step reads.
pub(crate) struct Ctx<'a> {
    pub site: &'a Site,
    pub templates: &'a Templates,
    /// `PageSummaryView` of every page, by page index.
    pub summaries: Vec<Value>,
    /// Each page's position in its section's list (by page index), so a
    /// page finds its neighbours without searching the list: a search per
    /// page is quadratic in a section's size.
    pub positions: Vec<Option<usize>>,
    /// `site` and the site's feeds, serialized once: each template's context
    /// starts as a copy of it.
    base: tera::Context,
}

impl<'a> Ctx<'a> {
    fn new(site: &'a Site, templates: &'a Templates) -> Self {
        let summaries = site
            .content
            .pages
            .par_iter()
            .map(|p| serde_json::to_value(page_summary(site, p)).expect("views serialize"))
            .collect();
        Ctx::with_summaries(site, templates, summaries)
    }

    fn with_summaries(site: &'a Site, templates: &'a Templates, summaries: Vec<Value>) -> Self {
        let site_view = serde_json::to_value(site_view(site)).expect("views serialize");
        let c = &site.config;
        let mut base = tera::Context::new();
        base.insert("site", &site_view);
        base.insert("feeds", &feed_views(c, "/", &c.title));
        Ctx {
            site,
            templates,
            summaries,
            positions: section_positions(site),
            base,
        }
    }

    /// The context every template gets, with the site's feeds.
    fn base_site(&self, path: &str) -> tera::Context {
        let mut c = self.base.clone();
        c.insert("current_path", path);
        c.insert("current_url", &self.site.config.url(path));
        c
    }

    /// The context every template gets.
    fn base(&self, path: &str, feeds: &[FeedView]) -> tera::Context {
        let mut c = self.base_site(path);
        c.insert("feeds", feeds);
        c
    }
}

/// A context of one variable, moved in rather than serialized again.
fn owned_context(name: &str, value: Value) -> tera::Context {
    let mut m = serde_json::Map::new();
    m.insert(name.to_string(), value);
    tera::Context::from_value(Value::Object(m)).expect("an object is a context")
}

/// The paginator as JSON, its pages' summaries copied as they are rather
/// than serialized again.
fn paginator_value(mut p: PaginatorView<'_>) -> Value {
    let pages: Vec<Value> = std::mem::take(&mut p.pages).into_iter().cloned().collect();
    let Value::Object(mut m) = serde_json::to_value(&p).expect("views serialize") else {
        unreachable!("a struct serializes to an object")
    };
    m.insert("pages".to_string(), Value::Array(pages));
    Value::Object(m)
}

/// Each page's position in its own section's list, by page index.
fn section_positions(site: &Site) -> Vec<Option<usize>> {
    let mut positions = vec![None; site.content.pages.len()];
    for s in site.content.sections.values() {
        for (k, &j) in s.pages.iter().enumerate() {
            positions[j] = Some(k);
        }
    }
    positions
}

/// The output being built, and the problems met on the way.
#[derive(Default)]
pub(crate) struct Out {
    pub output: Output,
    pub problems: Vec<Diagnostic>,
    /// Who wrote each output file, to report two things at one address.
    owners: std::collections::HashMap<String, PathBuf>,
}

impl Out {
    /// Adds a file for a URL path, reporting a clash with an earlier one.
    fn add_url(&mut self, url_path: &str, bytes: impl Into<Vec<u8>>, owner: &Path) {
        let file = Output::file_for_url_path(url_path);
        self.add_file(file, bytes, owner);
    }

    pub(crate) fn add_file(&mut self, file: String, bytes: impl Into<Vec<u8>>, owner: &Path) {
        if let Some(prev) = self.owners.insert(file.clone(), owner.to_path_buf()) {
            self.problems.push(
                Diagnostic::new(owner, format!("`{file}` is also written by `{}`", prev.display()))
                    .help("give one of them another path (front-matter `slug` or `path`, or rename the section or taxonomy term)"),
            );
        }
        self.output.add(file, bytes);
    }

    /// Records a problem once.
    fn problem(&mut self, d: Diagnostic) {
        if !self.problems.contains(&d) {
            self.problems.push(d);
        }
    }

    fn render(
        &mut self,
        ctx: &Ctx<'_>,
        template: &str,
        c: &tera::Context,
        for_file: Option<&Path>,
    ) -> Option<String> {
        match ctx.templates.render(template, c, for_file) {
            Ok(html) => Some(html),
            Err(d) => {
                if !self.problems.contains(&d) {
                    self.problems.push(d);
                }
                None
            }
        }
    }

    fn finish(mut self) -> Result<Output> {
        if self.problems.is_empty() {
            Ok(self.output)
        } else {
            self.problems.dedup();
            Err(Error::Site(self.problems))
        }
    }
}

/// The template a page asks for: its own, its section's `page_template`, or `page.html`.
fn page_template<'a>(site: &'a Site, p: &'a Page) -> &'a str {
    p.template
        .as_deref()
        .or(site.content.sections[&p.section].page_template.as_deref())
        .unwrap_or("page.html")
}

/// Step: one HTML file per page, rendered in parallel.
fn render_pages(ctx: &Ctx<'_>, out: &mut Out) {
    let site = ctx.site;
    // Where each entry was cross-posted, from data/syndication.toml.
    let syndication = crate::syndicate::syndication_links(site).unwrap_or_else(|e| {
        out.problems.extend(e.diagnostics().iter().cloned());
        if e.diagnostics().is_empty() {
            out.problems.push(crate::ledger::diagnostic(e.to_string()));
        }
        Default::default()
    });
    // The comment sections, from data/comments/ only: a build never fetches.
    let (comments, problems) = crate::comments::views_for_site(site);
    problems.into_iter().for_each(|d| out.problem(d));
    let rendered: Vec<(usize, Result<String, Diagnostic>)> = site
        .content
        .pages
        .par_iter()
        .enumerate()
        .map(|(i, p)| {
            let links = syndication.get(&p.rel).cloned().unwrap_or_default();
            (i, page_html(ctx, i, p, links, comments[i].clone()))
        })
        .collect();
    for (i, r) in rendered {
        let p = &site.content.pages[i];
        match r {
            Ok(html) => out.add_url(&p.path, html, &p.file),
            Err(d) => {
                if !out.problems.contains(&d) {
                    out.problems.push(d)
                }
            }
        }
        for (src, rel) in &p.assets {
            let file = format!(
                "{}{}",
                Output::file_for_url_path(&p.path).trim_end_matches("index.html"),
                rel
            );
            out.output.copies.insert(file, site.root.join(src));
        }
    }
}

/// The HTML of page `i`, with where it was cross-posted and its comments.
/// `p` is that page (or an edited copy of it: see [`render_page`]).
fn page_html(
    ctx: &Ctx<'_>,
    i: usize,
    p: &Page,
    syndication: Vec<SyndicationLink>,
    comments: Option<Value>,
) -> Result<String, Diagnostic> {
    let site = ctx.site;
    let c = &site.config;
    let section = &site.content.sections[&p.section];
    let pos = ctx.positions.get(i).copied().flatten();
    let neighbour = |j: Option<usize>| j.map(|j| page_link(c, &site.content.pages[j]));
    let newer = neighbour(pos.and_then(|k| k.checked_sub(1)).map(|k| section.pages[k]));
    let older = neighbour(pos.and_then(|k| section.pages.get(k + 1).copied()));
    // `page` is built as one JSON object: the page's summary (already
    // serialized for the lists, unless `p` is an edited copy) and the
    // fields of `PageView`, with the page's HTML copied once.
    let summary = match ctx.summaries.get(i) {
        Some(v) if std::ptr::eq(p, &site.content.pages[i]) => v.clone(),
        _ => serde_json::to_value(page_summary(site, p)).expect("views serialize"),
    };
    let Value::Object(mut page) = summary else {
        unreachable!("a summary is an object")
    };
    let rest = PageFields {
        slug: &p.slug,
        content: &p.rendered.html,
        toc: &p.rendered.toc,
        newer,
        older,
        assets: p.assets.iter().map(|(_, rel)| rel.as_str()).collect(),
        syndication,
        comments,
        lang: &c.language,
    };
    let Value::Object(rest) = serde_json::to_value(rest).expect("views serialize") else {
        unreachable!("a struct serializes to an object")
    };
    page.extend(rest);
    let mut tc = ctx.base_site(&p.path);
    tc.extend(owned_context("page", Value::Object(page)));
    ctx.templates
        .render(page_template(site, p), &tc, Some(&p.file))
}

/// The fields `page` has beyond its summary: [`PageView`] without the
/// copies.
#[derive(serde::Serialize)]
struct PageFields<'a> {
    slug: &'a str,
    content: &'a str,
    toc: &'a [crate::markdown::Heading],
    newer: Option<LinkView>,
    older: Option<LinkView>,
    assets: Vec<&'a str>,
    syndication: Vec<SyndicationLink>,
    comments: Option<Value>,
    lang: &'a str,
}

/// Renders the HTML of one page alone, as [`render`] does, for the dev
/// server to show an edited entry before the rest of the site is rendered
/// again: `page` is the edited version of page `index` of `site` (same
/// place in the site; its neighbours come from `site`). Lists, feeds and
/// other pages are not touched.
pub fn render_page(
    site: &Site,
    templates: &Templates,
    index: usize,
    page: &Page,
) -> Result<String> {
    if index >= site.content.pages.len() {
        return Err(Error::Other(format!("no page number {index}")));
    }
    let p = page;
    // A page lists no other page: the summaries of every page, which
    // list pages need, are not computed.
    let ctx = Ctx::with_summaries(site, templates, Vec::new());
    let syndication = crate::syndicate::syndication_links(site)?
        .remove(&p.rel)
        .unwrap_or_default();
    // This page's comment section alone, as `comments::views_for_site`
    // makes it for every page.
    let comments = crate::comments::view_for_page(site, p)?;
    Ok(page_html(&ctx, index, p, syndication, comments)?)
}

/// The pages a section lists: its own and its subsections', in its order.
/// The root section lists every dated page of the site.
pub(crate) fn section_listing(site: &Site, dir: &str) -> Vec<usize> {
    if dir.is_empty() {
        return site.content.dated_pages_newest_first();
    }
    let section = &site.content.sections[dir];
    let mut idx = Vec::new();
    let mut stack = vec![dir.to_string()];
    while let Some(d) = stack.pop() {
        let s = &site.content.sections[&d];
        idx.extend(s.pages.iter().copied());
        stack.extend(s.subsections.iter().cloned());
    }
    sort_pages(&site.content.pages, &mut idx, section.sort_by);
    idx
}

/// Splits `items` into pagers of `per` (0: one pager) under `base_path`.
/// How many pagers on each side of the current one `paginator.pagers` lists.
pub const PAGER_WINDOW: usize = 2;

fn paginate<'a>(
    ctx: &'a Ctx<'_>,
    items: &[usize],
    per: usize,
    base_path: &str,
) -> Vec<(String, PaginatorView<'a>)> {
    let per = if per == 0 { items.len().max(1) } else { per };
    let chunks: Vec<&[usize]> = if items.is_empty() {
        vec![&[][..]]
    } else {
        items.chunks(per).collect()
    };
    let n = chunks.len();
    let c = &ctx.site.config;
    let pager_path = |k: usize| {
        if k == 1 {
            base_path.to_string()
        } else {
            format!("{base_path}page/{k}/")
        }
    };
    let link = |k: usize| c.url(&pager_path(k));
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let k = i + 1;
            // A window of pagers around this one: listing all of them on
            // every pager would grow with the square of the list.
            let window = k.saturating_sub(PAGER_WINDOW).max(1)..=(k + PAGER_WINDOW).min(n);
            let view = PaginatorView {
                pages: chunk.iter().map(|&j| &ctx.summaries[j]).collect(),
                current_index: k,
                number_pagers: n,
                total_pages: items.len(),
                first: link(1),
                last: link(n),
                previous: (k > 1).then(|| link(k - 1)),
                next: (k < n).then(|| link(k + 1)),
                pagers: window
                    .map(|index| PagerLink {
                        index,
                        permalink: link(index),
                    })
                    .collect(),
            };
            (pager_path(k), view)
        })
        .collect()
}

/// Step: the home page and every section, paginated.
fn render_sections(ctx: &Ctx<'_>, out: &mut Out) {
    let site = ctx.site;
    let c = &site.config;
    for (dir, s) in &site.content.sections {
        let listing = section_listing(site, dir);
        let per = s.paginate_by.unwrap_or(c.paginate_by);
        let template = s.template.as_deref().unwrap_or(if dir.is_empty() {
            "index.html"
        } else {
            "section.html"
        });
        let feeds = if dir.is_empty() || !c.feeds.sections {
            feed_views(c, "/", &c.title)
        } else {
            feed_views(c, &s.path, &format!("{} — {}", s.title, c.title))
        };
        let view = section_view(site, s, listing.len());
        let owner = s
            .file
            .clone()
            .unwrap_or_else(|| Path::new(crate::content::CONTENT_DIR).join(dir));
        // What every pager of the section shares, serialized once.
        let mut shared = ctx.base.clone();
        shared.insert("feeds", &feeds);
        shared.insert("section", &view);
        let rendered: Vec<(String, Result<String, Diagnostic>)> =
            paginate(ctx, &listing, per, &s.path)
                .into_par_iter()
                .map(|(path, paginator)| {
                    let mut tc = shared.clone();
                    tc.insert("current_path", &path);
                    tc.insert("current_url", &c.url(&path));
                    tc.extend(owned_context("paginator", paginator_value(paginator)));
                    let r = ctx.templates.render(template, &tc, s.file.as_deref());
                    (path, r)
                })
                .collect();
        for (path, r) in rendered {
            match r {
                Ok(html) => out.add_url(&path, html, &owner),
                Err(d) => out.problem(d),
            }
        }
    }
}

/// Step: a list page per taxonomy and a paginated page per term.
fn render_taxonomies(ctx: &Ctx<'_>, out: &mut Out) {
    let site = ctx.site;
    let c = &site.config;
    let owner = Path::new(crate::config::CONFIG_FILE);
    for t in &site.taxonomies {
        let tc_cfg = c
            .taxonomy(&t.name)
            .expect("taxonomies come from the config");
        let tax_path = Site::taxonomy_path(&t.name);
        let terms: Vec<TermView> = t
            .terms
            .iter()
            .map(|term| TermView {
                name: term.name.clone(),
                slug: term.slug.clone(),
                permalink: c.url(&Site::term_path(&t.name, &term.slug)),
                count: term.pages.len(),
            })
            .collect();
        let view = TaxonomyView {
            name: t.name.clone(),
            permalink: c.url(&tax_path),
            terms,
        };
        let site_feeds = feed_views(c, "/", &c.title);
        let mut tc = ctx.base(&tax_path, &site_feeds);
        tc.insert("taxonomy", &view);
        if let Some(html) = out.render(ctx, "taxonomy_list.html", &tc, None) {
            out.add_url(&tax_path, html, owner);
        }
        let per = tc_cfg.paginate_by.unwrap_or(c.paginate_by);
        // The taxonomy with all its terms, serialized once for all its pagers.
        let mut tax_shared = ctx.base.clone();
        tax_shared.insert("taxonomy", &view);
        let rendered: Vec<Vec<(String, Result<String, Diagnostic>)>> = t
            .terms
            .par_iter()
            .zip(view.terms.par_iter())
            .map(|(term, term_view)| {
                let term_path = Site::term_path(&t.name, &term.slug);
                let feeds = if c.feeds.taxonomies && tc_cfg.feed {
                    feed_views(c, &term_path, &format!("{} — {}", term.name, c.title))
                } else {
                    site_feeds.clone()
                };
                let mut shared = tax_shared.clone();
                shared.insert("feeds", &feeds);
                shared.insert("term", term_view);
                paginate(ctx, &term.pages, per, &term_path)
                    .into_iter()
                    .map(|(path, paginator)| {
                        let mut tc = shared.clone();
                        tc.insert("current_path", &path);
                        tc.insert("current_url", &c.url(&path));
                        tc.extend(owned_context("paginator", paginator_value(paginator)));
                        let r = ctx.templates.render("taxonomy_term.html", &tc, None);
                        (path, r)
                    })
                    .collect()
            })
            .collect();
        for (path, r) in rendered.into_iter().flatten() {
            match r {
                Ok(html) => out.add_url(&path, html, owner),
                Err(d) => {
                    if !out.problems.contains(&d) {
                        out.problems.push(d)
                    }
                }
            }
        }
    }
}

/// Step: `404.html`.
fn render_404(ctx: &Ctx<'_>, out: &mut Out) {
    let c = &ctx.site.config;
    let tc = ctx.base("/404.html", &feed_views(c, "/", &c.title));
    if let Some(html) = out.render(ctx, "404.html", &tc, None) {
        out.add_file("404.html".into(), html, Path::new("templates/404.html"));
    }
}

/// Step: a redirect page at every alias.
fn render_aliases(ctx: &Ctx<'_>, out: &mut Out) {
    let c = &ctx.site.config;
    for p in &ctx.site.content.pages {
        for (alias, _) in &p.aliases {
            let mut tc = ctx.base(alias, &feed_views(c, "/", &c.title));
            let to = c.url(&p.path);
            // The refresh goes to the path on the same host, so a redirect
            // also works on the dev server and on preview deployments.
            let path = reqwest::Url::parse(&to)
                .map(|u| u.path().to_string())
                .unwrap_or_else(|_| p.path.clone());
            tc.insert("redirect_to", &to);
            tc.insert("redirect_path", &path);
            if let Some(html) = out.render(ctx, "alias.html", &tc, Some(&p.file)) {
                out.add_url(alias, html, &p.file);
            }
        }
    }
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
