//! Markdown to HTML, by transforming pulldown-cmark events (never by editing
//! HTML strings): heading ids and anchors, a table of contents, the summary
//! before `<!-- more -->`, word count, `@/` internal links, and absolute URLs
//! for feeds.

use pulldown_cmark::{html, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::Serialize;
use std::collections::HashSet;

/// The marker that ends a summary.
const MORE: &str = "<!-- more -->";

/// How to render one document.
pub struct RenderOptions<'a> {
    pub smart_punctuation: bool,
    /// Insert a `§` link to each heading.
    pub heading_anchors: bool,
    /// Resolves `@/section/page.md` (without the `@/`) to a URL.
    pub resolve: &'a (dyn Fn(&str) -> Option<String> + Sync),
    /// When set, every relative URL is made absolute against this URL (for feeds).
    pub absolute_base: Option<&'a reqwest::Url>,
    /// The width and height in pixels of an image, by its URL as written:
    /// images it knows get `width` and `height`, so the page does not jump
    /// as they load.
    pub image_size: Option<&'a ImageSize<'a>>,
}

/// Looks up an image's pixel size by its URL as written in the Markdown.
pub type ImageSize<'a> = dyn Fn(&str) -> Option<(usize, usize)> + Sync + 'a;

/// A heading in the table of contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Heading {
    pub level: u8,
    pub id: String,
    pub title: String,
    /// `#id`; templates prefix it with the page permalink when needed.
    pub permalink: String,
    pub children: Vec<Heading>,
}

/// The result of rendering.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rendered {
    pub html: String,
    /// HTML of the part before `<!-- more -->`.
    pub summary: Option<String>,
    pub toc: Vec<Heading>,
    pub word_count: usize,
    /// True when only `summary` and `word_count` are here: the Markdown
    /// cache showed that the rendering is the same as the last build's, and
    /// `html` and `toc` are made only for a page rendered again (see
    /// [`crate::content::render_markdown`]).
    pub deferred: bool,
}

/// An `@/` link that points at no file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    /// Byte offset in the Markdown text.
    pub offset: usize,
    pub link: String,
}

/// The pulldown-cmark extensions Herald turns on.
pub fn parser_options(smart_punctuation: bool) -> Options {
    let mut o = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES;
    if smart_punctuation {
        o |= Options::ENABLE_SMART_PUNCTUATION;
    }
    o
}

/// Renders `text`; every broken `@/` link is returned at once.
pub fn render(text: &str, opts: &RenderOptions<'_>) -> Result<Rendered, Vec<BrokenLink>> {
    let parser = Parser::new_ext(text, parser_options(opts.smart_punctuation)).into_offset_iter();
    let mut events: Vec<Event<'_>> = Vec::new();
    let mut broken = Vec::new();
    let mut summary_at = None;
    let mut word_count = 0;

    // An image whose size is known, while its alt text is read.
    let mut sized_image: Option<SizedImage> = None;

    for (event, range) in parser {
        let mut event = event;
        if let Some(img) = &mut sized_image {
            match event {
                Event::End(TagEnd::Image) => {
                    let html = sized_image.take().map(|i| i.to_html()).unwrap_or_default();
                    events.push(Event::InlineHtml(html.into()));
                }
                Event::Text(t) | Event::Code(t) => img.alt.push_str(&t),
                _ => {}
            }
            continue;
        }
        if let (
            Some(size_of),
            Event::Start(Tag::Image {
                dest_url, title, ..
            }),
        ) = (opts.image_size, &event)
        {
            if let Some((width, height)) = size_of(dest_url) {
                let src = rewrite_url(dest_url.clone(), opts, range.start, &mut broken);
                sized_image = Some(SizedImage {
                    src: src.to_string(),
                    title: title.to_string(),
                    alt: String::new(),
                    width,
                    height,
                });
                continue;
            }
        }
        if let Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) = &mut event {
            let url = std::mem::replace(dest_url, CowStr::Borrowed(""));
            *dest_url = rewrite_url(url, opts, range.start, &mut broken);
        }
        let event = match event {
            Event::Html(ref h) | Event::InlineHtml(ref h) if h.trim() == MORE => {
                if summary_at.is_none() {
                    summary_at = Some(events.len());
                }
                continue;
            }
            Event::Text(ref t) | Event::Code(ref t) => {
                word_count += count_words(t);
                event
            }
            // pulldown-cmark's checkbox has no accessible name, which axe
            // reports; a label says what the box means to a screen reader.
            Event::TaskListMarker(done) => Event::InlineHtml(CowStr::Borrowed(if done {
                r#"<input type="checkbox" disabled checked aria-label="Done"> "#
            } else {
                r#"<input type="checkbox" disabled aria-label="Not done"> "#
            })),
            other => other,
        };
        events.push(event);
    }
    if !broken.is_empty() {
        return Err(broken);
    }

    let toc = add_heading_ids(&mut events, opts.heading_anchors);
    let summary = summary_at.map(|at| {
        let mut s = String::new();
        html::push_html(&mut s, close_open_tags(&events[..at]).into_iter());
        s
    });
    // Written into a roomy buffer, then copied into one of its exact size:
    // a page's HTML lives until the page is written, and with the room
    // left over (a quarter, for prose) ten thousand of them held 20 MB
    // for nothing. The allocator does not shrink a block in place.
    let mut html_out = String::with_capacity(text.len() * 3 / 2);
    html::push_html(&mut html_out, events.into_iter());
    Ok(Rendered {
        html: html_out.as_str().to_owned(),
        summary,
        toc,
        word_count,
        deferred: false,
    })
}

/// Resolves `@/` links and, for feeds, makes relative URLs absolute.
fn rewrite_url<'a>(
    url: CowStr<'a>,
    opts: &RenderOptions<'_>,
    offset: usize,
    broken: &mut Vec<BrokenLink>,
) -> CowStr<'a> {
    if let Some(target) = url.strip_prefix("@/") {
        let (file, fragment) = match target.split_once('#') {
            Some((f, frag)) => (f, Some(frag)),
            None => (target, None),
        };
        return match (opts.resolve)(file) {
            Some(mut u) => {
                if let Some(frag) = fragment {
                    u.push('#');
                    u.push_str(frag);
                }
                u.into()
            }
            None => {
                broken.push(BrokenLink {
                    offset,
                    link: url.to_string(),
                });
                url
            }
        };
    }
    match opts.absolute_base {
        Some(base) if !has_scheme(&url) => match base.join(&url) {
            Ok(u) => u.to_string().into(),
            Err(_) => url,
        },
        _ => url,
    }
}

/// True for `https:`, `mailto:` and the like.
fn has_scheme(url: &str) -> bool {
    url.split_once(':').is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
    })
}

/// Gives every heading a unique id (keeping ids written as `{#id}`), adds the
/// anchor links, and returns the nested table of contents.
fn add_heading_ids(events: &mut Vec<Event<'_>>, anchors: bool) -> Vec<Heading> {
    let mut used: HashSet<String> = HashSet::new();
    let mut flat: Vec<(u8, String, String)> = Vec::new();
    let mut i = 0;
    while i < events.len() {
        let Event::Start(Tag::Heading { level, id, .. }) = &events[i] else {
            i += 1;
            continue;
        };
        let level = *level;
        let explicit = id.as_ref().map(|s| s.to_string());
        let end = (i + 1..events.len())
            .find(|&j| matches!(events[j], Event::End(TagEnd::Heading(_))))
            .unwrap_or(events.len());
        let title: String = events[i + 1..end]
            .iter()
            .filter_map(|e| match e {
                Event::Text(t) | Event::Code(t) => Some(t.as_ref()),
                _ => None,
            })
            .collect();
        let base = explicit.unwrap_or_else(|| {
            let s = slug::slugify(&title);
            if s.is_empty() {
                "section".to_string()
            } else {
                s
            }
        });
        let mut unique = base.clone();
        let mut n = 1;
        while !used.insert(unique.clone()) {
            unique = format!("{base}-{n}");
            n += 1;
        }
        if let Event::Start(Tag::Heading { id, .. }) = &mut events[i] {
            *id = Some(unique.clone().into());
        }
        let mut end = end;
        if anchors && end < events.len() {
            let anchor = format!(
                r##" <a class="anchor" href="#{unique}" aria-label="Link to this section: {}">§</a>"##,
                escape_attr(&title)
            );
            events.insert(end, Event::InlineHtml(anchor.into()));
            end += 1;
        }
        flat.push((heading_number(level), unique, title));
        i = end + 1;
    }
    nest(&flat)
}

fn heading_number(level: HeadingLevel) -> u8 {
    level as u8
}

/// An image with a known size, written as one `<img>` with `width` and
/// `height` (pulldown-cmark's own writer has no way to add them).
struct SizedImage {
    src: String,
    title: String,
    alt: String,
    width: usize,
    height: usize,
}

impl SizedImage {
    fn to_html(&self) -> String {
        let mut src = String::new();
        pulldown_cmark_escape::escape_href(&mut src, &self.src)
            .expect("writing to a String cannot fail");
        let title = if self.title.is_empty() {
            String::new()
        } else {
            format!(r#" title="{}""#, escape_attr(&self.title))
        };
        format!(
            r#"<img src="{}" alt="{}"{title} width="{}" height="{}">"#,
            escape_attr(&src),
            escape_attr(&self.alt),
            self.width,
            self.height
        )
    }
}

/// Escapes text for a double-quoted HTML attribute.
fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    pulldown_cmark_escape::escape_html(&mut out, s).expect("writing to a String cannot fail");
    out
}

/// Nests a flat list of headings: deeper levels become children.
fn nest(flat: &[(u8, String, String)]) -> Vec<Heading> {
    let mut out: Vec<Heading> = Vec::new();
    for (level, id, title) in flat {
        let h = Heading {
            level: *level,
            id: id.clone(),
            title: title.clone(),
            permalink: format!("#{id}"),
            children: Vec::new(),
        };
        insert_heading(&mut out, h);
    }
    out
}

fn insert_heading(list: &mut Vec<Heading>, h: Heading) {
    match list.last_mut() {
        Some(last) if last.level < h.level => insert_heading(&mut last.children, h),
        _ => list.push(h),
    }
}

/// Ends of the tags left open at a cut, so a summary is well-formed HTML.
fn close_open_tags<'a>(events: &[Event<'a>]) -> Vec<Event<'a>> {
    let mut out = events.to_vec();
    let mut open: Vec<TagEnd> = Vec::new();
    for e in events {
        match e {
            Event::Start(t) => open.push(t.to_end()),
            Event::End(_) => {
                open.pop();
            }
            _ => {}
        }
    }
    out.extend(open.into_iter().rev().map(Event::End));
    out
}

/// The number of words in `text`, as `text.split_whitespace().count()`
/// gives it, a byte at a time for ASCII text: Unicode's whitespace test,
/// a character at a time, was a twelfth of a first build's CPU.
fn count_words(text: &str) -> usize {
    if !text.is_ascii() {
        return text.split_whitespace().count();
    }
    // ASCII whitespace as `char::is_whitespace` has it: tab to carriage
    // return (vertical tab included) and space. Counted without branches:
    // a word starts where a non-space byte follows a space.
    let mut words = 0;
    let mut after_space = true;
    for &b in text.as_bytes() {
        let space = b == b' ' || (b'\t'..=b'\r').contains(&b);
        words += usize::from(after_space && !space);
        after_space = space;
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts<'a>(resolve: &'a (dyn Fn(&str) -> Option<String> + Sync)) -> RenderOptions<'a> {
        RenderOptions {
            smart_punctuation: true,
            heading_anchors: false,
            resolve,
            absolute_base: None,
            image_size: None,
        }
    }

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn extensions_are_on() {
        let r = render(
            "| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~ \"quoted\"\n\n- [x] done\n\nNote[^1].\n\n[^1]: Footnote.",
            &opts(&none),
        )
        .unwrap();
        assert!(r.html.contains("<table>"));
        assert!(r.html.contains("<del>old</del>"));
        assert!(r.html.contains("\u{201c}quoted\u{201d}"));
        assert!(r.html.contains("type=\"checkbox\""));
        assert!(r.html.contains("footnote-definition"));
    }

    #[test]
    fn headings_get_unique_ids_and_nest() {
        let r = render(
            "## Intro\n### Details\n## Intro\n## Custom {#mine}",
            &opts(&none),
        )
        .unwrap();
        assert!(r.html.contains(r#"<h2 id="intro">"#));
        assert!(r.html.contains(r#"<h2 id="intro-1">"#));
        assert!(r.html.contains(r#"<h2 id="mine">"#));
        assert_eq!(r.toc.len(), 3);
        assert_eq!(r.toc[0].children[0].id, "details");
    }

    #[test]
    fn anchors_are_added_when_asked() {
        let resolve = none;
        let o = RenderOptions {
            heading_anchors: true,
            ..opts(&resolve)
        };
        let r = render("## A `code` title", &o).unwrap();
        assert!(
            r.html
                .contains(r##"<a class="anchor" href="#a-code-title""##),
            "{}",
            r.html
        );
    }

    #[test]
    fn summary_stops_at_more_marker() {
        let r = render("First *para*.\n\n<!-- more -->\n\nSecond.", &opts(&none)).unwrap();
        assert_eq!(r.summary.as_deref(), Some("<p>First <em>para</em>.</p>\n"));
        assert!(r.html.contains("Second."));
        assert!(!r.html.contains("more -->"));
    }

    #[test]
    fn internal_links_resolve_or_are_reported_with_offsets() {
        let resolve = |p: &str| (p == "news/a.md").then(|| "https://x.example/news/a/".to_string());
        let r = render("[a](@/news/a.md#top)", &opts(&resolve)).unwrap();
        assert!(r.html.contains(r#"href="https://x.example/news/a/#top""#));
        let err = render("ok\n\n[b](@/news/missing.md)", &opts(&resolve)).unwrap_err();
        assert_eq!(
            err,
            vec![BrokenLink {
                offset: 4,
                link: "@/news/missing.md".into()
            }]
        );
    }

    #[test]
    fn images_of_known_size_get_width_and_height() {
        let size = |url: &str| (url == "board.png").then_some((640, 480));
        let o = RenderOptions {
            image_size: Some(&size),
            ..opts(&none)
        };
        let r = render(
            "![The *new* `board` & \"more\"](board.png \"A title\") ![other](other.png)",
            &o,
        )
        .unwrap();
        assert!(
            r.html.contains(
                r#"<img src="board.png" alt="The new board &amp; “more”" title="A title" width="640" height="480">"#
            ),
            "{}",
            r.html
        );
        assert!(
            r.html.contains(r#"<img src="other.png" alt="other" />"#),
            "{}",
            r.html
        );
        // A feed's absolute URLs apply to sized images too.
        let base = reqwest::Url::parse("https://x.example/news/a/").unwrap();
        let o = RenderOptions {
            absolute_base: Some(&base),
            image_size: Some(&size),
            ..opts(&none)
        };
        let r = render("![b](board.png)", &o).unwrap();
        assert!(
            r.html
                .contains(r#"src="https://x.example/news/a/board.png" alt="b" width="640""#),
            "{}",
            r.html
        );
    }

    #[test]
    fn feed_rendering_makes_urls_absolute() {
        let base = reqwest::Url::parse("https://x.example/news/a/").unwrap();
        let o = RenderOptions {
            absolute_base: Some(&base),
            ..opts(&none)
        };
        let r = render(
            "![i](pic.png) [r](/about/) [e](https://e.example/) [m](mailto:a@b.c) [f](#x)",
            &o,
        )
        .unwrap();
        assert!(r.html.contains(r#"src="https://x.example/news/a/pic.png""#));
        assert!(r.html.contains(r#"href="https://x.example/about/""#));
        assert!(r.html.contains(r#"href="https://e.example/""#));
        assert!(r.html.contains(r#"href="mailto:a@b.c""#));
        assert!(r.html.contains(r#"href="https://x.example/news/a/#x""#));
    }

    #[test]
    fn counts_words() {
        let r = render("One two `three`\n\n- four", &opts(&none)).unwrap();
        assert_eq!(r.word_count, 4);
    }

    #[test]
    fn counts_words_as_split_whitespace_does() {
        let cases = [
            "",
            " ",
            "a",
            " a ",
            "a b",
            "a  b\tc\nd\r\ne\x0bf\x0cg",
            "\x1fa\x1f",
            "trailing ",
            "  leading",
            "é b",
            "a\u{a0}b",
            "a\u{2003}b c",
            "\u{85}x",
        ];
        for text in cases {
            assert_eq!(
                count_words(text),
                text.split_whitespace().count(),
                "{text:?}"
            );
        }
    }
}
