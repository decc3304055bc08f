//! The lists: sections and taxonomy terms, paginated.

use super::ctx::{Ctx, Made};
use super::out::Out;
use super::redirects::redirect;
use super::views::{feed_views, section_view, PagerLink, PaginatorView, TaxonomyView, TermView};
use crate::content::sort_pages;
use crate::site::Site;
use rayon::prelude::*;
use std::borrow::Cow;
use std::path::Path;

/// The pages a section lists: its own and its subsections', in its order.
/// The root section lists every dated page of the site.
pub(super) fn section_listing(site: &Site, dir: &str) -> Vec<usize> {
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
pub(super) struct Pager<'a> {
    pub(super) path: String,
    pub(super) items: &'a [usize],
    /// The list's path, this pager's number (from 1), how many pagers the
    /// list has and how many items: all that [`Pager::view`] is made of,
    /// with the site's base URL (in every output's key).
    pub(super) base_path: &'a str,
    pub(super) index: usize,
    pub(super) count: usize,
    pub(super) total: usize,
}

impl Pager<'_> {
    /// The paginator a template sees, without its pages.
    pub(super) fn view(&self, c: &crate::config::Config) -> PaginatorView {
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
pub(super) fn pager_path(base_path: &str, k: usize) -> String {
    if k == 1 {
        base_path.to_string()
    } else {
        format!("{base_path}page/{k}/")
    }
}

/// Splits `items` into pagers of `per` (0: one pager) under `base_path`.
pub(super) fn paginate<'a>(items: &'a [usize], per: usize, base_path: &'a str) -> Vec<Pager<'a>> {
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
pub(super) fn render_sections<'a>(ctx: &Ctx<'a>, out: &mut Out<'a>) {
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
pub(super) fn render_taxonomies<'a>(ctx: &Ctx<'a>, out: &mut Out<'a>) {
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

/// The redirect from a paginated list's `page/1/` to the list itself, as
/// Hugo and Zola write it (none for a list that is not paginated).
pub(super) fn first_pager_redirect(
    ctx: &Ctx<'_>,
    per: usize,
    list_path: &str,
    for_file: Option<&Path>,
) -> Option<(String, Made)> {
    (per > 0).then(|| redirect(ctx, &format!("{list_path}page/1/"), list_path, for_file))
}
