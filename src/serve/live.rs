//! The site as the dev server holds it: configuration, templates, content
//! and the rendered output, kept between rebuilds so that a change redoes
//! only what it affects.
//!
//! | change | reloads | re-renders |
//! | --- | --- | --- |
//! | `site.toml` | config, templates, content | what it changed |
//! | a template | templates | what uses it (content kept) |
//! | Markdown | content | what shows it (templates kept) |
//! | a static file added or removed | the static file list | nothing |
//! | an existing static file edited | nothing (served from disk) | nothing |
//!
//! What is re-rendered is found as `herald build` finds it: each rendered
//! file has an input key, and a file whose key the last good build also
//! made is taken from that build (see [`crate::output::Previous::in_memory`]).
//! A reload of the content uses the page and Markdown caches, so only the
//! Markdown files that changed are parsed and rendered again.
//!
//! A failed step leaves its part marked stale, so the next change retries
//! it: fixing a template never hides a Markdown file that is still broken.

use super::watch::Changes;
use crate::commands::BuildOptions;
use crate::config::Config;
use crate::error::{Diagnostic, Error, Result};
use crate::output::Output;
use crate::site::Site;
use crate::templates::Templates;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Pages rendered ahead of the rest of the site: output file → HTML.
pub type Ahead = BTreeMap<String, Vec<u8>>;

/// True when an edited page keeps its address, its place among its
/// neighbours and everything that decides which files exist: then it can
/// be rendered alone, first, and the rest of the site after.
fn same_place(old: &crate::content::Page, new: &crate::content::Page) -> bool {
    old.path == new.path
        && old.section == new.section
        && old.slug == new.slug
        && old.title == new.title
        && old.date == new.date
        && old.weight == new.weight
        && old.draft == new.draft
        && old.template == new.template
        && old
            .aliases
            .iter()
            .map(|a| &a.0)
            .eq(new.aliases.iter().map(|a| &a.0))
}

/// What a rebuild did, for the terminal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rebuilt {
    /// `site.toml` was read again.
    pub config: bool,
    /// Templates were read again.
    pub templates: bool,
    /// `content/` was read again.
    pub content: bool,
    /// Pages were rendered (how many HTML and other rendered files).
    pub rendered: Option<usize>,
    /// The list of static files was walked again.
    pub statics: bool,
    /// Only the edited pages were rendered, ahead of the rest.
    pub ahead: bool,
}

#[derive(Debug, Clone, Copy)]
struct Stale {
    config: bool,
    templates: bool,
    content: bool,
    render: bool,
    statics: bool,
}

impl Stale {
    const ALL: Stale = Stale {
        config: true,
        templates: true,
        content: true,
        render: true,
        statics: true,
    };
}

/// The live site.
pub struct LiveSite {
    opts: BuildOptions,
    config: Option<Config>,
    templates: Option<Arc<Templates>>,
    site: Option<Arc<Site>>,
    documents: Arc<Output>,
    statics: Arc<Output>,
    stale: Stale,
}

impl LiveSite {
    /// A site with nothing loaded yet; [`LiveSite::rebuild`] loads it.
    pub fn new(opts: BuildOptions) -> Self {
        LiveSite {
            opts,
            config: None,
            templates: None,
            site: None,
            documents: Arc::default(),
            statics: Arc::default(),
            stale: Stale::ALL,
        }
    }

    /// The rendered pages, feeds and bundle assets of the last good build.
    pub fn documents(&self) -> Arc<Output> {
        self.documents.clone()
    }

    /// The static files of the last good build (they win over documents).
    pub fn statics(&self) -> Arc<Output> {
        self.statics.clone()
    }

    /// The loaded site and templates, once both loaded.
    pub fn loaded(&self) -> Option<(Arc<Site>, Arc<Templates>)> {
        Some((self.site.clone()?, self.templates.clone()?))
    }

    /// Brings the site up to date after `changes` (everything, the first
    /// time). On error the last good output stays in place.
    pub fn rebuild(&mut self, changes: &Changes) -> Result<Rebuilt> {
        let s = &mut self.stale;
        s.config |= changes.config;
        s.templates |= changes.templates;
        s.content |= changes.content;
        s.statics |= changes.static_set;
        // Each move only goes forward once what it needs is loaded.
        let mut done = Rebuilt::default();
        if self.stale.config {
            let mut config = Config::load(&self.opts.root)?;
            if let Some(url) = &self.opts.base_url {
                config.base_url = url.trim_end_matches('/').to_string();
            }
            self.config = Some(config);
            self.stale = Stale::ALL;
            self.stale.config = false;
            done.config = true;
        }
        let config = self
            .config
            .as_ref()
            .ok_or_else(|| Error::Other("site.toml is not loaded".into()))?;

        let load_templates = self.stale.templates || self.templates.is_none();
        let load_content = self.stale.content || self.site.is_none();
        // "Now" moves on while the server runs: a scheduled entry appears
        // at its time (with --no-future) on the next rebuild.
        let load_options = crate::content::LoadOptions {
            drafts: self.opts.drafts,
            future: self.opts.future,
            now: chrono::Utc::now().fixed_offset(),
            // A reload uses the caches `herald build` keeps, and parses and
            // renders again only the Markdown files that changed. Not the
            // first load, which renders every page anyway: reading and
            // writing the caches made it 10 % slower (about 80 ms at 10,000
            // posts).
            cache: self.site.is_some(),
        };
        let root = &self.opts.root;
        // Content and templates load side by side, and report together.
        let (site, templates) = rayon::join(
            || load_content.then(|| Site::load_with_config(root, config.clone(), &load_options)),
            || load_templates.then(|| Templates::load(root, config)),
        );
        let mut problems: Vec<Diagnostic> = Vec::new();
        let mut fatal = None;
        match site {
            Some(Ok(site)) => {
                self.site = Some(Arc::new(site));
                self.stale.content = false;
                self.stale.render = true;
                self.stale.statics = true;
                done.content = true;
            }
            Some(Err(Error::Site(d))) => problems.extend(d),
            Some(Err(e)) => fatal = Some(e),
            None => {}
        }
        match templates {
            Some(Ok(t)) => {
                self.templates = Some(Arc::new(t));
                self.stale.templates = false;
                self.stale.render = true;
                done.templates = true;
            }
            Some(Err(Error::Site(d))) => problems.extend(d),
            Some(Err(e)) => fatal = fatal.or(Some(e)),
            None => {}
        }
        if let Some(e) = fatal {
            return Err(e);
        }
        if !problems.is_empty() {
            return Err(Error::Site(problems));
        }
        let (Some(site), Some(templates)) = (&self.site, &self.templates) else {
            return Err(Error::Other("the site is not loaded".into()));
        };
        if self.stale.render {
            // What the last good build made from the same inputs is kept.
            let earlier = crate::output::Previous::in_memory(&self.documents);
            let mut documents =
                crate::render::render_documents_over(site, templates, Some(&earlier), None, None)?;
            done.rendered = Some(documents.files.len());
            documents.keep_from(&self.documents);
            self.documents = Arc::new(documents);
            self.stale.render = false;
        }
        if self.stale.statics {
            let mut statics = Output::default();
            crate::render::add_static(site, &mut statics);
            self.statics = Arc::new(statics);
            self.stale.statics = false;
            done.statics = true;
        }
        Ok(done)
    }
}

/// The fast path for the most common save: existing entries edited in
/// place. Reads only those files and renders only their pages, against the
/// last loaded `site`, so the writer sees the edit at once whatever the
/// size of the site. Returns `None` when the change is anything else (or
/// anything goes wrong); either way a full rebuild follows, which brings
/// lists, feeds and every other page up to date.
pub fn render_ahead(
    root: &Path,
    site: &Site,
    templates: &Templates,
    changes: &Changes,
) -> Option<Ahead> {
    let only_pages = changes.content
        && !changes.config
        && !changes.templates
        && !changes.static_set
        && changes.static_edits.is_empty()
        && changes.paths.iter().all(|p| {
            p.starts_with(crate::content::CONTENT_DIR)
                && p.extension().is_some_and(|e| e == "md")
                && p.file_name().is_some_and(|n| n != "_index.md")
        });
    if !only_pages {
        return None;
    }
    let mut ahead = Ahead::new();
    for rel in &changes.paths {
        let i = site.content.pages.iter().position(|p| p.file == *rel)?;
        let mut page = crate::content::reload_page(root, &site.config, &site.content, rel).ok()?;
        let old = &site.content.pages[i];
        if !same_place(old, &page) {
            return None;
        }
        page.assets = old.assets.clone();
        let html = crate::render::render_page(site, templates, i, &page).ok()?;
        ahead.insert(Output::file_for_url_path(&page.path), html.into_bytes());
    }
    Some(ahead)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn entry(title: &str, date: &str, body: &str) -> String {
        format!("+++\ntitle = \"{title}\"\ndate = {date}\n[taxonomies]\ntags = [\"x\"]\n+++\n\n{body}\n")
    }

    fn content_edit(rel: &str) -> Changes {
        Changes {
            content: true,
            paths: vec![rel.into()],
            ..Changes::default()
        }
    }

    /// The built-in default theme, a few entries, and the live site built.
    fn site() -> (tempfile::TempDir, LiveSite) {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        write(
            root,
            "site.toml",
            "base_url = \"https://example.com\"\ntitle = \"T\"\n\n[[taxonomies]]\nname = \"tags\"\n",
        );
        write(
            root,
            "content/news/_index.md",
            "+++\ntitle = \"News\"\n+++\n",
        );
        write(
            root,
            "content/news/a.md",
            &entry("A", "2026-01-01", "First."),
        );
        write(
            root,
            "content/news/b.md",
            &entry("B", "2026-01-02", "Second, with [a link](@/news/a.md)."),
        );
        write(
            root,
            "content/news/c.md",
            &entry("C", "2026-01-03", "Third."),
        );
        let mut live = LiveSite::new(BuildOptions::new(root));
        live.rebuild(&Changes::default()).unwrap();
        (t, live)
    }

    #[test]
    fn a_page_rendered_ahead_is_the_page_the_full_rebuild_renders() {
        let (t, mut live) = site();
        let root = t.path();
        write(
            root,
            "content/news/b.md",
            &entry("B", "2026-01-02", "Second, edited: [a link](@/news/a.md)."),
        );
        let changes = content_edit("content/news/b.md");
        let (site, templates) = live.loaded().unwrap();
        let ahead = render_ahead(root, &site, &templates, &changes).expect("fast path taken");
        assert_eq!(ahead.len(), 1);
        let done = live.rebuild(&changes).unwrap();
        assert!(done.content && !done.templates && !done.config);
        let docs = live.documents();
        for (key, html) in ahead {
            let full = String::from_utf8_lossy(&docs.files[&key]).into_owned();
            assert!(full.contains("Second, edited"), "{full}");
            assert_eq!(String::from_utf8_lossy(&html), full, "{key}");
        }
    }

    /// What a server started now would serve: built with no caches.
    fn fresh(root: &Path) -> Arc<Output> {
        let _ = std::fs::remove_dir_all(root.join(".herald-cache"));
        let mut live = LiveSite::new(BuildOptions::new(root));
        live.rebuild(&Changes::default()).unwrap();
        live.documents()
    }

    fn assert_same(live: &Arc<Output>, fresh: &Arc<Output>) {
        let names = |o: &Output| o.files.keys().cloned().collect::<Vec<_>>();
        assert_eq!(names(live), names(fresh));
        for (rel, bytes) in &fresh.files {
            assert!(
                live.files[rel] == *bytes,
                "{rel} differs from a fresh build:\n{}\n---\n{}",
                String::from_utf8_lossy(&live.files[rel]),
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn a_rebuild_renders_only_what_changed_and_serves_what_a_fresh_build_would() {
        let (t, mut live) = site();
        let root = t.path();
        let all = live.documents().files.len();
        // Saved as it was: nothing is made again.
        write(
            root,
            "content/news/c.md",
            &entry("C", "2026-01-03", "Third."),
        );
        let done = live.rebuild(&content_edit("content/news/c.md")).unwrap();
        let docs = live.documents();
        assert_eq!(docs.keys.len(), docs.files.len(), "every file has a key");
        assert_eq!(done.rendered, Some(0));
        assert_same(&docs, &fresh(root));
        // A body edit: the entry's page, and the lists and feeds showing
        // its summary (all of them, in a site this small), not the others.
        write(
            root,
            "content/news/c.md",
            &entry("C", "2026-01-03", "Third, edited."),
        );
        let done = live.rebuild(&content_edit("content/news/c.md")).unwrap();
        let rendered = done.rendered.expect("rendered");
        assert!(0 < rendered && rendered < all, "{rendered} of {all}");
        let docs = live.documents();
        assert!(
            String::from_utf8_lossy(&docs.files["news/c/index.html"]).contains("Third, edited.")
        );
        assert_same(&docs, &fresh(root));
        // A new title moves the entry in the lists and renames the links
        // its neighbours show.
        write(
            root,
            "content/news/a.md",
            &entry("A renamed", "2026-01-01", "First."),
        );
        live.rebuild(&content_edit("content/news/a.md")).unwrap();
        assert_same(&live.documents(), &fresh(root));
        // A template: what uses it is rendered again.
        write(
            root,
            "templates/page.html",
            "{% extends \"base.html\" %}{% block content %}<p>{{ page.title }}</p>{% endblock %}",
        );
        let templates = Changes {
            templates: true,
            paths: vec!["templates/page.html".into()],
            ..Changes::default()
        };
        live.rebuild(&templates).unwrap();
        let docs = live.documents();
        let page = String::from_utf8_lossy(&docs.files["news/a/index.html"]).into_owned();
        assert!(page.contains("<p>A renamed</p>"), "{page}");
        assert_same(&docs, &fresh(root));
    }

    #[test]
    fn edits_that_move_an_entry_wait_for_the_full_rebuild() {
        let (t, live) = site();
        let root = t.path();
        let (site, templates) = live.loaded().unwrap();
        // A new title reorders lists and renames neighbours' links.
        write(
            root,
            "content/news/b.md",
            &entry("B2", "2026-01-02", "Second."),
        );
        let edit = content_edit("content/news/b.md");
        assert!(render_ahead(root, &site, &templates, &edit).is_none());
        // So does a new date, a section's page, or a broken file.
        write(
            root,
            "content/news/b.md",
            &entry("B", "2026-02-02", "Second."),
        );
        assert!(render_ahead(root, &site, &templates, &edit).is_none());
        let section = content_edit("content/news/_index.md");
        assert!(render_ahead(root, &site, &templates, &section).is_none());
        write(
            root,
            "content/news/b.md",
            "+++\ntitle = \"B\"\ndate = \"bad\"\n+++\n",
        );
        assert!(render_ahead(root, &site, &templates, &edit).is_none());
        // And any change besides content.
        let mut both = content_edit("content/news/c.md");
        both.templates = true;
        assert!(render_ahead(root, &site, &templates, &both).is_none());
    }

    #[test]
    fn a_failed_step_is_retried_by_the_next_rebuild() {
        let (t, mut live) = site();
        let root = t.path();
        write(
            root,
            "content/news/b.md",
            "+++\ntitle = \"B\"\ndate = \"bad\"\n+++\n",
        );
        assert!(live.rebuild(&content_edit("content/news/b.md")).is_err());
        // A template change alone must not hide the broken entry.
        write(root, "templates/404.html", "<p>gone</p>\n");
        let templates_only = Changes {
            templates: true,
            paths: vec!["templates/404.html".into()],
            ..Changes::default()
        };
        assert!(live.rebuild(&templates_only).is_err());
        write(
            root,
            "content/news/b.md",
            &entry("B", "2026-01-02", "Fixed."),
        );
        let done = live.rebuild(&templates_only).unwrap();
        assert!(done.content && done.templates);
        assert_eq!(
            String::from_utf8_lossy(&live.documents().files["404.html"]),
            "<p>gone</p>\n"
        );
    }
}
