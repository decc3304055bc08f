//! What every step of the render reads: the site, the templates, what may
//! be kept from the last build, and each page's summary, made when needed.

use super::context::{Shared, Vars};
use super::lists::{section_listing, Pager};
use super::summaries::Summaries;
use super::views::{feed_views, page_summary, section_link, site_view, PaginatorView};
use super::Reuse;
use crate::error::{Diagnostic, Result};
use crate::input_key::InputKey;
use crate::output::{Kept, Output};
use crate::site::Site;
use crate::templates::Templates;
use rayon::prelude::*;
use serde_json::Value;
use std::path::Path;

/// What every step reads.
pub(super) struct Ctx<'a> {
    pub site: &'a Site,
    pub templates: &'a Templates,
    /// `Some` when outputs are keyed (see [`super::render_over`]).
    pub(super) reuse: Option<Reuse<'a>>,
    /// `PageSummaryView` of every page, by page index, made when first
    /// needed: a rebuild that keeps a list never makes its pages' summaries.
    pub(super) summaries: Summaries,
    /// The input key of each summary (empty when outputs are not keyed).
    pub(super) summary_keys: Vec<u128>,
    /// The input key of the site's configuration.
    pub(super) config_key: u128,
    /// Each page's position in its section's list (by page index), so a
    /// page finds its neighbours without searching the list: a search per
    /// page is quadratic in a section's size.
    pub positions: Vec<Option<usize>>,
    /// `site` and the site's feeds, serialized once: each template's context
    /// starts as a copy of it.
    pub(super) base: Shared,
    /// Each section's list of pages (see [`section_listing`]), by folder,
    /// made once for the lists, the feeds and the sitemap.
    pub(super) listings: std::collections::BTreeMap<&'a str, std::sync::OnceLock<Vec<usize>>>,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(site: &'a Site, templates: &'a Templates, reuse: Option<Reuse<'a>>) -> Self {
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
    pub(super) fn lend_summary(&self, i: usize) -> Value {
        self.summaries.lend(i, || {
            let p = &self.site.content.pages[i];
            serde_json::to_value(page_summary(self.site, p)).expect("views serialize")
        })
    }

    pub(super) fn give_back(&self, i: usize, summary: Value) {
        self.summaries.give_back(i, summary);
    }

    /// The output `file`, when the last build wrote it from inputs of this
    /// `key` and it is still as that build left it.
    pub(super) fn kept(&self, file: &str, key: Option<u128>) -> Option<Kept> {
        let previous = self.reuse.and_then(|r| r.previous)?;
        previous.reuse(file, key?)
    }

    /// The output `file` of this `key`: kept (see [`Ctx::kept`]), or else
    /// made by `make`.
    pub(super) fn kept_or(
        &self,
        file: &str,
        key: Option<u128>,
        make: impl FnOnce() -> String,
    ) -> Made {
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
    pub(super) fn make(
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
        let (html, vars) = super::context::render(self.templates, template, shared, vars, for_file);
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
    pub(super) fn make_pager(
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
pub(super) enum Made {
    Fresh(Result<String, Diagnostic>, Option<u128>),
    Kept(Kept),
}

/// The paginator as JSON, with the summaries of its pages (`items`) lent
/// (see [`Ctx::lend_summary`]).
pub(super) fn paginator_value(p: &PaginatorView, items: &[usize], ctx: &Ctx<'_>) -> Value {
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
pub(super) fn summary_keys(site: &Site, config: u128) -> Vec<u128> {
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
pub(super) fn section_positions(site: &Site) -> Vec<Option<usize>> {
    let mut positions = vec![None; site.content.pages.len()];
    for s in site.content.sections.values() {
        for (k, &j) in s.pages.iter().enumerate() {
            positions[j] = Some(k);
        }
    }
    positions
}
