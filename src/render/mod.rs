//! Render stage: the loaded [`Site`] and its templates become an [`Output`]
//! (every HTML page, feed, sitemap and copied file), entirely in memory.
//!
//! [`render`] reads as the list of steps; each step is a function below.

mod context;
mod feeds;
mod page_html;
mod sitemap;
mod summaries;
pub mod views;

use crate::content::{sort_pages, Page};
use crate::error::{Diagnostic, Error, Result};
use crate::input_key::InputKey;
use crate::output::{Kept, Output, Previous, Stream};
use crate::site::Site;
use crate::templates::Templates;
use context::{Shared, Vars};
pub use page_html::PageHtml;
use rayon::prelude::*;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::path::Path;
use summaries::Summaries;
use views::*;

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

/// What every step reads.
pub(crate) struct Ctx<'a> {
    pub site: &'a Site,
    pub templates: &'a Templates,
    /// `Some` when outputs are keyed (see [`render_over`]).
    reuse: Option<Reuse<'a>>,
    /// `PageSummaryView` of every page, by page index, made when first
    /// needed: a rebuild that keeps a list never makes its pages' summaries.
    summaries: Summaries,
    /// The input key of each summary (empty when outputs are not keyed).
    summary_keys: Vec<u128>,
    /// The input key of the site's configuration.
    config_key: u128,
    /// Each page's position in its section's list (by page index), so a
    /// page finds its neighbours without searching the list: a search per
    /// page is quadratic in a section's size.
    pub positions: Vec<Option<usize>>,
    /// `site` and the site's feeds, serialized once: each template's context
    /// starts as a copy of it.
    base: Shared,
    /// Each section's list of pages (see [`section_listing`]), by folder,
    /// made once for the lists, the feeds and the sitemap.
    listings: std::collections::BTreeMap<&'a str, std::sync::OnceLock<Vec<usize>>>,
}

impl<'a> Ctx<'a> {
    fn new(site: &'a Site, templates: &'a Templates, reuse: Option<Reuse<'a>>) -> Self {
        let site_view = serde_json::to_value(site_view(site)).expect("views serialize");
        let c = &site.config;
        let mut base = Shared::new(templates.key());
        base.insert("site", &site_view);
        base.insert("feeds", &feed_views(c, "/", &c.title));
        let pages = &site.content.pages;
        let config_key = InputKey::new("config").str(&format!("{c:?}")).finish();
        Ctx {
            site,
            templates,
            reuse,
            summaries: Summaries::new(pages.len()),
            summary_keys: match reuse {
                Some(_) => summary_keys(site, config_key),
                None => Vec::new(),
            },
            config_key,
            positions: section_positions(site),
            base,
            listings: site
                .content
                .sections
                .keys()
                .map(|dir| (dir.as_str(), Default::default()))
                .collect(),
        }
    }

    /// The pages the section in `dir` lists, in its order (none for a
    /// folder that is no section).
    pub fn listing(&self, dir: &str) -> &[usize] {
        match self.listings.get(dir) {
            Some(l) => l.get_or_init(|| section_listing(self.site, dir)),
            None => &[],
        }
    }

    /// The summary of page `i`, as JSON, lent: give it back with
    /// [`Ctx::give_back`] once rendered.
    fn lend_summary(&self, i: usize) -> Value {
        self.summaries.lend(i, || {
            let p = &self.site.content.pages[i];
            serde_json::to_value(page_summary(self.site, p)).expect("views serialize")
        })
    }

    fn give_back(&self, i: usize, summary: Value) {
        self.summaries.give_back(i, summary);
    }

    /// The output `file`, when the last build wrote it from inputs of this
    /// `key` and it is still as that build left it.
    fn kept(&self, file: &str, key: Option<u128>) -> Option<Kept> {
        let previous = self.reuse.and_then(|r| r.previous)?;
        previous.reuse(file, key?)
    }

    /// The output `file` of this `key`: kept (see [`Ctx::kept`]), or else
    /// made by `make`.
    fn kept_or(&self, file: &str, key: Option<u128>, make: impl FnOnce() -> String) -> Made {
        match self.kept(file, key) {
            Some(kept) => Made::Kept(kept),
            None => Made::Fresh(Ok(make()), key),
        }
    }

    /// Makes the output at the URL path `path` from `template`, with the
    /// `shared` context, `current_path` and `current_url`, and the variables
    /// `vars` makes, which `give_back` receives once rendered; or, when the
    /// last build wrote that file from the same templates and context,
    /// keeps it (`vars` is then never called).
    ///
    /// `key_vars` adds to the key what `vars` would make, without making
    /// it: it must take in everything `vars` depends on. Returns the output
    /// file (`posts/a/index.html` for `/posts/a/`) with what was made.
    #[allow(clippy::too_many_arguments)]
    fn make(
        &self,
        path: &str,
        template: &str,
        shared: &Shared,
        key_vars: impl FnOnce(&mut InputKey),
        vars: impl FnOnce() -> Result<Vars, Diagnostic>,
        give_back: impl FnOnce(Vars),
        for_file: Option<&Path>,
    ) -> (String, Made) {
        let file = Output::file_for_url_path(path);
        let key = self.reuse.map(|_| {
            let mut k = InputKey::new("output");
            k.u128(shared.key).str(template).str(path);
            key_vars(&mut k);
            k.finish()
        });
        if let Some(kept) = self.kept(&file, key) {
            return (file, Made::Kept(kept));
        }
        let mut vars = match vars() {
            Ok(vars) => vars,
            Err(d) => return (file, Made::Fresh(Err(d), key)),
        };
        vars.push(("current_path", Value::from(path)));
        vars.push(("current_url", Value::from(self.site.config.url(path))));
        let (html, vars) = context::render(self.templates, template, shared, vars, for_file);
        give_back(vars);
        let made = match (html, self.reuse.and_then(|r| r.stream)) {
            (Ok(html), Some(stream)) => match stream.write(&file, html.as_bytes(), key) {
                Ok(written) => Made::Kept(written),
                Err(e) => Made::Fresh(
                    Err(Diagnostic::new(&file, e.to_string()).help(
                        "check that the disk has room and the output folder's parent is writable",
                    )),
                    key,
                ),
            },
            (html, _) => Made::Fresh(html, key),
        };
        (file, made)
    }

    /// Makes one pager of a list: the `paginator` is keyed by its pages'
    /// summary keys rather than by the summaries themselves. `own` are the
    /// variables of the list beside the shared ones (a taxonomy term's
    /// `term` and `feeds`), which `shared` must not have.
    fn make_pager(
        &self,
        pager: Pager<'_>,
        template: &str,
        shared: &Shared,
        own: &[(&'static str, Value)],
        for_file: Option<&Path>,
    ) -> (String, Made) {
        self.make(
            &pager.path,
            template,
            shared,
            |k| {
                for (name, value) in own {
                    k.str(name).json(value);
                }
                k.str("paginator")
                    .str(pager.base_path)
                    .u128(pager.index as u128)
                    .u128(pager.count as u128)
                    .u128(pager.total as u128);
                for &j in pager.items {
                    k.u128(self.summary_keys[j]);
                }
            },
            || {
                let view = pager.view(&self.site.config);
                let mut vars = own.to_vec();
                vars.push(("paginator", paginator_value(&view, pager.items, self)));
                Ok(vars)
            },
            |vars| {
                // The summaries lent to `paginator.pages`, in `items` order.
                for (_, paginator) in vars.into_iter().filter(|(n, _)| *n == "paginator") {
                    if let Value::Object(mut m) = paginator {
                        if let Some(Value::Array(pages)) = m.remove("pages") {
                            for (&j, summary) in pager.items.iter().zip(pages) {
                                self.give_back(j, summary);
                            }
                        }
                    }
                }
            },
            for_file,
        )
    }
}

/// One output: rendered now (with its input key, when keyed), or kept
/// from the last build.
enum Made {
    Fresh(Result<String, Diagnostic>, Option<u128>),
    Kept(Kept),
}

/// The paginator as JSON, with the summaries of its pages (`items`) lent
/// (see [`Ctx::lend_summary`]).
fn paginator_value(p: &PaginatorView, items: &[usize], ctx: &Ctx<'_>) -> Value {
    let pages: Vec<Value> = items.iter().map(|&j| ctx.lend_summary(j)).collect();
    let Value::Object(mut m) = serde_json::to_value(p).expect("views serialize") else {
        unreachable!("a struct serializes to an object")
    };
    m.insert("pages".to_string(), Value::Array(pages));
    Value::Object(m)
}

/// The input key of each page's summary, made from what the summary is made
/// of rather than from the summary itself, so that a rebuild that keeps a
/// list never makes the summaries of its pages. A summary ([`page_summary`])
/// is made of: what the page's file says (its path under `content/` and the
/// key of its text), its rendering (`render_key`: the summary HTML and the
/// word count), its permalink, its section's link, and the configuration.
/// A page that was not read from a file is keyed by its summary.
fn summary_keys(site: &Site, config: u128) -> Vec<u128> {
    let c = &site.config;
    let sections: std::collections::HashMap<&str, u128> = site
        .content
        .sections
        .values()
        .map(|s| {
            let key = InputKey::new("section link")
                .json(&section_link(c, s))
                .str(&s.dir)
                .u128(u128::from(s.file.is_some()))
                .finish();
            (s.dir.as_str(), key)
        })
        .collect();
    site.content
        .pages
        .par_iter()
        .map(|p| {
            let mut k = InputKey::new("summary");
            if p.text_key == 0 {
                return k.json(&page_summary(site, p)).finish();
            }
            k.u128(config)
                .str(&p.rel)
                .u128(p.text_key)
                .u128(p.render_key)
                .str(&p.path)
                .u128(sections[p.section.as_str()])
                .finish()
        })
        .collect()
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
pub(crate) struct Out<'a> {
    pub output: Output,
    pub problems: Vec<Diagnostic>,
    /// Who wrote each output file, to report two things at one address
    /// (borrowed from the site where it can be: one per page).
    owners: rustc_hash::FxHashMap<String, Cow<'a, Path>>,
    /// For an output made beside another (see [`Out::deferred`]): its
    /// claims and problems, in order, for the other to take in.
    log: Option<Vec<Logged<'a>>>,
}

/// What a deferred [`Out`] was told, in order.
enum Logged<'a> {
    Claim(String, Cow<'a, Path>),
    Problem(Diagnostic),
}

impl<'a> Out<'a> {
    /// An output made while another is: who wrote what, and the problems,
    /// are checked when the other takes it in with [`Out::absorb`], as if
    /// it had been made after the other.
    fn deferred() -> Out<'a> {
        Out {
            log: Some(Vec::new()),
            ..Out::default()
        }
    }

    /// Takes in `later`, a deferred output made beside this one: its files
    /// replace this one's at the same paths, and its claims and problems
    /// are replayed here in order, so the clashes and problems reported are
    /// those of making it after this one.
    fn absorb(&mut self, later: Out<'a>) {
        let Output {
            files,
            copies,
            keys,
            kept,
        } = later.output;
        self.output.files.extend(files);
        self.output.copies.extend(copies);
        self.output.keys.extend(keys);
        self.output.kept.extend(kept);
        self.problems.extend(later.problems);
        for logged in later.log.into_iter().flatten() {
            match logged {
                Logged::Claim(file, owner) => self.claim(&file, owner),
                Logged::Problem(d) => self.problem(d),
            }
        }
    }

    pub(crate) fn add_file(
        &mut self,
        file: String,
        bytes: impl Into<Vec<u8>>,
        owner: impl Into<Cow<'a, Path>>,
    ) {
        self.claim(&file, owner.into());
        self.output.add(file, bytes);
    }

    /// Notes who writes `file`, reporting a clash with an earlier writer.
    fn claim(&mut self, file: &str, owner: Cow<'a, Path>) {
        if let Some(log) = &mut self.log {
            log.push(Logged::Claim(file.to_string(), owner));
            return;
        }
        let diagnostic = |prev: &Path, owner: &Path| {
            Diagnostic::new(owner, format!("`{file}` is also written by `{}`", prev.display()))
                .help("give one of them another path (front-matter `slug` or `path`, or rename the section or taxonomy term)")
        };
        match self.owners.entry(file.to_string()) {
            Entry::Vacant(v) => {
                v.insert(owner);
            }
            Entry::Occupied(mut o) => {
                let d = diagnostic(o.get(), &owner);
                o.insert(owner);
                self.problems.push(d);
            }
        }
    }

    /// Adds what [`Ctx::make`] made: the output file and how.
    fn add_made(&mut self, (file, made): (String, Made), owner: impl Into<Cow<'a, Path>>) {
        let owner = owner.into();
        match made {
            Made::Fresh(Ok(html), key) => {
                if let Some(key) = key {
                    self.output.keys.insert(file.clone(), key);
                }
                self.add_file(file, html, owner);
            }
            Made::Fresh(Err(d), _) => self.problem(d),
            Made::Kept(kept) => {
                self.claim(&file, owner);
                self.output.kept.insert(file, kept);
            }
        }
    }

    /// Records a problem once.
    fn problem(&mut self, d: Diagnostic) {
        if let Some(log) = &mut self.log {
            log.push(Logged::Problem(d));
            return;
        }
        if !self.problems.contains(&d) {
            self.problems.push(d);
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
fn render_pages<'a>(ctx: &Ctx<'a>, out: &mut Out<'a>) {
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
    let made: Vec<(String, Made)> = site
        .content
        .pages
        .par_iter()
        .enumerate()
        .map(|(i, p)| {
            let links = syndication.get(&p.rel).cloned().unwrap_or_default();
            make_page(ctx, i, p, links, comments[i].clone())
        })
        .collect();
    for (i, (file, made)) in made.into_iter().enumerate() {
        let p = &site.content.pages[i];
        // A bundle's files go beside its page.
        let folder = file.trim_end_matches("index.html");
        for (src, rel) in &p.assets {
            let copy = format!("{folder}{rel}");
            out.output.copies.insert(copy, site.root.join(src));
        }
        out.add_made((file, made), Cow::Borrowed(p.file.as_path()));
    }
}

/// Makes the HTML of page `i`, with where it was cross-posted and its
/// comments. `p` is that page (or an edited copy of it: see
/// [`render_page`]).
fn make_page(
    ctx: &Ctx<'_>,
    i: usize,
    p: &Page,
    syndication: Vec<SyndicationLink>,
    comments: Option<Value>,
) -> (String, Made) {
    let site = ctx.site;
    let c = &site.config;
    let section = &site.content.sections[&p.section];
    let pos = ctx.positions.get(i).copied().flatten();
    let newer = pos.and_then(|k| k.checked_sub(1)).map(|k| section.pages[k]);
    let older = pos.and_then(|k| section.pages.get(k + 1).copied());
    // `page` is built as one JSON object: the page's summary (shared with
    // the lists, unless `p` is an edited copy) and the fields of
    // `PageView`, with the page's HTML copied once.
    let own = std::ptr::eq(p, &*site.content.pages[i]);
    let rest = PageFields {
        slug: &p.slug,
        assets: p.assets.iter().map(|(_, rel)| rel.as_str()).collect(),
        syndication,
        comments,
        lang: &c.language,
    };
    // The fields `page` has beyond the summary, with the summary's values
    // they replaced, to give the summary back as it was.
    let added: std::cell::RefCell<Vec<(String, Option<Value>)>> = Default::default();
    ctx.make(
        &p.path,
        page_template(site, p),
        &ctx.base,
        |k| {
            match ctx.summary_keys.get(i) {
                Some(&sk) if own => k.u128(sk),
                _ => k.json(&page_summary(site, p)),
            };
            // The HTML and table of contents, by the key of their rendering.
            k.u128(p.render_key);
            rest.add_to(k);
            // The neighbours' links, by what they are made of (building
            // them for ten thousand pages to find them unchanged showed).
            for j in [newer, older] {
                match j.map(|j| &site.content.pages[j]) {
                    Some(q) => k.u128(1).str(&q.title).str(&q.path),
                    None => k.u128(0),
                };
            }
        },
        || {
            let summary = match own {
                true => ctx.lend_summary(i),
                false => serde_json::to_value(page_summary(site, p)).expect("views serialize"),
            };
            let Value::Object(mut page) = summary else {
                unreachable!("a summary is an object")
            };
            let Value::Object(mut rest) = serde_json::to_value(&rest).expect("views serialize")
            else {
                unreachable!("a struct serializes to an object")
            };
            for (name, j) in [("newer", newer), ("older", older)] {
                let link = j.map(|j| page_link(c, &site.content.pages[j]));
                rest.insert(
                    name.into(),
                    serde_json::to_value(link).expect("views serialize"),
                );
            }
            let handed = match own {
                true => ctx.reuse.and_then(|r| r.html).and_then(|h| h.take(i)),
                false => None,
            };
            let (content, toc) = match handed {
                Some((html, toc)) => (html, serde_json::to_value(toc)),
                None if p.rendered.deferred => {
                    // Known unchanged, but this page is rendered again (its
                    // neighbours or comments changed): render its Markdown now.
                    let root = &site.root;
                    let r =
                        crate::content::render_markdown(root, c, site.content.link_targets(), p)?;
                    (r.html, serde_json::to_value(r.toc))
                }
                None => (
                    p.rendered.html.clone(),
                    serde_json::to_value(&p.rendered.toc),
                ),
            };
            let own_fields = rest.into_iter().chain([
                ("content".to_string(), Value::from(content)),
                ("toc".to_string(), toc.expect("views serialize")),
            ]);
            let mut added = added.borrow_mut();
            for (name, value) in own_fields {
                let replaced = page.insert(name.clone(), value);
                added.push((name, replaced));
            }
            Ok(vec![("page", Value::Object(page))])
        },
        |vars| {
            // The summary lent to `page`, as it was lent.
            let page = vars.into_iter().find(|(n, _)| *n == "page");
            if let (true, Some((_, Value::Object(mut page)))) = (own, page) {
                for (name, replaced) in added.take().into_iter().rev() {
                    match replaced {
                        Some(v) => page.insert(name, v),
                        None => page.remove(&name),
                    };
                }
                ctx.give_back(i, Value::Object(page));
            }
        },
        Some(&p.file),
    )
}

/// The fields `page` has beyond its summary, its HTML, its table of
/// contents and its neighbours' links: [`PageView`] without the copies.
#[derive(serde::Serialize)]
struct PageFields<'a> {
    slug: &'a str,
    assets: Vec<&'a str>,
    syndication: Vec<SyndicationLink>,
    comments: Option<Value>,
    lang: &'a str,
}

impl PageFields<'_> {
    /// Adds what a template sees of the fields to `k`.
    fn add_to(&self, k: &mut InputKey) {
        k.str(self.slug)
            .str(self.lang)
            .u128(self.assets.len() as u128);
        for a in &self.assets {
            k.str(a);
        }
        k.json(&self.syndication).json(&self.comments);
    }
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
    let ctx = Ctx::new(site, templates, None);
    let syndication = crate::syndicate::syndication_links(site)?
        .remove(&p.rel)
        .unwrap_or_default();
    // This page's comment section alone, as `comments::views_for_site`
    // makes it for every page.
    let comments = crate::comments::view_for_page(site, p)?;
    match make_page(&ctx, index, p, syndication, comments).1 {
        Made::Fresh(html, _) => Ok(html?),
        Made::Kept(_) => unreachable!("nothing is kept without a previous build"),
    }
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

/// How many pagers on each side of the current one `paginator.pagers` lists.
pub const PAGER_WINDOW: usize = 2;

/// One pager of a list: its URL path, its pages, and what its paginator is
/// made of.
struct Pager<'a> {
    path: String,
    items: &'a [usize],
    /// The list's path, this pager's number (from 1), how many pagers the
    /// list has and how many items: all that [`Pager::view`] is made of,
    /// with the site's base URL (in every output's key).
    base_path: &'a str,
    index: usize,
    count: usize,
    total: usize,
}

impl Pager<'_> {
    /// The paginator a template sees, without its pages.
    fn view(&self, c: &crate::config::Config) -> PaginatorView {
        let (k, n) = (self.index, self.count);
        let link = |k: usize| c.url(&pager_path(self.base_path, k));
        // A window of pagers around this one: listing all of them on
        // every pager would grow with the square of the list.
        let window = k.saturating_sub(PAGER_WINDOW).max(1)..=(k + PAGER_WINDOW).min(n);
        PaginatorView {
            pages: Vec::new(),
            current_index: k,
            number_pagers: n,
            total_pages: self.total,
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
        }
    }
}

/// The URL path of pager `k` (from 1) of the list at `base_path`.
fn pager_path(base_path: &str, k: usize) -> String {
    if k == 1 {
        base_path.to_string()
    } else {
        format!("{base_path}page/{k}/")
    }
}

/// Splits `items` into pagers of `per` (0: one pager) under `base_path`.
fn paginate<'a>(items: &'a [usize], per: usize, base_path: &'a str) -> Vec<Pager<'a>> {
    let per = if per == 0 { items.len().max(1) } else { per };
    let chunks: Vec<&[usize]> = if items.is_empty() {
        vec![&[][..]]
    } else {
        items.chunks(per).collect()
    };
    let count = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| Pager {
            path: pager_path(base_path, i + 1),
            items: chunk,
            base_path,
            index: i + 1,
            count,
            total: items.len(),
        })
        .collect()
}

/// Step: the home page and every section, paginated.
fn render_sections<'a>(ctx: &Ctx<'a>, out: &mut Out<'a>) {
    let site = ctx.site;
    let c = &site.config;
    for (dir, s) in &site.content.sections {
        let listing = ctx.listing(dir);
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
        let listing = s.listed(listing);
        let owner: Cow<'_, Path> = match &s.file {
            Some(file) => Cow::Borrowed(file),
            None => Cow::Owned(Path::new(crate::content::CONTENT_DIR).join(dir)),
        };
        // What every pager of the section shares, serialized once.
        let mut shared = ctx.base.with("feeds", &feeds);
        shared.insert("section", &view);
        let made: Vec<(String, Made)> = paginate(listing, per, &s.path)
            .into_par_iter()
            .map(|pager| ctx.make_pager(pager, template, &shared, &[], s.file.as_deref()))
            .chain(first_pager_redirect(ctx, per, &s.path, s.file.as_deref()))
            .collect();
        for made in made {
            out.add_made(made, owner.clone());
        }
    }
}

/// Step: a list page per taxonomy and a paginated page per term.
fn render_taxonomies<'a>(ctx: &Ctx<'a>, out: &mut Out<'a>) {
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
        // The taxonomy with all its terms, serialized once for all its
        // pagers; with the site's feeds, as the base context has them.
        let tax_shared = ctx.base.with("taxonomy", &view);
        let list = ctx.make(
            &tax_path,
            "taxonomy_list.html",
            &tax_shared,
            |_| {},
            || Ok(Vec::new()),
            drop,
            None,
        );
        out.add_made(list, owner);
        let per = tc_cfg.paginate_by.unwrap_or(c.paginate_by);
        // Every term's pages share the taxonomy; each term brings its own
        // `term` and `feeds`. A shared context per term was a copy of the
        // taxonomy, all its terms, per term: quadratic in the terms.
        let term_shared = tax_shared.without("feeds");
        let made: Vec<Vec<(String, Made)>> = t
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
                let own = [
                    (
                        "term",
                        serde_json::to_value(term_view).expect("views serialize"),
                    ),
                    (
                        "feeds",
                        serde_json::to_value(&feeds).expect("views serialize"),
                    ),
                ];
                paginate(&term.pages, per, &term_path)
                    .into_iter()
                    .map(|pager| {
                        ctx.make_pager(pager, "taxonomy_term.html", &term_shared, &own, None)
                    })
                    .chain(first_pager_redirect(ctx, per, &term_path, None))
                    .collect()
            })
            .collect();
        for made in made.into_iter().flatten() {
            out.add_made(made, owner);
        }
    }
}

/// Step: `404.html`.
fn render_404<'a>(ctx: &Ctx<'a>, out: &mut Out<'a>) {
    let made = ctx.make(
        "/404.html",
        "404.html",
        &ctx.base,
        |_| {},
        || Ok(Vec::new()),
        drop,
        None,
    );
    out.add_made(made, Path::new("templates/404.html"));
}

/// Step: a redirect page at every alias.
fn render_aliases<'a>(ctx: &Ctx<'a>, out: &mut Out<'a>) {
    for p in &ctx.site.content.pages {
        for (alias, _) in &p.aliases {
            let made = redirect(ctx, alias, &p.path, Some(&p.file));
            out.add_made(made, &p.file);
        }
    }
}

/// The redirect from a paginated list's `page/1/` to the list itself, as
/// Hugo and Zola write it (none for a list that is not paginated).
fn first_pager_redirect(
    ctx: &Ctx<'_>,
    per: usize,
    list_path: &str,
    for_file: Option<&Path>,
) -> Option<(String, Made)> {
    (per > 0).then(|| redirect(ctx, &format!("{list_path}page/1/"), list_path, for_file))
}

/// The page at the URL path `from` that sends readers to the URL path `to`.
fn redirect(ctx: &Ctx<'_>, from: &str, to: &str, for_file: Option<&Path>) -> (String, Made) {
    let url = ctx.site.config.url(to);
    // The refresh goes to the path on the same host, so a redirect also
    // works on the dev server and on preview deployments.
    let path = reqwest::Url::parse(&url)
        .map(|u| u.path().to_string())
        .unwrap_or_else(|_| to.to_string());
    ctx.make(
        from,
        "alias.html",
        &ctx.base,
        |k| {
            k.str(&url).str(&path);
        },
        || {
            Ok(vec![
                ("redirect_to", Value::from(url.clone())),
                ("redirect_path", Value::from(path.clone())),
            ])
        },
        drop,
        for_file,
    )
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
