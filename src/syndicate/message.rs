//! The text of a post: a Tera template per network over the entry, made to
//! fit the network's limit.
//!
//! When the text is too long, the summary is shortened first, at a word
//! boundary (Unicode's, so ideographic text is cut between characters), with
//! "…". Only if the text still does not fit is the rest shortened the same
//! way. A URL or a hashtag is never cut: they are kept whole or, for
//! hashtags, dropped from the end. A grapheme is never broken, since every
//! cut is at a word boundary and every word boundary is a grapheme boundary.
//!
//! Lengths are counted the way each network counts them: graphemes, with
//! every URL weighing a fixed number of characters on Mastodon, and a byte
//! limit as well on Bluesky.

use serde::Serialize;
use unicode_segmentation::UnicodeSegmentation;

/// The values a message template can use.
#[derive(Debug, Clone, Serialize)]
pub struct Vars {
    pub title: String,
    /// Plain text: the description, or the summary before `<!-- more -->`.
    pub summary: String,
    pub description: String,
    /// The entry's absolute URL.
    pub url: String,
    /// Tags as written.
    pub tags: Vec<String>,
    /// Tags as hashtags, space-separated (`#Api #FieldService`).
    pub hashtags: String,
    pub authors: Vec<String>,
    /// Authors joined for prose ("Ana and Ben").
    pub author: String,
    pub site_title: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// The entry's Markdown, links made absolute (for forums).
    pub markdown: String,
}

/// How long a message may be, and how it is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Maximum weight (graphemes, URLs counted as `url_weight`).
    pub max: usize,
    /// Maximum UTF-8 bytes, where the network has such a limit.
    pub max_bytes: Option<usize>,
    /// What one URL weighs, where the network counts URLs as a fixed length.
    pub url_weight: Option<usize>,
}

impl Limit {
    /// Whether `text` fits.
    pub fn fits(&self, text: &str) -> bool {
        weight(text, self.url_weight) <= self.max && self.max_bytes.is_none_or(|b| text.len() <= b)
    }
}

/// A rich-text annotation: a byte range of the text (UTF-8 offsets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Facet {
    pub byte_start: usize,
    pub byte_end: usize,
    pub kind: FacetKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum FacetKind {
    /// A link to this URI.
    Link(String),
    /// A hashtag, without the `#`.
    Tag(String),
}

/// A problem making a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("the message template failed: {0}")]
    Template(String),
    #[error("the message cannot be made to fit {max} characters without cutting its URL; shorten the template")]
    TooLong { max: usize },
}

/// The chain of a Tera error in one line.
pub fn tera_error_text(e: &tera::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Renders `template` over `vars`, tidied: trimmed, no trailing spaces, at
/// most one blank line in a row.
pub fn render(template: &str, vars: &Vars) -> Result<String, MessageError> {
    let ctx = tera::Context::from_serialize(vars)
        .map_err(|e| MessageError::Template(tera_error_text(&e)))?;
    let text = tera::Tera::one_off(template, &ctx, false)
        .map_err(|e| MessageError::Template(tera_error_text(&e)))?;
    Ok(tidy(&text))
}

fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.trim().lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
    }
    out
}

/// The message for `vars`, shortened to fit `limit`.
pub fn compose(template: &str, vars: &Vars, limit: &Limit) -> Result<String, MessageError> {
    let full = render(template, vars)?;
    if limit.fits(&full) {
        return Ok(full);
    }
    // 1. The summary, at the longest word boundary that fits.
    let cuts = cut_points(&vars.summary, &[]);
    let with_summary = |cut: usize| -> Result<String, MessageError> {
        let mut v = vars.clone();
        v.summary = ellipsize(&vars.summary[..cut]);
        render(template, &v)
    };
    if let Some(text) = longest_fitting(&cuts, limit, with_summary)? {
        return Ok(text);
    }
    // 2. Without a summary, the whole text, keeping URLs and hashtags.
    let mut v = vars.clone();
    v.summary = String::new();
    v.description = String::new();
    let text = render(template, &v)?;
    shorten(&text, limit)
}

/// Shortens any text to fit `limit`: free text is cut at a word boundary with
/// "…", and the URLs and hashtags after the cut are kept whole; when no
/// word of free text fits beside them, hashtags are dropped from the end
/// one by one; the URL is never dropped.
pub fn shorten(text: &str, limit: &Limit) -> Result<String, MessageError> {
    let build = |text: &str, cut: usize, protected: &[(usize, usize)]| {
        let head = ellipsize(&text[..cut]);
        tidy(&format!("{head}{}", kept_tail(text, cut, protected)))
    };
    let mut current = text.to_string();
    loop {
        if limit.fits(&current) {
            return Ok(current);
        }
        let protected = protected_ranges(&current);
        let cuts = cut_points(&current, &protected);
        if let Some(t) = longest_fitting(&cuts, limit, |cut| Ok(build(&current, cut, &protected)))?
        {
            return Ok(t);
        }
        let Some(&(s, e, _)) = hashtags(&current).last() else {
            break;
        };
        current = tidy(&format!("{}{}", &current[..s], &current[e..]));
    }
    // Not one word fits beside the URL: the URL alone, if it fits.
    let t = build(&current, 0, &protected_ranges(&current));
    if limit.fits(&t) {
        Ok(t)
    } else {
        Err(MessageError::TooLong { max: limit.max })
    }
}

/// Among cut positions (ascending), the text of the longest cut that fits,
/// by binary search (a longer head never weighs less).
fn longest_fitting(
    cuts: &[usize],
    limit: &Limit,
    mut build: impl FnMut(usize) -> Result<String, MessageError>,
) -> Result<Option<String>, MessageError> {
    let (mut lo, mut hi) = (0usize, cuts.len());
    let mut best = None;
    while lo < hi {
        let mid = (lo + hi) / 2;
        let text = build(cuts[mid])?;
        if limit.fits(&text) {
            best = Some(text);
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    Ok(best)
}

/// Byte offsets where `text` may be cut: word boundaries after a word,
/// outside the protected ranges, ascending; never 0 or the full length.
fn cut_points(text: &str, protected: &[(usize, usize)]) -> Vec<usize> {
    let mut cuts = Vec::new();
    for (i, w) in text.split_word_bound_indices() {
        let end = i + w.len();
        if end >= text.len() || w.trim().is_empty() || !w.chars().any(char::is_alphanumeric) {
            continue;
        }
        if protected.iter().any(|&(s, e)| end > s && end < e) {
            continue;
        }
        cuts.push(end);
    }
    cuts
}

/// `head` without trailing space and punctuation, plus "…".
fn ellipsize(head: &str) -> String {
    let h = head.trim_end_matches(|c: char| c.is_whitespace() || ",;:-–—([{/".contains(c));
    if h.is_empty() {
        String::new()
    } else {
        format!("{h}…")
    }
}

/// The protected tokens after `cut`, with line breaks between them kept.
fn kept_tail(text: &str, cut: usize, protected: &[(usize, usize)]) -> String {
    let mut out = String::new();
    let mut prev = cut;
    for &(s, e) in protected.iter().filter(|&&(s, _)| s >= cut) {
        let gap = &text[prev..s];
        let newlines = gap.matches('\n').count().min(2);
        out.push_str(&if newlines > 0 {
            "\n".repeat(newlines)
        } else {
            " ".into()
        });
        out.push_str(&text[s..e]);
        prev = e;
    }
    out
}

/// The weight of `text`: graphemes, each URL counting `url_weight` if given.
pub fn weight(text: &str, url_weight: Option<usize>) -> usize {
    let Some(w) = url_weight else {
        return text.graphemes(true).count();
    };
    let mut total = 0;
    let mut prev = 0;
    for (s, e) in urls(text) {
        total += text[prev..s].graphemes(true).count() + w;
        prev = e;
    }
    total + text[prev..].graphemes(true).count()
}

/// Byte ranges of URLs and hashtags, in order.
fn protected_ranges(text: &str) -> Vec<(usize, usize)> {
    let mut r: Vec<(usize, usize)> = urls(text);
    r.extend(hashtags(text).into_iter().map(|(s, e, _)| (s, e)));
    r.sort_unstable();
    r
}

/// Byte ranges of `http://` and `https://` URLs (trailing punctuation excluded).
pub fn urls(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let at_start =
            i == 0 || text[..i].ends_with(|c: char| c.is_whitespace() || c == '(' || c == '<');
        if at_start && (rest.starts_with("https://") || rest.starts_with("http://")) {
            let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let token = rest[..len].trim_end_matches(|c: char| ".,;:!?)>'\"…".contains(c));
            out.push((i, i + token.len()));
            i += len.max(1);
            continue;
        }
        i += rest.chars().next().map_or(1, char::len_utf8);
    }
    out
}

/// Hashtags: `#` at the start or after a space, then letters, digits or `_`
/// (not only digits). Byte range including `#`, and the tag without it.
pub fn hashtags(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let url_ranges = urls(text);
    for (i, c) in text.char_indices() {
        if c != '#' || url_ranges.iter().any(|&(s, e)| i >= s && i < e) {
            continue;
        }
        if i > 0 && !text[..i].ends_with(char::is_whitespace) {
            continue;
        }
        let rest = &text[i + 1..];
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let tag = &rest[..len];
        if !tag.is_empty() && !tag.chars().all(|c| c.is_ascii_digit()) {
            out.push((i, i + 1 + len, tag.to_string()));
        }
    }
    out
}

/// Link and tag facets of `text`, with UTF-8 byte offsets.
pub fn facets(text: &str) -> Vec<Facet> {
    let mut out: Vec<Facet> = urls(text)
        .into_iter()
        .map(|(s, e)| Facet {
            byte_start: s,
            byte_end: e,
            kind: FacetKind::Link(text[s..e].to_string()),
        })
        .chain(hashtags(text).into_iter().map(|(s, e, tag)| Facet {
            byte_start: s,
            byte_end: e,
            kind: FacetKind::Tag(tag),
        }))
        .collect();
    out.sort_by_key(|f| f.byte_start);
    out
}

/// A tag as a hashtag: words joined in CamelCase when there are several
/// (`field service` → `#FieldService`), non-alphanumerics dropped; `None`
/// when nothing usable is left or only digits.
pub fn hashtag(tag: &str) -> Option<String> {
    let parts: Vec<&str> = tag
        .split(|c: char| !c.is_alphanumeric())
        .filter(|p| !p.is_empty())
        .collect();
    let body: String = if parts.len() == 1 {
        parts[0].to_string()
    } else {
        parts
            .iter()
            .map(|p| {
                let mut cs = p.chars();
                cs.next()
                    .map(|f| f.to_uppercase().chain(cs).collect::<String>())
                    .unwrap_or_default()
            })
            .collect()
    };
    if body.is_empty() || body.chars().all(|c| c.is_ascii_digit()) {
        None
    } else {
        Some(format!("#{body}"))
    }
}

/// Authors for prose: "A", "A and B", "A, B and C".
pub fn join_authors(authors: &[String]) -> String {
    match authors {
        [] => String::new(),
        [a] => a.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Plain text of a little HTML (a rendered summary): tags dropped, the
/// common entities decoded, whitespace collapsed.
pub fn html_to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' if in_tag => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let decoded = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    let collapsed = decoded.split_whitespace().collect::<Vec<_>>().join(" ");
    // A space left by a closing tag before punctuation ("<em>x</em>.").
    collapsed
        .replace(" .", ".")
        .replace(" ,", ",")
        .replace(" ;", ";")
        .replace(" :", ":")
        .replace(" !", "!")
        .replace(" ?", "?")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(summary: &str) -> Vars {
        Vars {
            title: "Fernhill 5.2 is out".into(),
            summary: summary.into(),
            description: String::new(),
            url: "https://news.example/releases/fernhill-5-2/".into(),
            tags: vec!["release".into(), "field service".into()],
            hashtags: "#release #FieldService".into(),
            authors: vec![],
            author: String::new(),
            site_title: "News".into(),
            date: "2026-11-10".into(),
            markdown: String::new(),
        }
    }

    const T: &str = "{{ title }}\n\n{{ summary }}\n\n{{ url }}\n\n{{ hashtags }}";

    fn bsky() -> Limit {
        Limit {
            max: 300,
            max_bytes: Some(3000),
            url_weight: None,
        }
    }

    #[test]
    fn short_text_is_untouched() {
        let t = compose(T, &vars("Short."), &bsky()).unwrap();
        assert_eq!(t, "Fernhill 5.2 is out\n\nShort.\n\nhttps://news.example/releases/fernhill-5-2/\n\n#release #FieldService");
    }

    #[test]
    fn long_summary_is_cut_at_a_word_with_ellipsis_and_keeps_url_and_hashtags() {
        let summary = "Dispatchers can now drag jobs between technicians. ".repeat(20);
        let t = compose(T, &vars(&summary), &bsky()).unwrap();
        assert!(weight(&t, None) <= 300, "{t}");
        assert!(
            t.contains(
                "…\n\nhttps://news.example/releases/fernhill-5-2/\n\n#release #FieldService"
            ),
            "{t}"
        );
        let before = t.split('…').next().unwrap();
        assert!(
            summary.starts_with(before.split("\n\n").nth(1).unwrap()),
            "cut at a word: {t}"
        );
        // As long as possible: one more word would not fit.
        assert!(weight(&t, None) > 300 - 20, "{}", weight(&t, None));
    }

    #[test]
    fn graphemes_are_never_broken_and_emoji_count_once() {
        // A family emoji is 7 code points and 25 bytes, but one grapheme.
        let fam = "👨‍👩‍👧‍👦";
        assert_eq!(weight(fam, None), 1);
        let summary = format!("{fam} Zürich café naïve {fam} ").repeat(40);
        let t = compose(T, &vars(&summary), &bsky()).unwrap();
        assert!(weight(&t, None) <= 300);
        // Every family emoji kept is whole.
        assert_eq!(t.matches('👨').count(), t.matches('👦').count());
        // Ideographic text without spaces is cut between characters.
        let cjk = "日本語のテキストには空白がありません".repeat(30);
        let t = compose(T, &vars(&cjk), &bsky()).unwrap();
        assert!(t.contains("…"), "{t}");
        assert!(weight(&t, None) <= 300);
    }

    #[test]
    fn mastodon_counts_every_url_as_reserved_length() {
        let long_url = format!("https://news.example/{}", "a".repeat(200));
        assert_eq!(weight(&format!("hi {long_url}"), Some(23)), 3 + 23);
        let l = Limit {
            max: 60,
            max_bytes: None,
            url_weight: Some(23),
        };
        let mut v = vars("one two three four five six seven eight nine ten eleven");
        v.url = long_url.clone();
        v.hashtags = String::new();
        let t = compose(T, &v, &l).unwrap();
        assert!(t.ends_with(&long_url), "URL kept whole: {t}");
        assert!(weight(&t, Some(23)) <= 60, "{t}");
        assert!(t.contains("one two"), "{t}");
    }

    #[test]
    fn bytes_limit_applies_too() {
        let l = Limit {
            max: 300,
            max_bytes: Some(120),
            url_weight: None,
        };
        let t = compose(T, &vars(&"ééééé ".repeat(50)), &l).unwrap();
        assert!(t.len() <= 120, "{}", t.len());
    }

    #[test]
    fn when_even_the_title_is_too_long_hashtags_go_before_the_url() {
        let l = Limit {
            max: 70,
            max_bytes: None,
            url_weight: None,
        };
        let mut v = vars("");
        v.title = "A very long title that goes on and on and on and on".into();
        let t = compose(T, &v, &l).unwrap();
        assert!(
            t.contains("https://news.example/releases/fernhill-5-2/"),
            "{t}"
        );
        assert!(!t.contains("#Field"), "{t}");
        assert!(weight(&t, None) <= 70, "{t}");
        let l = Limit {
            max: 10,
            max_bytes: None,
            url_weight: None,
        };
        assert!(matches!(
            compose(T, &v, &l),
            Err(MessageError::TooLong { .. })
        ));
    }

    #[test]
    fn facets_have_utf8_byte_offsets() {
        let text = "Zürich 🎉 news: https://x.example/ü #Größe #api";
        let f = facets(text);
        assert_eq!(f.len(), 3);
        let url_start = text.find("https").unwrap();
        assert_eq!(
            f[0],
            Facet {
                byte_start: url_start,
                byte_end: url_start + "https://x.example/ü".len(),
                kind: FacetKind::Link("https://x.example/ü".into())
            }
        );
        assert_eq!(&text[f[1].byte_start..f[1].byte_end], "#Größe");
        assert_eq!(f[1].kind, FacetKind::Tag("Größe".into()));
        assert_eq!(&text[f[2].byte_start..f[2].byte_end], "#api");
        // "Zürich 🎉 " is 7 + 1 + 4 + 1 bytes... the offsets are bytes, not chars.
        assert!(f[0].byte_start > text.chars().position(|c| c == 'h').unwrap());
    }

    #[test]
    fn hashtags_from_tags() {
        assert_eq!(hashtag("api").as_deref(), Some("#api"));
        assert_eq!(hashtag("field service").as_deref(), Some("#FieldService"));
        assert_eq!(hashtag("soc-2").as_deref(), Some("#Soc2"));
        assert_eq!(hashtag("2026"), None);
        assert_eq!(hashtag("--"), None);
        assert!(hashtags("a#b 1#2 #123 x").is_empty());
    }

    #[test]
    fn html_summary_becomes_text() {
        assert_eq!(
            html_to_text("<p>Fast &amp; <em>simple</em>.</p>\n<p>Two</p>"),
            "Fast & simple. Two"
        );
        assert_eq!(
            join_authors(&["A".into(), "B".into(), "C".into()]),
            "A, B and C"
        );
    }
}
