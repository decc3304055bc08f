//! Step: `sitemap.xml` (sitemaps.org protocol) and `robots.txt`.

use super::{Ctx, Out};
use crate::site::Site;
use quick_xml::escape::escape;
use std::fmt::Write;
use std::path::Path;

pub(super) fn render_sitemap<'a>(ctx: &Ctx<'a>, out: &mut Out<'a>) {
    let site = ctx.site;
    let c = &site.config;
    let mut urls: Vec<(String, Option<String>)> = Vec::new();
    // Not chrono's `format`, which parses its pattern again for each of
    // ten thousand pages.
    let day = |d: &chrono::DateTime<chrono::FixedOffset>| {
        use chrono::Datelike;
        format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
    };
    for p in &site.content.pages {
        urls.push((c.url(&p.path), p.updated.or(p.date).as_ref().map(day)));
    }
    // Every pager of a list is a page readers and crawlers reach.
    let pagers = |base: &str,
                  count: usize,
                  per: usize,
                  lastmod: Option<String>,
                  urls: &mut Vec<(String, Option<String>)>| {
        let n = if per == 0 || count == 0 {
            1
        } else {
            count.div_ceil(per)
        };
        for k in 2..=n {
            urls.push((c.url(&super::pager_path(base, k)), lastmod.clone()));
        }
    };
    for (dir, s) in &site.content.sections {
        let listing = ctx.listing(dir);
        let newest = listing
            .iter()
            .filter_map(|&i| {
                let p = &site.content.pages[i];
                p.updated.or(p.date)
            })
            .max();
        urls.push((c.url(&s.path), newest.as_ref().map(day)));
        pagers(
            &s.path,
            listing.len(),
            s.paginate_by.unwrap_or(c.paginate_by),
            newest.as_ref().map(day),
            &mut urls,
        );
    }
    for t in &site.taxonomies {
        urls.push((c.url(&Site::taxonomy_path(&t.name)), None));
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
            urls.push((c.url(&path), newest.as_ref().map(day)));
            let per = c
                .taxonomy(&t.name)
                .and_then(|tc| tc.paginate_by)
                .unwrap_or(c.paginate_by);
            pagers(
                &path,
                term.pages.len(),
                per,
                newest.as_ref().map(day),
                &mut urls,
            );
        }
    }
    urls.sort();
    urls.dedup_by(|a, b| a.0 == b.0);

    let mut xml = String::with_capacity(urls.len() * 100 + 200);
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for (loc, lastmod) in &urls {
        let _ = write!(xml, "  <url>\n    <loc>{}</loc>\n", escape(loc.as_str()));
        if let Some(m) = lastmod {
            let _ = writeln!(xml, "    <lastmod>{m}</lastmod>");
        }
        xml.push_str("  </url>\n");
    }
    xml.push_str("</urlset>\n");
    let owner = Path::new(crate::config::CONFIG_FILE);
    out.add_file("sitemap.xml".into(), xml, owner);
    let robots = format!(
        "User-agent: *\nAllow: /\n\nSitemap: {}\n",
        c.url("/sitemap.xml")
    );
    out.add_file("robots.txt".into(), robots, owner);
}
