//! What templates see: plain serializable views, documented in
//! `docs/templates.md`, built from the domain model. Themes depend on these
//! names, never on the model's.

use crate::config::{Config, FeedFormat};
use crate::content::{Page, Section};
use crate::markdown::Heading;
use crate::site::Site;
use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// RFC 3339 with `Z` for UTC, as templates and feeds print it.
pub fn rfc3339(d: &DateTime<FixedOffset>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A link to a page or section.
#[derive(Debug, Clone, Serialize)]
pub struct LinkView {
    pub title: String,
    pub permalink: String,
    pub path: String,
}

/// A feed link.
#[derive(Debug, Clone, Serialize)]
pub struct FeedView {
    pub format: &'static str,
    pub mime: &'static str,
    pub title: String,
    pub permalink: String,
}

/// `site`
#[derive(Debug, Clone, Serialize)]
pub struct SiteView {
    pub title: String,
    pub description: Option<String>,
    pub base_url: String,
    pub language: String,
    pub author: Option<String>,
    pub extra: Value,
    pub sections: Vec<LinkView>,
    pub taxonomies: Vec<NamedLink>,
    pub feeds: Vec<FeedView>,
}

/// `{name, permalink}`
#[derive(Debug, Clone, Serialize)]
pub struct NamedLink {
    pub name: String,
    pub permalink: String,
}

/// A taxonomy term as a link.
#[derive(Debug, Clone, Serialize)]
pub struct TermLink {
    pub name: String,
    pub slug: String,
    pub permalink: String,
}

/// A term with its number of pages.
#[derive(Debug, Clone, Serialize)]
pub struct TermView {
    pub name: String,
    pub slug: String,
    pub permalink: String,
    pub count: usize,
}

/// `taxonomy`
#[derive(Debug, Clone, Serialize)]
pub struct TaxonomyView {
    pub name: String,
    pub permalink: String,
    pub terms: Vec<TermView>,
}

/// An entry in a list (the paginator's `pages`).
#[derive(Debug, Clone, Serialize)]
pub struct PageSummaryView {
    pub title: String,
    pub description: Option<String>,
    pub permalink: String,
    pub path: String,
    pub date: Option<String>,
    pub updated: Option<String>,
    pub draft: bool,
    pub authors: Vec<String>,
    pub summary: Option<String>,
    pub word_count: usize,
    pub reading_time: usize,
    pub taxonomies: BTreeMap<String, Vec<TermLink>>,
    pub extra: Value,
    pub section: Option<LinkView>,
}

/// `page`
#[derive(Debug, Clone, Serialize)]
pub struct PageView {
    #[serde(flatten)]
    pub summary: PageSummaryView,
    pub slug: String,
    pub content: String,
    pub toc: Vec<Heading>,
    pub newer: Option<LinkView>,
    pub older: Option<LinkView>,
    pub assets: Vec<String>,
    pub syndication: Vec<SyndicationLink>,
    pub comments: Option<Value>,
    pub lang: String,
}

/// Where an entry was cross-posted.
#[derive(Debug, Clone, Serialize)]
pub struct SyndicationLink {
    /// The network's kind, e.g. `mastodon`.
    pub network: String,
    /// A human name, e.g. "Mastodon".
    pub name: String,
    pub url: String,
}

/// `section`
#[derive(Debug, Clone, Serialize)]
pub struct SectionView {
    pub title: String,
    pub description: Option<String>,
    pub permalink: String,
    pub path: String,
    pub content: String,
    pub extra: Value,
    pub page_count: usize,
    pub subsections: Vec<LinkView>,
}

/// `paginator`
#[derive(Debug, Clone, Serialize)]
pub struct PaginatorView {
    /// Left empty here: the summaries are added as JSON when the pager is
    /// rendered.
    pub pages: Vec<Value>,
    pub current_index: usize,
    pub number_pagers: usize,
    pub total_pages: usize,
    pub first: String,
    pub last: String,
    pub previous: Option<String>,
    pub next: Option<String>,
    pub pagers: Vec<PagerLink>,
}

/// One pager of a paginated list.
#[derive(Debug, Clone, Serialize)]
pub struct PagerLink {
    pub index: usize,
    pub permalink: String,
}

pub fn site_view(site: &Site) -> SiteView {
    let c = &site.config;
    let root = &site.content.sections[""];
    SiteView {
        title: c.title.clone(),
        description: c.description.clone(),
        base_url: c.base_url.clone(),
        language: c.language.clone(),
        author: c.author.clone(),
        extra: c.extra.clone(),
        sections: root
            .subsections
            .iter()
            .map(|d| section_link(c, &site.content.sections[d]))
            .collect(),
        taxonomies: site
            .taxonomies
            .iter()
            .map(|t| NamedLink {
                name: t.name.clone(),
                permalink: c.url(&Site::taxonomy_path(&t.name)),
            })
            .collect(),
        feeds: feed_views(c, "/", &c.title),
    }
}

/// The feeds written under `dir_path` (e.g. `/news/`).
pub fn feed_views(c: &Config, dir_path: &str, title: &str) -> Vec<FeedView> {
    c.feeds
        .formats
        .iter()
        .map(|f: &FeedFormat| FeedView {
            format: f.name(),
            mime: f.mime(),
            title: format!("{title} ({})", f.label()),
            permalink: c.url(&format!("{dir_path}{}", f.file_name())),
        })
        .collect()
}

pub fn section_link(c: &Config, s: &Section) -> LinkView {
    LinkView {
        title: s.title.clone(),
        permalink: c.url(&s.path),
        path: s.path.clone(),
    }
}

pub fn page_link(c: &Config, p: &Page) -> LinkView {
    LinkView {
        title: p.title.clone(),
        permalink: c.url(&p.path),
        path: p.path.clone(),
    }
}

pub fn page_summary(site: &Site, p: &Page) -> PageSummaryView {
    let c = &site.config;
    let section = &site.content.sections[&p.section];
    PageSummaryView {
        title: p.title.clone(),
        description: p.description.clone(),
        permalink: c.url(&p.path),
        path: p.path.clone(),
        date: p.date.as_ref().map(rfc3339),
        updated: p.updated.as_ref().map(rfc3339),
        draft: p.draft,
        authors: authors(c, p),
        summary: p.rendered.summary.clone(),
        word_count: p.rendered.word_count,
        reading_time: p.reading_time(c.markdown.words_per_minute),
        taxonomies: p
            .taxonomies
            .iter()
            .map(|(name, terms)| {
                let links = terms
                    .iter()
                    .map(|t| {
                        let slug = slug::slugify(t);
                        TermLink {
                            name: t.clone(),
                            permalink: c.url(&Site::term_path(name, &slug)),
                            slug,
                        }
                    })
                    .collect();
                (name.clone(), links)
            })
            .collect(),
        extra: p.extra.clone(),
        section: (!section.dir.is_empty() || section.file.is_some())
            .then(|| section_link(c, section)),
    }
}

/// The page's authors, or the site's default author.
pub fn authors(c: &Config, p: &Page) -> Vec<String> {
    if p.authors.is_empty() {
        c.author.iter().cloned().collect()
    } else {
        p.authors.clone()
    }
}

pub fn section_view(site: &Site, s: &Section, page_count: usize) -> SectionView {
    let c = &site.config;
    SectionView {
        title: s.title.clone(),
        description: s.description.clone(),
        permalink: c.url(&s.path),
        path: s.path.clone(),
        content: s.rendered.html.clone(),
        extra: s.extra.clone(),
        page_count,
        subsections: s
            .subsections
            .iter()
            .map(|d| section_link(c, &site.content.sections[d]))
            .collect(),
    }
}
