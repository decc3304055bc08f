//! What every network client does: one small trait, and the plain data it
//! works on (an [`Entry`] in, a [`Message`] to send, a [`Posted`] back).

use super::http::NetError;
use super::message::Facet;
use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use std::path::PathBuf;

/// An entry to cross-post, with everything a network needs from the site.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// The Markdown file relative to `content/`: the entry's key in the ledger.
    pub rel: String,
    /// The file relative to the site root, for messages.
    pub file: PathBuf,
    pub title: String,
    /// Plain-text summary (description, or the summary before `<!-- more -->`).
    pub summary: String,
    pub description: Option<String>,
    /// Absolute URL of the entry.
    pub url: String,
    pub tags: Vec<String>,
    pub authors: Vec<String>,
    pub date: DateTime<FixedOffset>,
    /// The body's Markdown with links made absolute.
    pub markdown: String,
    /// The front matter's replacement message for every network.
    pub message: Option<String>,
    /// The front matter's replacement messages by network name.
    pub messages: std::collections::BTreeMap<String, String>,
    /// An image to attach (a file under the site root) and its alt text.
    pub image: Option<Image>,
    pub site_title: String,
}

impl Entry {
    /// The front matter's replacement message for `network`, if any.
    pub fn custom_message(&self, network: &str) -> Option<&str> {
        self.messages
            .get(network)
            .or(self.message.as_ref())
            .map(String::as_str)
    }

    /// The template values for this entry.
    pub fn vars(&self) -> super::message::Vars {
        use super::message::{hashtag, join_authors, Vars};
        let mut seen = std::collections::BTreeSet::new();
        let hashtags: Vec<String> = self
            .tags
            .iter()
            .filter_map(|t| hashtag(t))
            .filter(|h| seen.insert(h.to_lowercase()))
            .collect();
        Vars {
            title: self.title.clone(),
            summary: self.summary.clone(),
            description: self.description.clone().unwrap_or_default(),
            url: self.url.clone(),
            tags: self.tags.clone(),
            hashtags: hashtags.join(" "),
            authors: self.authors.clone(),
            author: join_authors(&self.authors),
            site_title: self.site_title.clone(),
            date: self.date.format("%Y-%m-%d").to_string(),
            markdown: self.markdown.clone(),
        }
    }
}

/// An image named in front matter.
#[derive(Debug, Clone, Serialize)]
pub struct Image {
    pub path: PathBuf,
    pub alt: String,
}

impl Image {
    /// The image's MIME type, from its extension.
    pub fn mime(&self) -> &'static str {
        match self
            .path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("png") => "image/png",
            Some("jpg" | "jpeg") => "image/jpeg",
            Some("gif") => "image/gif",
            Some("webp") => "image/webp",
            Some("avif") => "image/avif",
            _ => "application/octet-stream",
        }
    }

    /// Reads the image, refusing files larger than `max` bytes.
    pub fn read(&self, max: usize) -> Result<Vec<u8>, NetError> {
        let len = std::fs::metadata(&self.path)
            .map_err(|e| {
                NetError::Entry(format!(
                    "cannot read the image `{}`: {e}",
                    self.path.display()
                ))
            })?
            .len();
        if len > max as u64 {
            return Err(NetError::Entry(format!(
                "the image `{}` is {len} bytes; the limit is {max}: make it smaller",
                self.path.display()
            )));
        }
        std::fs::read(&self.path).map_err(|e| {
            NetError::Entry(format!(
                "cannot read the image `{}`: {e}",
                self.path.display()
            ))
        })
    }
}

/// A link card (Bluesky's `app.bsky.embed.external`).
#[derive(Debug, Clone, Serialize)]
pub struct Card {
    pub uri: String,
    pub title: String,
    pub description: String,
    /// The thumbnail to upload.
    pub thumb: Option<Image>,
}

/// Exactly what would be sent for one entry to one network.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    /// The entry's key (file relative to `content/`).
    pub entry: String,
    pub network: String,
    pub kind: &'static str,
    /// A title, where the network has one (a forum topic).
    pub title: Option<String>,
    pub text: String,
    /// The text's length as the network counts it, and its limit.
    pub length: usize,
    pub limit: usize,
    /// What `length` counts ("characters", "graphemes").
    pub unit: &'static str,
    /// Rich-text facets (Bluesky), UTF-8 byte offsets.
    pub facets: Vec<Facet>,
    pub card: Option<Card>,
    /// An attached image (Mastodon).
    pub image: Option<Image>,
    /// The idempotency key, record key or external id derived from the entry.
    pub key: String,
    /// The entry's URL.
    pub url: String,
    /// The network-specific request body, exactly as it will be sent
    /// (without the image bytes).
    pub payload: serde_json::Value,
}

/// A post the network confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Posted {
    pub id: String,
    pub url: String,
}

/// One network account. `prepare` is pure (it is what `--dry-run` prints);
/// `find_existing` asks the network whether the entry is already there (to
/// reconcile an intent without a result); `post` sends.
pub trait Network {
    /// The `[networks.NAME]` name.
    fn name(&self) -> &str;
    /// `mastodon`, `bluesky` or `discourse`.
    fn kind(&self) -> &'static str;
    /// The message for `entry`, exactly as it would be sent.
    fn prepare(&self, entry: &Entry) -> Result<Message, NetError>;
    /// The post already made for this message's entry, if the network has it.
    fn find_existing(&mut self, message: &Message) -> Result<Option<Posted>, NetError>;
    /// Sends the message; safe to call again for the same message.
    fn post(&mut self, message: &Message) -> Result<Posted, NetError>;
}

/// A stable 64-bit hash (FNV-1a): the same input gives the same keys on
/// every machine and Rust version, unlike `std`'s hasher.
pub fn stable_hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// A key of `[A-Za-z0-9_-]`, at most `max` characters, derived from the
/// entry and network: readable, and unique through a hash suffix.
pub fn derived_key(prefix: &str, entry: &str, network: &str, max: usize) -> String {
    let hash = format!("{:016x}", stable_hash(&[entry, network]));
    let stem: String = entry
        .trim_end_matches(".md")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let stem = stem.trim_matches('-');
    let room = max.saturating_sub(prefix.len() + hash.len() + 2);
    let stem: String = stem
        .chars()
        .rev()
        .take(room)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let stem = stem.trim_matches('-');
    if stem.is_empty() {
        format!("{prefix}-{hash}")
    } else {
        format!("{prefix}-{stem}-{hash}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_keys_are_stable_short_and_safe() {
        let k = derived_key(
            "herald",
            "news/2026-10-06-manchester-office.md",
            "forum",
            50,
        );
        // Pinned: a change would post every entry to the forum again.
        assert_eq!(k, "herald-26-10-06-manchester-office-450786bffd56cebc");
        assert!(k.len() <= 50, "{k}");
        assert!(
            k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
            "{k}"
        );
        assert_eq!(
            k,
            derived_key(
                "herald",
                "news/2026-10-06-manchester-office.md",
                "forum",
                50
            )
        );
        assert_ne!(
            k,
            derived_key(
                "herald",
                "news/2026-10-06-manchester-office.md",
                "forum2",
                50
            )
        );
        let long = derived_key("herald", &"ü".repeat(100), "f", 50);
        assert!(long.len() <= 50, "{long}");
        assert_ne!(stable_hash(&["ab", ""]), stable_hash(&["a", "b"]));
    }
}
