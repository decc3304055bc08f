//! One model of a conversation for every network: what `herald comments`
//! writes to `data/comments/` and what `herald build` reads back.
//!
//! The types are plain serde data. Every map is a `BTreeMap` and every list
//! is sorted before it is written, so a file changes only when the
//! conversation does (people review these files in pull requests).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which kind of network a post lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Mastodon,
    Bluesky,
    Discourse,
}

impl Kind {
    /// `mastodon`, `bluesky` or `discourse`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Mastodon => "mastodon",
            Kind::Bluesky => "bluesky",
            Kind::Discourse => "discourse",
        }
    }

    /// The kind called `name`, if Herald knows it.
    pub fn parse(name: &str) -> Option<Kind> {
        match name {
            "mastodon" => Some(Kind::Mastodon),
            "bluesky" => Some(Kind::Bluesky),
            "discourse" => Some(Kind::Discourse),
            _ => None,
        }
    }

    /// How the network is called on a page when its config gives no label.
    pub fn default_label(self) -> &'static str {
        match self {
            Kind::Mastodon => "Mastodon",
            Kind::Bluesky => "Bluesky",
            Kind::Discourse => "the forum",
        }
    }
}

/// Who wrote a comment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    /// Display name (plain text; may be empty).
    pub name: String,
    /// `user@instance` on Mastodon, the handle on Bluesky, the username on
    /// Discourse. Lowercase, without a leading `@`.
    pub handle: String,
    /// The network's stable id of the account: the DID on Bluesky, the
    /// account id on Mastodon, the user id on Discourse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The profile page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The avatar image on the network (not shown unless avatars are enabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    /// The downloaded copy under `static/comments/avatars/` (a file name),
    /// when `[comments] avatars = true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_file: Option<String>,
}

/// One reply, on any network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// The network's id (status id, `at://` URI, post id).
    pub id: String,
    /// The original on the network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub author: Author,
    /// RFC 3339.
    pub published: String,
    /// RFC 3339, when the comment was edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited: Option<String>,
    /// Sanitized HTML (see [`super::sanitize`]).
    pub html: String,
    /// The id of the comment this one answers, on the same network; `None`
    /// when it answers the entry's post itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default)]
    pub likes: u64,
    #[serde(default)]
    pub reposts: u64,
}

/// Engagement of the entry's post on one network.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Favourites (Mastodon), likes (Bluesky, Discourse).
    pub likes: u64,
    /// Boosts (Mastodon), reposts (Bluesky); 0 on Discourse.
    pub reposts: u64,
    /// Quote posts.
    pub quotes: u64,
    /// Replies as the network counts them (may include ones not shown).
    pub replies: u64,
}

/// The entry's post on one network, and the conversation under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkThread {
    pub kind: Kind,
    /// "Mastodon", "Bluesky", "the forum": link text on the page.
    pub label: String,
    /// The network's id of the entry's post (as in the ledger).
    pub post_id: String,
    /// The entry's post on the network: where readers go to reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_url: Option<String>,
    /// When this was fetched (RFC 3339, UTC).
    pub fetched_at: String,
    pub counts: Counts,
    /// Followers of the account that posted the entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followers: Option<u64>,
    /// True when the thread had more comments than the size bound keeps.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// Validators for conditional requests, by request name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub etags: BTreeMap<String, String>,
    /// Oldest first (ties by id).
    pub comments: Vec<Comment>,
}

impl NetworkThread {
    /// Puts the comments in their stable order: oldest first, ties by id.
    pub fn sort(&mut self) {
        self.comments
            .sort_by(|a, b| a.published.cmp(&b.published).then_with(|| a.id.cmp(&b.id)));
    }
}

/// Everything fetched for one entry: `data/comments/<entry>.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryComments {
    /// The entry's file relative to `content/` (the ledger's key).
    pub entry: String,
    /// Network name (as in `[networks.NAME]` and the ledger) → thread.
    pub networks: BTreeMap<String, NetworkThread>,
}

/// One line of the history file: the counts of one post at one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// When the run fetched them (RFC 3339, UTC).
    pub at: String,
    pub entry: String,
    pub network: String,
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_url: Option<String>,
    pub likes: u64,
    pub reposts: u64,
    pub quotes: u64,
    pub replies: u64,
    /// Comments kept (after the sanitizer's bounds, before moderation).
    pub comments: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followers: Option<u64>,
}

impl Snapshot {
    /// The snapshot of `thread`.
    pub fn of(entry: &str, network: &str, thread: &NetworkThread) -> Snapshot {
        Snapshot {
            at: thread.fetched_at.clone(),
            entry: entry.to_string(),
            network: network.to_string(),
            kind: thread.kind,
            post_url: thread.post_url.clone(),
            likes: thread.counts.likes,
            reposts: thread.counts.reposts,
            quotes: thread.counts.quotes,
            replies: thread.counts.replies,
            comments: thread.comments.len() as u64,
            followers: thread.followers,
        }
    }
}
