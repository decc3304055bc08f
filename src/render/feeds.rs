//! Step: Atom 1.0, RSS 2.0 and JSON Feed 1.1 for the whole site, each
//! section and each taxonomy term. XML is written by the `atom_syndication`
//! and `rss` crates, so escaping is theirs, not ours.

use super::{Ctx, Made, Out};
use crate::config::{Config, FeedFormat};
use crate::content::Page;
use crate::error::Diagnostic;
use crate::input_key::InputKey;
use crate::markdown::{self, RenderOptions};
use crate::output::Output;
use crate::site::Site;
use chrono::{DateTime, FixedOffset};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One feed to write.
struct FeedSpec {
    /// Directory path the feed files go in (`/`, `/news/`, `/tags/api/`).
    dir: String,
    title: String,
    description: Option<String>,
    /// Page indexes, newest first, at most `limit`.
    entries: Vec<usize>,
}

pub(super) fn render_feeds<'a>(ctx: &Ctx<'a>, out: &mut Out<'a>) {
    let site = ctx.site;
    let c = &site.config;
    if c.feeds.formats.is_empty() {
        return;
    }
    let specs = feed_specs(ctx);
    let owner = Path::new(crate::config::CONFIG_FILE);
    // A feed file the last build wrote from the same entries is kept: the
    // entries' HTML, rendered again for feeds, is made only for the others.
    let mut to_render = Vec::new();
    for spec in &specs {
        for &format in &c.feeds.formats {
            let file = Output::file_for_url_path(&format!("{}{}", spec.dir, format.file_name()));
            let key = feed_key(ctx, spec, format);
            match ctx.kept(&file, key) {
                Some(kept) => out.add_made((file, Made::Kept(kept)), owner),
                None => to_render.push((spec, format, file, key)),
            }
        }
    }
    let needed: BTreeSet<usize> = to_render
        .iter()
        .flat_map(|(spec, ..)| spec.entries.iter().copied())
        .collect();
    let html: Vec<(usize, Result<String, Diagnostic>)> = needed
        .into_par_iter()
        .map(|i| (i, absolute_html(site, &site.content.pages[i])))
        .collect();
    let mut problems = Vec::new();
    let html: BTreeMap<usize, String> = html
        .into_iter()
        .filter_map(|(i, r)| r.map_err(|d| problems.push(d)).ok().map(|h| (i, h)))
        .collect();
    if !problems.is_empty() {
        problems.into_iter().for_each(|d| out.problem(d));
        return;
    }
    for (spec, format, file, key) in to_render {
        let bytes = match format {
            FeedFormat::Atom => atom(c, site, spec, &html),
            FeedFormat::Rss => rss(c, site, spec, &html),
            FeedFormat::Json => json(c, site, spec, &html),
        };
        let text = String::from_utf8(bytes).expect("feeds are written as UTF-8");
        out.add_made((file, Made::Fresh(Ok(text), key)), owner);
    }
}

/// The input key of a feed file (when outputs are keyed): its place, title
/// and format, the configuration, and the summary key of each entry, which
/// takes in the entry's file and its rendering (see [`super::ctx::summary_keys`]).
fn feed_key(ctx: &Ctx<'_>, spec: &FeedSpec, format: FeedFormat) -> Option<u128> {
    ctx.reuse?;
    let pages = &ctx.site.content.pages;
    // A page not read from a file is keyed by its summary, without its body.
    if spec.entries.iter().any(|&i| pages[i].text_key == 0) {
        return None;
    }
    let mut k = InputKey::new("feed");
    k.u128(ctx.config_key)
        .str(&spec.dir)
        .str(&spec.title)
        .json(&spec.description)
        .str(format.name());
    for &i in &spec.entries {
        k.u128(ctx.summary_keys[i]);
    }
    Some(k.finish())
}

fn feed_specs(ctx: &Ctx<'_>) -> Vec<FeedSpec> {
    let site = ctx.site;
    let c = &site.config;
    let limit = c.feeds.limit;
    let order = crate::content::page_order(&site.content.pages, crate::content::SortBy::Date);
    // The newest `limit` of a list's dated pages: picked, then sorted, rather
    // than the whole list sorted (ten thousand pages for the site's feed).
    let dated = |idx: &[usize]| -> Vec<usize> {
        let mut v: Vec<usize> = idx
            .iter()
            .copied()
            .filter(|&i| site.content.pages[i].date.is_some())
            .collect();
        if v.len() > limit {
            v.select_nth_unstable_by(limit, &order);
            v.truncate(limit);
        }
        v.sort_by(&order);
        v
    };
    let mut specs = vec![FeedSpec {
        dir: "/".into(),
        title: c.title.clone(),
        description: c.description.clone(),
        entries: dated(ctx.listing("")),
    }];
    if c.feeds.sections {
        for (dir, s) in site.content.sections.iter().filter(|(d, _)| !d.is_empty()) {
            specs.push(FeedSpec {
                dir: s.path.clone(),
                title: format!("{} — {}", s.title, c.title),
                description: s.description.clone().or_else(|| c.description.clone()),
                entries: dated(ctx.listing(dir)),
            });
        }
    }
    if c.feeds.taxonomies {
        for t in &site.taxonomies {
            if !c.taxonomy(&t.name).is_some_and(|tc| tc.feed) {
                continue;
            }
            for term in &t.terms {
                specs.push(FeedSpec {
                    dir: Site::term_path(&t.name, &term.slug),
                    title: format!("{} — {}", term.name, c.title),
                    description: c.description.clone(),
                    entries: dated(&term.pages),
                });
            }
        }
    }
    specs
}

/// The page's HTML with every relative URL made absolute, as feed readers
/// need; an error when its file cannot be read again.
fn absolute_html(site: &Site, page: &Page) -> Result<String, Diagnostic> {
    let c = &site.config;
    let base =
        reqwest::Url::parse(&c.url(&page.path)).expect("base_url is validated as an absolute URL");
    let resolve = |target: &str| {
        site.content
            .link_targets()
            .get(target)
            .map(|path| c.url(path))
    };
    let opts = RenderOptions {
        smart_punctuation: c.markdown.smart_punctuation,
        heading_anchors: false,
        resolve: &resolve,
        absolute_base: Some(&base),
        // Feed readers lay out images themselves.
        image_size: None,
    };
    // The page rendered once already, so its links resolve.
    let body = page.markdown(&site.root)?;
    Ok(markdown::render(&body, &opts)
        .map(|r| r.html)
        .unwrap_or_else(|_| page.rendered.html.clone()))
}

fn updated(p: &Page) -> Option<DateTime<FixedOffset>> {
    p.updated.or(p.date)
}

/// The newest change among the entries: the feed's own date, so that two
/// builds of the same content give the same bytes.
fn feed_updated(site: &Site, spec: &FeedSpec) -> DateTime<FixedOffset> {
    spec.entries
        .iter()
        .filter_map(|&i| updated(&site.content.pages[i]))
        .max()
        .unwrap_or_else(|| DateTime::UNIX_EPOCH.fixed_offset())
}

fn feed_url(c: &Config, spec: &FeedSpec, f: FeedFormat) -> String {
    c.url(&format!("{}{}", spec.dir, f.file_name()))
}

fn atom(c: &Config, site: &Site, spec: &FeedSpec, html: &BTreeMap<usize, String>) -> Vec<u8> {
    use atom_syndication::{Category, Content, Entry, Feed, Link, Person, Text};
    let person = |name: &str| Person {
        name: name.to_string(),
        ..Default::default()
    };
    let link = |href: String, rel: &str, mime: &str| Link {
        href,
        rel: rel.to_string(),
        mime_type: Some(mime.to_string()),
        ..Default::default()
    };
    let entries: Vec<Entry> = spec
        .entries
        .iter()
        .map(|&i| {
            let p = &site.content.pages[i];
            let url = c.url(&p.path);
            Entry {
                title: Text::plain(p.title.clone()),
                id: url.clone(),
                updated: updated(p).expect("feeds carry dated pages"),
                published: p.date,
                authors: p.authors.iter().map(|a| person(a)).collect(),
                links: vec![link(url, "alternate", "text/html")],
                summary: p.description.clone().map(Text::plain),
                categories: p
                    .taxonomies
                    .get("tags")
                    .into_iter()
                    .flatten()
                    .map(|t| Category {
                        term: t.clone(),
                        ..Default::default()
                    })
                    .collect(),
                content: Some(Content {
                    value: Some(html[&i].clone()),
                    content_type: Some("html".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }
        })
        .collect();
    let feed = Feed {
        title: Text::plain(spec.title.clone()),
        id: feed_url(c, spec, FeedFormat::Atom),
        updated: feed_updated(site, spec),
        authors: vec![person(c.author.as_deref().unwrap_or(&c.title))],
        links: vec![
            link(
                feed_url(c, spec, FeedFormat::Atom),
                "self",
                FeedFormat::Atom.mime(),
            ),
            link(c.url(&spec.dir), "alternate", "text/html"),
        ],
        subtitle: spec.description.clone().map(Text::plain),
        lang: Some(c.language.clone()),
        entries,
        ..Default::default()
    };
    let mut out = feed
        .write_to(Vec::new())
        .expect("writing XML to memory cannot fail");
    out.push(b'\n');
    out
}

fn rss(c: &Config, site: &Site, spec: &FeedSpec, html: &BTreeMap<usize, String>) -> Vec<u8> {
    use rss::extension::atom::{AtomExtension, Link};
    use rss::{Category, Channel, Guid, Item};
    let items: Vec<Item> = spec
        .entries
        .iter()
        .map(|&i| {
            let p = &site.content.pages[i];
            let url = c.url(&p.path);
            Item {
                title: Some(p.title.clone()),
                link: Some(url.clone()),
                guid: Some(Guid {
                    value: url,
                    permalink: true,
                }),
                pub_date: p.date.map(|d| d.to_rfc2822()),
                description: Some(html[&i].clone()),
                categories: p
                    .taxonomies
                    .get("tags")
                    .into_iter()
                    .flatten()
                    .map(|t| Category {
                        name: t.clone(),
                        domain: None,
                    })
                    .collect(),
                ..Default::default()
            }
        })
        .collect();
    let mut atom_ext = AtomExtension::default();
    atom_ext.set_links(vec![Link {
        href: feed_url(c, spec, FeedFormat::Rss),
        rel: "self".into(),
        mime_type: Some(FeedFormat::Rss.mime().into()),
        ..Default::default()
    }]);
    let channel = Channel {
        title: spec.title.clone(),
        link: c.url(&spec.dir),
        description: spec
            .description
            .clone()
            .unwrap_or_else(|| spec.title.clone()),
        language: Some(c.language.clone()),
        last_build_date: Some(feed_updated(site, spec).to_rfc2822()),
        generator: Some("Herald".into()),
        atom_ext: Some(atom_ext),
        items,
        ..Default::default()
    };
    let mut out = channel
        .write_to(Vec::new())
        .expect("writing XML to memory cannot fail");
    out.push(b'\n');
    out
}

fn json(c: &Config, site: &Site, spec: &FeedSpec, html: &BTreeMap<usize, String>) -> Vec<u8> {
    use serde_json::{json, Map, Value};
    let items: Vec<Value> = spec
        .entries
        .iter()
        .map(|&i| {
            let p = &site.content.pages[i];
            let url = c.url(&p.path);
            let mut item = Map::new();
            item.insert("id".into(), json!(url));
            item.insert("url".into(), json!(url));
            item.insert("title".into(), json!(p.title));
            item.insert("content_html".into(), json!(html[&i]));
            if let Some(d) = &p.description {
                item.insert("summary".into(), json!(d));
            }
            if let Some(d) = &p.date {
                item.insert("date_published".into(), json!(super::views::rfc3339(d)));
            }
            if let Some(d) = &p.updated {
                item.insert("date_modified".into(), json!(super::views::rfc3339(d)));
            }
            if let Some(tags) = p.taxonomies.get("tags").filter(|t| !t.is_empty()) {
                item.insert("tags".into(), json!(tags));
            }
            if !p.authors.is_empty() {
                item.insert(
                    "authors".into(),
                    json!(p
                        .authors
                        .iter()
                        .map(|a| json!({ "name": a }))
                        .collect::<Vec<_>>()),
                );
            }
            Value::Object(item)
        })
        .collect();
    let mut feed = Map::new();
    feed.insert("version".into(), json!("https://jsonfeed.org/version/1.1"));
    feed.insert("title".into(), json!(spec.title));
    feed.insert("home_page_url".into(), json!(c.url(&spec.dir)));
    feed.insert(
        "feed_url".into(),
        json!(feed_url(c, spec, FeedFormat::Json)),
    );
    if let Some(d) = &spec.description {
        feed.insert("description".into(), json!(d));
    }
    feed.insert("language".into(), json!(c.language));
    feed.insert(
        "authors".into(),
        json!([{ "name": c.author.as_deref().unwrap_or(&c.title) }]),
    );
    feed.insert("items".into(), Value::Array(items));
    let mut out = serde_json::to_vec_pretty(&Value::Object(feed)).expect("JSON values serialize");
    out.push(b'\n');
    out
}
