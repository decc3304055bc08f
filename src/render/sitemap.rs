//! Step: `sitemap.xml` (sitemaps.org protocol) and `robots.txt`.

use super::{Ctx, Out};
use crate::input_key::InputKey;
use crate::site::Site;
use quick_xml::escape::escape;
use std::borrow::Cow;
use std::fmt::Write;
use std::path::Path;

/// A day as year, month and day.
type Day = Option<(i32, u32, u32)>;

pub(super) fn render_sitemap<'a>(ctx: &Ctx<'a>, out: &mut Out<'a>) {
    let site = ctx.site;
    let c = &site.config;
    // Each URL path with the day it last changed, kept as numbers: the
    // sitemap is written only when they changed (a page's text alone does
    // not change it), and formatting ten thousand URLs to find that out
    // was most of its cost.
    let mut urls: Vec<(Cow<'_, str>, Day)> = Vec::new();
    let day = |d: Option<chrono::DateTime<chrono::FixedOffset>>| -> Day {
        use chrono::Datelike;
        d.map(|d| (d.year(), d.month(), d.day()))
    };
    for p in &site.content.pages {
        urls.push((Cow::Borrowed(&p.path), day(p.updated.or(p.date))));
    }
    // Every pager of a list is a page readers and crawlers reach.
    let pagers = |base: &str, count: usize, per: usize, lastmod: Day, urls: &mut Vec<_>| {
        let n = if per == 0 || count == 0 {
            1
        } else {
            count.div_ceil(per)
        };
        for k in 2..=n {
            urls.push((Cow::Owned(super::lists::pager_path(base, k)), lastmod));
        }
    };
    for (dir, s) in &site.content.sections {
        let listing = ctx.listing(dir);
        let listing = s.listed(listing);
        let newest = listing
            .iter()
            .filter_map(|&i| {
                let p = &site.content.pages[i];
                p.updated.or(p.date)
            })
            .max();
        urls.push((Cow::Borrowed(&s.path), day(newest)));
        let per = s.paginate_by.unwrap_or(c.paginate_by);
        pagers(&s.path, listing.len(), per, day(newest), &mut urls);
    }
    for t in &site.taxonomies {
        urls.push((Cow::Owned(Site::taxonomy_path(&t.name)), None));
        for term in &t.terms {
            let newest = term
                .pages
                .iter()
                .filter_map(|&i| {
                    let p = &site.content.pages[i];
                    p.updated.or(p.date)
                })
                .max();
            let path = Site::term_path(&t.name, &term.slug);
            let per = c
                .taxonomy(&t.name)
                .and_then(|tc| tc.paginate_by)
                .unwrap_or(c.paginate_by);
            pagers(&path, term.pages.len(), per, day(newest), &mut urls);
            urls.push((Cow::Owned(path), day(newest)));
        }
    }
    // Every URL has the same base: sorted by path, they are sorted.
    urls.sort_unstable();
    urls.dedup_by(|a, b| a.0 == b.0);

    let key = ctx.reuse.map(|_| {
        let mut k = InputKey::new("sitemap");
        k.u128(ctx.config_key);
        for (path, day) in &urls {
            k.str(path).json(day);
        }
        k.finish()
    });
    let owner = Path::new(crate::config::CONFIG_FILE);
    let file = String::from("sitemap.xml");
    let made = ctx.kept_or(&file, key, || sitemap_xml(c, &urls));
    out.add_made((file, made), owner);
    let robots = format!(
        "User-agent: *\nAllow: /\n\nSitemap: {}\n",
        c.url("/sitemap.xml")
    );
    // Keyed by its own text, which is all it is made of: a rebuild (and
    // the dev server) keeps it like any other file.
    let key = ctx
        .reuse
        .map(|_| InputKey::new("robots.txt").str(&robots).finish());
    let file = String::from("robots.txt");
    let made = ctx.kept_or(&file, key, || robots);
    out.add_made((file, made), owner);
}

/// The sitemap of `urls` (sorted URL paths, with the day each last changed).
fn sitemap_xml(c: &crate::config::Config, urls: &[(Cow<'_, str>, Day)]) -> String {
    let mut xml = String::with_capacity(urls.len() * 100 + 200);
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for (path, lastmod) in urls {
        let loc = c.url(path);
        let _ = write!(xml, "  <url>\n    <loc>{}</loc>\n", escape(loc.as_str()));
        if let Some((y, m, d)) = lastmod {
            let _ = writeln!(xml, "    <lastmod>{y:04}-{m:02}-{d:02}</lastmod>");
        }
        xml.push_str("  </url>\n");
    }
    xml.push_str("</urlset>\n");
    xml
}
