//! The pages: each entry's own page, and `404.html`.

use super::ctx::{Ctx, Made};
use super::out::Out;
use super::views::{page_link, page_summary, SyndicationLink};
use crate::content::Page;
use crate::error::{Error, Result};
use crate::input_key::InputKey;
use crate::site::Site;
use crate::templates::Templates;
use rayon::prelude::*;
use serde_json::Value;
use std::borrow::Cow;
use std::path::Path;

/// The template a page asks for: its own, its section's `page_template`, or `page.html`.
pub(super) fn page_template<'a>(site: &'a Site, p: &'a Page) -> &'a str {
    p.template
        .as_deref()
        .or(site.content.sections[&p.section].page_template.as_deref())
        .unwrap_or("page.html")
}

/// Step: one HTML file per page, rendered in parallel.
pub(super) fn render_pages<'a>(ctx: &Ctx<'a>, out: &mut Out<'a>) {
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
pub(super) fn make_page(
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
/// contents and its neighbours' links: [`super::views::PageView`] without the copies.
#[derive(serde::Serialize)]
pub(super) struct PageFields<'a> {
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

/// Renders the HTML of one page alone, as [`super::render`] does, for the dev
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

/// Step: `404.html`.
pub(super) fn render_404<'a>(ctx: &Ctx<'a>, out: &mut Out<'a>) {
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
