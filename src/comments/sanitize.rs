//! Comments come from strangers: everything that reaches a page goes through
//! here. HTML (Mastodon `content`, Discourse `cooked`) is cleaned with an
//! allow-list ([`ammonia`]); Bluesky text is escaped and linked only where
//! its facets say (UTF-8 *byte* offsets). Sizes are bounded.
//!
//! What survives: paragraphs, line breaks, emphasis, code, quotes, lists and
//! links to `http`, `https` and `mailto` URLs, each link with
//! `rel="nofollow ugc noopener"`. Scripts, styles, event handlers, `style`
//! and `class` attributes, `javascript:`/`data:` URLs, images, iframes, forms
//! and SVG do not.

use ammonia::{Builder, Url, UrlRelative};
use std::collections::{HashMap, HashSet};

/// The `rel` every link in a comment gets.
pub const LINK_REL: &str = "nofollow ugc noopener";

/// Input beyond this many bytes is cut before parsing (a comment this long is
/// an attack or an accident; the output bound applies afterwards).
const MAX_INPUT: usize = 256 * 1024;

const TAGS: &[&str] = &[
    "a",
    "p",
    "br",
    "span",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "del",
    "ins",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "sub",
    "sup",
    "small",
    "abbr",
    "q",
    "cite",
    "mark",
    "hr",
];

/// Tags removed together with everything inside them.
const DROP_WITH_CONTENT: &[&str] = &[
    "script", "style", "iframe", "noscript", "template", "svg", "math", "object", "embed",
    "textarea", "select", "button", "title", "head", "frame", "frameset", "noembed", "xmp",
    "video", "audio", "canvas", "form",
];

/// Cleans `html` from a network. Relative links are resolved against `base`
/// (a forum's address) or removed when there is none. When the result is
/// longer than `max_bytes`, the comment is reduced to its text, cut at a
/// character boundary, with "…".
pub fn clean_html(html: &str, base: Option<&str>, max_bytes: usize) -> String {
    let input = cut(html, MAX_INPUT);
    let out = builder(base).clean(input).to_string();
    if out.len() <= max_bytes {
        return out;
    }
    let text = html_to_text(&out);
    let mut short = cut(&text, max_bytes.saturating_sub(16)).to_string();
    short.push('…');
    format!("<p>{}</p>", escape(&short))
}

fn builder(base: Option<&str>) -> Builder<'static> {
    let mut b = Builder::default();
    b.tags(TAGS.iter().copied().collect())
        .clean_content_tags(DROP_WITH_CONTENT.iter().copied().collect())
        .generic_attributes(["lang", "title"].into_iter().collect())
        .tag_attributes(HashMap::from([
            ("a", HashSet::from(["href"])),
            ("abbr", HashSet::from(["title"])),
            ("ol", HashSet::from(["start"])),
        ]))
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some(LINK_REL))
        .strip_comments(true)
        .url_relative(match base.and_then(|b| Url::parse(b).ok()) {
            Some(url) => UrlRelative::RewriteWithBase(url),
            None => UrlRelative::Deny,
        });
    b
}

/// A Bluesky facet, reduced to what the sanitizer needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facet {
    /// UTF-8 byte offsets into the post's text, end exclusive.
    pub start: usize,
    pub end: usize,
    pub target: FacetTarget,
}

/// What a facet links to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FacetTarget {
    Link(String),
    /// A mention, by DID.
    Mention(String),
    /// A hashtag, without `#`.
    Tag(String),
}

/// Renders Bluesky post text as HTML: everything is escaped, and only the
/// facets become links. Facets that overlap, fall outside the text or split
/// a character are ignored (the text still shows). `profile_base` is where
/// mentions and hashtags point, e.g. `https://bsky.app`.
pub fn bluesky_html(text: &str, facets: &[Facet], profile_base: &str, max_bytes: usize) -> String {
    let text = cut(text, MAX_INPUT);
    let mut facets: Vec<&Facet> = facets
        .iter()
        .filter(|f| {
            f.start < f.end
                && f.end <= text.len()
                && text.is_char_boundary(f.start)
                && text.is_char_boundary(f.end)
        })
        .collect();
    facets.sort_by_key(|f| (f.start, f.end));
    let mut html = String::from("<p>");
    let mut pos = 0;
    for f in facets {
        if f.start < pos {
            continue; // overlaps the previous facet
        }
        let href = match &f.target {
            FacetTarget::Link(uri) => safe_http_url(uri),
            FacetTarget::Mention(did) => {
                Some(format!("{profile_base}/profile/{}", url_segment(did)))
            }
            FacetTarget::Tag(tag) => Some(format!("{profile_base}/hashtag/{}", url_segment(tag))),
        };
        let Some(href) = href else { continue };
        push_text(&mut html, &text[pos..f.start]);
        html.push_str(&format!(
            "<a href=\"{}\" rel=\"{LINK_REL}\">",
            escape(&href)
        ));
        push_text(&mut html, &text[f.start..f.end]);
        html.push_str("</a>");
        pos = f.end;
    }
    push_text(&mut html, &text[pos..]);
    html.push_str("</p>");
    // The allow-list has the last word, whatever was built above.
    clean_html(&html, None, max_bytes)
}

/// Escaped text, paragraphs at blank lines, `<br>` at single newlines.
fn push_text(out: &mut String, text: &str) {
    let escaped = escape(text);
    out.push_str(&escaped.replace("\n\n", "</p><p>").replace('\n', "<br>"));
}

/// `uri` when it is an absolute http(s) URL, normalised.
fn safe_http_url(uri: &str) -> Option<String> {
    let u = Url::parse(uri.trim()).ok()?;
    matches!(u.scheme(), "http" | "https").then(|| u.to_string())
}

/// `s` percent-encoded for one URL path segment or query value (letters,
/// digits, `.`, `-`, `_` and `:` stay as they are).
pub fn url_segment(s: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'.')
        .remove(b'-')
        .remove(b'_')
        .remove(b':');
    percent_encoding::utf8_percent_encode(s, SET).to_string()
}

/// HTML-escapes text for element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The text of sanitized HTML (tags dropped, the common entities decoded),
/// for word filters and summaries.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Plain text from a network (a display name), bounded to `max` bytes.
pub fn plain(s: &str, max: usize) -> String {
    let s: String = s.chars().filter(|c| !c.is_control()).collect();
    cut(s.trim(), max).to_string()
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(s: &str) -> String {
        clean_html(s, None, 10_000)
    }

    #[test]
    fn scripts_handlers_and_dangerous_urls_are_removed() {
        let out = clean(concat!(
            "<p onclick=\"alert(1)\">Hi <script>document.title='x'</script>",
            "<img src=x onerror=\"alert(1)\">",
            "<a href=\"javascript:alert(1)\">j</a> <a href=\"data:text/html,<script>\">d</a>",
            "<svg onload=alert(1)><circle/></svg><style>body{display:none}</style>",
            "<iframe src=\"https://evil.example\"></iframe><form action=\"/x\"><input></form>",
            "<span style=\"position:fixed\" class=\"x\">s</span></p>"
        ));
        for bad in [
            "script",
            "onclick",
            "onerror",
            "onload",
            "javascript",
            "data:",
            "svg",
            "style",
            "iframe",
            "form",
            "input",
            "img",
            "class",
            "document.title",
        ] {
            assert!(!out.contains(bad), "{bad} survived: {out}");
        }
        assert!(out.contains("Hi"), "{out}");
        assert!(out.contains("<span>s</span>"), "{out}");
    }

    #[test]
    fn links_get_rel_and_relative_links_are_resolved_or_dropped() {
        let out = clean_html(
            "<a href=\"https://x.example/a\" rel=\"me\" target=\"_blank\">x</a> <a href=\"/u/bob\">@bob</a>",
            Some("https://forum.example"),
            10_000,
        );
        assert!(
            out.contains("<a href=\"https://x.example/a\" rel=\"nofollow ugc noopener\">x</a>"),
            "{out}"
        );
        assert!(
            out.contains("href=\"https://forum.example/u/bob\""),
            "{out}"
        );
        assert!(!out.contains("target"), "{out}");
        let out = clean("<a href=\"/u/bob\">@bob</a>");
        assert!(!out.contains("href"), "{out}");
    }

    #[test]
    fn long_comments_are_cut_to_text() {
        let long = format!("<p><b>{}</b></p>", "é".repeat(5000));
        let out = clean_html(&long, None, 1000);
        assert!(out.len() <= 1000, "{}", out.len());
        assert!(out.ends_with("…</p>"), "{out}");
    }

    #[test]
    fn bluesky_text_is_escaped_and_linked_by_byte_offsets() {
        // "é" and the emoji are several bytes each: offsets are bytes.
        let text = "Café 🎉 see https://x.example/p <script>alert(1)</script> #news";
        let url_start = text.find("https").unwrap();
        let url_end = url_start + "https://x.example/p".len();
        let tag_start = text.find("#news").unwrap();
        let facets = vec![
            Facet {
                start: url_start,
                end: url_end,
                target: FacetTarget::Link("https://x.example/p".into()),
            },
            Facet {
                start: tag_start,
                end: text.len(),
                target: FacetTarget::Tag("news".into()),
            },
            // overlapping and out-of-range and char-splitting facets are ignored
            Facet {
                start: url_start + 2,
                end: url_end + 1,
                target: FacetTarget::Link("https://evil.example".into()),
            },
            Facet {
                start: 3,
                end: 4,
                target: FacetTarget::Link("https://split.example".into()),
            },
            Facet {
                start: 0,
                end: 9999,
                target: FacetTarget::Link("https://far.example".into()),
            },
            Facet {
                start: 0,
                end: 4,
                target: FacetTarget::Link("javascript:alert(1)".into()),
            },
        ];
        let out = bluesky_html(text, &facets, "https://bsky.app", 10_000);
        assert!(out.contains("Café 🎉 see <a href=\"https://x.example/p\" rel=\"nofollow ugc noopener\">https://x.example/p</a>"), "{out}");
        assert!(
            out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{out}"
        );
        assert!(
            out.contains(
                "<a href=\"https://bsky.app/hashtag/news\" rel=\"nofollow ugc noopener\">#news</a>"
            ),
            "{out}"
        );
        for bad in ["evil", "split", "far.example", "javascript"] {
            assert!(!out.contains(bad), "{bad}: {out}");
        }
    }

    #[test]
    fn text_of_html() {
        assert_eq!(html_to_text("<p>a &amp; b</p><p>c&lt;d</p>"), "a & b c<d");
    }
}
