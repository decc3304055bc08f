//! The comment section as templates see it (`page.comments`), built from
//! `data/comments/` at build time: the block list applied, the networks'
//! threads merged into one, nested by reply, oldest first. Documented in
//! `docs/templates.md`; it is a view, so the stored model can change
//! without breaking a theme.

use super::model::{Comment, Counts, EntryComments, Kind};
use super::moderate::Moderator;
use super::sanitize::clean_html;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// Replies nest this deep; deeper ones are listed, oldest first, under
/// their ancestor at this depth, each naming whom it answers.
pub const MAX_DEPTH: usize = 6;
/// Bytes of HTML per comment at build time (the fetch bound applies first).
const MAX_HTML: usize = 100_000;

/// `page.comments`.
#[derive(Debug, Clone, Serialize)]
pub struct CommentsView {
    /// Comments shown, all networks together.
    pub count: usize,
    /// The networks the entry was posted to, by name.
    pub networks: Vec<NetworkView>,
    /// Sums over the networks.
    pub totals: Counts,
    /// Top-level comments, oldest first, each with its `replies`.
    pub thread: Vec<CommentView>,
    /// The same comments in reading order (a comment, then its replies),
    /// without `replies`, each saying how to nest it without recursion:
    /// see [`FlatComment`].
    pub flat: Vec<FlatComment>,
    /// When the newest data was fetched (RFC 3339).
    pub fetched_at: Option<String>,
}

/// One network in `page.comments.networks`.
#[derive(Debug, Clone, Serialize)]
pub struct NetworkView {
    /// `[networks.NAME]`.
    pub name: String,
    pub kind: Kind,
    /// "Mastodon", "Bluesky", "the forum".
    pub label: String,
    /// The entry's post there: where "Reply on …" points.
    pub url: Option<String>,
    pub counts: Counts,
    pub followers: Option<u64>,
    /// Comments from this network shown on the page.
    pub comment_count: usize,
    pub fetched_at: String,
}

/// One comment in `page.comments.thread`.
#[derive(Debug, Clone, Serialize)]
pub struct CommentView {
    /// Unique on the page, usable as an HTML `id`: `comment-NETWORK-N`.
    pub anchor: String,
    pub network: String,
    pub kind: Kind,
    /// The network's label.
    pub label: String,
    pub url: Option<String>,
    pub author: AuthorView,
    pub published: String,
    pub edited: Option<String>,
    /// Sanitized HTML: render with `| safe`.
    pub html: String,
    pub likes: u64,
    pub reposts: u64,
    /// Depth in the thread, 0 for top-level comments.
    pub depth: usize,
    /// Set when the comment is listed below its ancestor at [`MAX_DEPTH`]
    /// instead of its parent: whom it answers.
    pub in_reply_to: Option<ReplyTo>,
    pub replies: Vec<CommentView>,
}

/// One comment of `page.comments.flat`: the comment's fields, and how to
/// close the lists around it. After a comment's own markup, a template
/// either opens a nested list for its replies (`opens_replies`), or closes
/// the comment and then `closes` levels of nested lists.
#[derive(Debug, Clone, Serialize)]
pub struct FlatComment {
    #[serde(flatten)]
    pub comment: CommentView,
    pub opens_replies: bool,
    pub closes: usize,
}

/// `comment.author`.
#[derive(Debug, Clone, Serialize)]
pub struct AuthorView {
    /// Display name, or the handle when there is none.
    pub name: String,
    pub handle: String,
    pub url: Option<String>,
    /// The downloaded avatar's URL on this site, when `[comments] avatars`
    /// is on and one was downloaded.
    pub avatar: Option<String>,
}

/// `comment.in_reply_to`.
#[derive(Debug, Clone, Serialize)]
pub struct ReplyTo {
    pub name: String,
    pub anchor: String,
}

/// The view for one entry, or `None` when there is nothing to show (no
/// network data at all).
///
/// `avatar_base` is the URL downloaded avatars are served under, when they
/// are shown.
pub fn build(
    data: &EntryComments,
    moderator: &Moderator,
    avatar_base: Option<&str>,
) -> Option<CommentsView> {
    if data.networks.is_empty() {
        return None;
    }
    // Every comment with its network, keyed by (network, id).
    struct Item<'a> {
        network: &'a str,
        kind: Kind,
        label: &'a str,
        c: &'a Comment,
        anchor: String,
    }
    let mut items: Vec<Item<'_>> = Vec::new();
    for (name, t) in &data.networks {
        for (i, c) in t.comments.iter().enumerate() {
            items.push(Item {
                network: name,
                kind: t.kind,
                label: &t.label,
                c,
                anchor: format!("comment-{}-{}", anchor_part(name), i + 1),
            });
        }
    }
    let index: HashMap<(&str, &str), usize> = items
        .iter()
        .enumerate()
        .map(|(i, it)| ((it.network, it.c.id.as_str()), i))
        .collect();
    let parent_of = |i: usize| -> Option<usize> {
        let it = &items[i];
        it.c.parent
            .as_deref()
            .and_then(|p| index.get(&(it.network, p)).copied())
    };
    // Hidden: blocked, or under a blocked comment. Walk up with a bound, so
    // a cycle in hand-edited data cannot hang the build.
    let blocked: Vec<bool> = items
        .iter()
        .map(|it| moderator.blocks(it.kind, it.c))
        .collect();
    let hidden: Vec<bool> = (0..items.len())
        .map(|i| {
            let mut j = Some(i);
            let mut steps = 0;
            while let Some(k) = j {
                if blocked[k] {
                    return true;
                }
                steps += 1;
                if steps > items.len() {
                    return true;
                }
                j = parent_of(k);
            }
            false
        })
        .collect();
    let mut children: HashMap<Option<usize>, Vec<usize>> = HashMap::new();
    for (i, _) in hidden.iter().enumerate().filter(|(_, h)| !**h) {
        children.entry(parent_of(i)).or_default().push(i);
    }
    let order = |v: &mut Vec<usize>| {
        v.sort_by(|&a, &b| {
            (
                items[a].c.published.as_str(),
                items[a].network,
                items[a].c.id.as_str(),
            )
                .cmp(&(
                    items[b].c.published.as_str(),
                    items[b].network,
                    items[b].c.id.as_str(),
                ))
        })
    };
    for v in children.values_mut() {
        order(v);
    }
    let author_name = |c: &Comment| {
        if c.author.name.trim().is_empty() {
            c.author.handle.clone()
        } else {
            c.author.name.clone()
        }
    };
    let view_of = |i: usize, depth: usize, in_reply_to: Option<ReplyTo>| {
        let it = &items[i];
        let c = it.c;
        CommentView {
            anchor: it.anchor.clone(),
            network: it.network.to_string(),
            kind: it.kind,
            label: it.label.to_string(),
            url: c.url.clone(),
            author: AuthorView {
                name: author_name(c),
                handle: c.author.handle.clone(),
                url: c.author.url.clone(),
                avatar: avatar_base
                    .and_then(|base| c.author.avatar_file.as_ref().map(|f| format!("{base}{f}"))),
            },
            published: c.published.clone(),
            edited: c.edited.clone(),
            // Sanitized again: the file may have been edited by hand.
            html: clean_html(&c.html, None, MAX_HTML),
            likes: c.likes,
            reposts: c.reposts,
            depth,
            in_reply_to,
            replies: Vec::new(),
        }
    };
    // Builds the subtree of `i` iteratively (no recursion on untrusted depth).
    fn subtree(
        i: usize,
        depth: usize,
        children: &HashMap<Option<usize>, Vec<usize>>,
        view_of: &dyn Fn(usize, usize, Option<ReplyTo>) -> CommentView,
        flatten: &dyn Fn(usize) -> Vec<(usize, usize)>,
        reply_to: &dyn Fn(usize) -> ReplyTo,
    ) -> CommentView {
        let mut v = view_of(i, depth, None);
        if depth + 1 >= MAX_DEPTH {
            // Everything below, flat, oldest first, each naming its parent.
            v.replies = flatten(i)
                .into_iter()
                .map(|(k, parent)| {
                    let mut r = view_of(k, depth + 1, None);
                    if parent != i {
                        r.in_reply_to = Some(reply_to(parent));
                    }
                    r
                })
                .collect();
        } else if let Some(kids) = children.get(&Some(i)) {
            v.replies = kids
                .iter()
                .map(|&k| subtree(k, depth + 1, children, view_of, flatten, reply_to))
                .collect();
        }
        v
    }
    let flatten = |i: usize| -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut stack = vec![i];
        let mut seen = HashSet::new();
        while let Some(k) = stack.pop() {
            if !seen.insert(k) {
                continue;
            }
            for &c in children.get(&Some(k)).into_iter().flatten() {
                out.push((c, k));
                stack.push(c);
            }
        }
        out.sort_by(|a, b| {
            (items[a.0].c.published.as_str(), items[a.0].c.id.as_str())
                .cmp(&(items[b.0].c.published.as_str(), items[b.0].c.id.as_str()))
        });
        out
    };
    let reply_to = |k: usize| ReplyTo {
        name: author_name(items[k].c),
        anchor: items[k].anchor.clone(),
    };
    let thread: Vec<CommentView> = children
        .get(&None)
        .map(|roots| {
            roots
                .iter()
                .map(|&i| subtree(i, 0, &children, &view_of, &flatten, &reply_to))
                .collect()
        })
        .unwrap_or_default();

    let shown: HashMap<&str, usize> =
        items
            .iter()
            .zip(&hidden)
            .filter(|(_, h)| !**h)
            .fold(HashMap::new(), |mut m, (it, _)| {
                *m.entry(it.network).or_default() += 1;
                m
            });
    let networks: Vec<NetworkView> = data
        .networks
        .iter()
        .map(|(name, t)| NetworkView {
            name: name.clone(),
            kind: t.kind,
            label: t.label.clone(),
            url: t.post_url.clone(),
            counts: t.counts,
            followers: t.followers,
            comment_count: shown.get(name.as_str()).copied().unwrap_or(0),
            fetched_at: t.fetched_at.clone(),
        })
        .collect();
    let totals = networks.iter().fold(Counts::default(), |mut s, n| {
        s.likes += n.counts.likes;
        s.reposts += n.counts.reposts;
        s.quotes += n.counts.quotes;
        s.replies += n.counts.replies;
        s
    });
    let flat = flatten_tree(&thread);
    Some(CommentsView {
        flat,
        count: hidden.iter().filter(|h| !**h).count(),
        fetched_at: networks.iter().map(|n| n.fetched_at.clone()).max(),
        networks,
        totals,
        thread,
    })
}

/// The tree in reading order, with the nesting of each comment.
fn flatten_tree(thread: &[CommentView]) -> Vec<FlatComment> {
    let mut order: Vec<CommentView> = Vec::new();
    let mut stack: Vec<&CommentView> = thread.iter().rev().collect();
    while let Some(c) = stack.pop() {
        let mut own = c.clone();
        own.replies = Vec::new();
        order.push(own);
        stack.extend(c.replies.iter().rev());
    }
    let depths: Vec<usize> = order.iter().map(|c| c.depth).collect();
    order
        .into_iter()
        .enumerate()
        .map(|(k, comment)| {
            let next = depths.get(k + 1).copied().unwrap_or(0);
            let opens_replies = next > comment.depth;
            FlatComment {
                closes: if opens_replies {
                    0
                } else {
                    comment.depth - next.min(comment.depth)
                },
                opens_replies,
                comment,
            }
        })
        .collect()
}

/// A network name reduced to `[a-z0-9-]` for HTML ids.
fn anchor_part(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comments::config::BlockList;
    use crate::comments::model::*;

    fn c(id: &str, parent: Option<&str>, at: &str, who: &str) -> Comment {
        Comment {
            id: id.into(),
            url: None,
            author: Author {
                name: who.into(),
                handle: format!("{who}@m.example"),
                ..Default::default()
            },
            published: at.into(),
            edited: None,
            html: format!("<p>{id}</p>"),
            parent: parent.map(str::to_string),
            likes: 0,
            reposts: 0,
        }
    }

    fn thread(kind: Kind, comments: Vec<Comment>) -> NetworkThread {
        NetworkThread {
            kind,
            label: kind.default_label().into(),
            post_id: "p".into(),
            post_url: Some("https://x.example/p".into()),
            fetched_at: "2026-01-01T00:00:00Z".into(),
            counts: Counts {
                likes: 2,
                reposts: 1,
                quotes: 0,
                replies: 3,
            },
            followers: Some(10),
            truncated: false,
            etags: Default::default(),
            comments,
        }
    }

    fn data() -> EntryComments {
        let mut d = EntryComments {
            entry: "a.md".into(),
            ..Default::default()
        };
        d.networks.insert(
            "mastodon".into(),
            thread(
                Kind::Mastodon,
                vec![
                    c("1", None, "2026-01-01T10:00:00Z", "ann"),
                    c("2", Some("1"), "2026-01-01T11:00:00Z", "troll"),
                    c("3", Some("2"), "2026-01-01T12:00:00Z", "bob"),
                    c("4", None, "2026-01-01T09:00:00Z", "cat"),
                ],
            ),
        );
        d.networks.insert(
            "forum".into(),
            thread(
                Kind::Discourse,
                vec![c("1", None, "2026-01-01T09:30:00Z", "dan")],
            ),
        );
        d
    }

    #[test]
    fn merged_nested_oldest_first() {
        let v = build(&data(), &Moderator::default(), None).unwrap();
        let top: Vec<&str> = v.thread.iter().map(|c| c.author.name.as_str()).collect();
        assert_eq!(top, ["cat", "dan", "ann"]);
        assert_eq!(v.thread[2].replies[0].author.name, "troll");
        assert_eq!(v.thread[2].replies[0].replies[0].author.name, "bob");
        assert_eq!(v.thread[2].replies[0].replies[0].depth, 2);
        assert_eq!(v.count, 5);
        assert_eq!(v.totals.likes, 4);
        assert_eq!(v.networks[0].name, "forum");
        let flat: Vec<(&str, bool, usize)> = v
            .flat
            .iter()
            .map(|f| (f.comment.author.name.as_str(), f.opens_replies, f.closes))
            .collect();
        assert_eq!(
            flat,
            [
                ("cat", false, 0),
                ("dan", false, 0),
                ("ann", true, 0),
                ("troll", true, 0),
                ("bob", false, 2)
            ]
        );
    }

    #[test]
    fn a_blocked_reply_disappears_with_its_children() {
        let m = Moderator::new(&BlockList {
            accounts: vec!["troll@m.example".into()],
            ..Default::default()
        });
        let v = build(&data(), &m, None).unwrap();
        assert_eq!(v.count, 3);
        assert!(v.thread[2].replies.is_empty());
        let mastodon = v.networks.iter().find(|n| n.name == "mastodon").unwrap();
        assert_eq!(mastodon.comment_count, 2);
    }

    #[test]
    fn deep_threads_are_flattened_and_cycles_do_not_hang() {
        let mut d = EntryComments {
            entry: "a.md".into(),
            ..Default::default()
        };
        let mut cs = vec![c("0", None, "2026-01-01T00:00:00Z", "u0")];
        for i in 1..20 {
            cs.push(c(
                &i.to_string(),
                Some(&(i - 1).to_string()),
                &format!("2026-01-01T00:00:{i:02}Z"),
                &format!("u{i}"),
            ));
        }
        // A cycle (hand-edited file): never shown, never hangs.
        cs.push(c("x", Some("y"), "2026-01-02T00:00:00Z", "x"));
        cs.push(c("y", Some("x"), "2026-01-02T00:00:00Z", "y"));
        d.networks.insert("m".into(), thread(Kind::Mastodon, cs));
        let v = build(&d, &Moderator::default(), None).unwrap();
        let mut node = &v.thread[0];
        while let Some(n) = node.replies.first() {
            if n.depth == MAX_DEPTH {
                break;
            }
            node = n;
        }
        assert_eq!(node.depth, MAX_DEPTH - 1);
        assert_eq!(node.replies.len(), 20 - MAX_DEPTH);
        assert!(node.replies[1].in_reply_to.is_some());
        assert_eq!(v.thread.len(), 1);
    }
}
