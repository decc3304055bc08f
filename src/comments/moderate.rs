//! The block list, applied when the site is built (so editing `site.toml`
//! takes effect at the next build, without fetching again). A blocked reply
//! disappears together with every reply under it.

use super::config::BlockList;
use super::model::{Comment, Kind};
use super::sanitize::html_to_text;

/// A block list ready for matching (lowercased, without `@` prefixes).
#[derive(Debug, Clone, Default)]
pub struct Moderator {
    accounts: Vec<String>,
    instances: Vec<String>,
    words: Vec<String>,
}

fn norm(s: &str) -> String {
    s.trim().trim_start_matches('@').to_lowercase()
}

impl Moderator {
    pub fn new(b: &BlockList) -> Moderator {
        Moderator {
            accounts: b.accounts.iter().map(|s| norm(s)).collect(),
            instances: b
                .instances
                .iter()
                .map(|s| norm(s).trim_end_matches('.').to_string())
                .collect(),
            words: b
                .words
                .iter()
                .map(|s| s.trim().to_lowercase())
                .filter(|s| !s.is_empty())
                .collect(),
        }
    }

    /// Whether `c` (on a network of `kind`) is blocked by itself (its parents
    /// are checked by the caller).
    pub fn blocks(&self, kind: Kind, c: &Comment) -> bool {
        let a = &c.author;
        let handle = norm(&a.handle);
        let ids = [
            Some(handle.clone()),
            a.id.as_deref().map(norm),
            a.url.as_deref().map(norm),
        ];
        if ids
            .iter()
            .flatten()
            .any(|id| !id.is_empty() && self.accounts.contains(id))
        {
            return true;
        }
        if !self.instances.is_empty() {
            let mut hosts = Vec::new();
            match kind {
                Kind::Mastodon => {
                    if let Some((_, d)) = handle.rsplit_once('@') {
                        hosts.push(d.to_string());
                    }
                    if let Some(h) = a.url.as_deref().and_then(host) {
                        hosts.push(h);
                    }
                }
                Kind::Bluesky => hosts.push(handle.clone()),
                Kind::Discourse => {}
            }
            let hit = hosts.iter().any(|h| {
                self.instances
                    .iter()
                    .any(|i| h == i || h.ends_with(&format!(".{i}")))
            });
            if hit {
                return true;
            }
        }
        if !self.words.is_empty() {
            let text = format!("{} {}", a.name, html_to_text(&c.html)).to_lowercase();
            if self.words.iter().any(|w| contains_word(&text, w)) {
                return true;
            }
        }
        false
    }
}

fn host(url: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .ok()?
        .host_str()
        .map(|h| h.to_lowercase())
}

/// `word` in `text` with no letter or digit right before or after it.
pub fn contains_word(text: &str, word: &str) -> bool {
    let mut from = 0;
    while let Some(i) = text[from..].find(word) {
        let start = from + i;
        let end = start + word.len();
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        if !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric) {
            return true;
        }
        from = start + text[start..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comments::model::Author;

    fn c(handle: &str, html: &str) -> Comment {
        Comment {
            id: "1".into(),
            url: None,
            author: Author {
                name: "N".into(),
                handle: handle.into(),
                id: Some("did:plc:troll".into()),
                url: Some("https://spam.example/@x".into()),
                avatar: None,
                avatar_file: None,
            },
            published: "2026-01-01T00:00:00Z".into(),
            edited: None,
            html: html.into(),
            parent: None,
            likes: 0,
            reposts: 0,
        }
    }

    #[test]
    fn accounts_instances_and_words() {
        let m = Moderator::new(&BlockList {
            accounts: vec!["@Bad@m.example".into(), "did:plc:troll".into()],
            instances: vec!["spam.example".into()],
            words: vec!["casino".into()],
        });
        assert!(m.blocks(Kind::Mastodon, &c("bad@m.example", "")));
        let mut ok = c("good@m.example", "<p>Nice</p>");
        ok.author.id = None;
        ok.author.url = None;
        assert!(!m.blocks(Kind::Mastodon, &ok));
        assert!(m.blocks(Kind::Bluesky, &c("x.bsky.social", "")), "by DID");
        let mut inst = ok.clone();
        inst.author.handle = "x@mail.spam.example".into();
        assert!(m.blocks(Kind::Mastodon, &inst));
        let mut word = ok.clone();
        word.html = "<p>Best CASINO!</p>".into();
        assert!(m.blocks(Kind::Mastodon, &word));
        word.html = "<p>occasinos</p>".into();
        assert!(!m.blocks(Kind::Mastodon, &word));
    }

    #[test]
    fn whole_words_only() {
        assert!(contains_word("a casino b", "casino"));
        assert!(!contains_word("casinos", "casino"));
        assert!(contains_word("é casino", "casino"));
        assert!(contains_word("free money now", "free money"));
    }
}
