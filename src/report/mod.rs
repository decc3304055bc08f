//! `herald report`: how each entry was received, network by network, over
//! time, from the count snapshots `herald comments` appends to
//! `data/comments/history.jsonl`. No network access.
//!
//! [`aggregate`] turns snapshots and what the site knows of each entry into a
//! [`Report`] (pure, tested without a disk); [`csv`], [`text`] and [`html`]
//! (with [`svg`] charts) write it out.

pub mod csv;
pub mod html;
pub mod svg;
pub mod text;

use crate::comments::model::Snapshot;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What the site knows of an entry (by its path under `content/`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntryInfo {
    pub title: String,
    /// The entry's permalink.
    pub url: String,
    pub published: Option<NaiveDate>,
    pub tags: Vec<String>,
}

impl EntryInfo {
    /// The title, or the entry's path when the site no longer has it.
    fn title_or(&self, entry: &str) -> String {
        if self.title.is_empty() {
            entry.to_string()
        } else {
            self.title.clone()
        }
    }
}

/// The days a report covers, both ends included; `None` is open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Period {
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

impl Period {
    fn contains(&self, day: NaiveDate) -> bool {
        self.since.is_none_or(|s| day >= s) && self.until.is_none_or(|u| day <= u)
    }
}

/// The whole report: what every output format shows.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    /// First day covered (YYYY-MM-DD), when `--since` was given.
    pub since: Option<String>,
    /// Last day covered, when `--until` was given.
    pub until: Option<String>,
    /// The newest snapshot in the period (RFC 3339).
    pub last_fetched: Option<String>,
    /// Entries × networks, the largest total first.
    pub rows: Vec<Row>,
    /// Totals per network, and the change of its account's followers.
    pub networks: Vec<NetworkTotal>,
    /// Entries by their total on every network, the largest first.
    pub top_entries: Vec<EntryTotal>,
    /// Engagement summed over the entries carrying each tag.
    pub tags: Vec<TagTotal>,
    /// Total engagement of each post over the days after its entry was
    /// published (or first seen).
    pub series: Vec<EngagementSeries>,
    /// Followers of each network's account over time.
    pub followers: Vec<FollowerSeries>,
}

/// One entry on one network, as of its last snapshot in the period.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Row {
    /// The entry's file under `content/`.
    pub entry: String,
    pub title: String,
    pub url: String,
    /// YYYY-MM-DD, when the entry has a date.
    pub published: String,
    /// The `[networks.NAME]` name.
    pub network: String,
    /// mastodon, bluesky or discourse.
    pub kind: String,
    pub post_url: String,
    /// Likes or favourites.
    pub likes: u64,
    /// Boosts or reposts.
    pub reposts: u64,
    pub quotes: u64,
    pub replies: u64,
    /// likes + reposts + quotes + replies.
    pub total: u64,
    /// How much the total grew in the period (all of it without `--since`).
    pub gained: u64,
    /// Followers of the account at that snapshot (empty when unknown).
    pub followers: Option<u64>,
    /// When that snapshot was taken.
    pub fetched_at: String,
}

/// Totals of one network.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NetworkTotal {
    pub network: String,
    pub kind: String,
    pub posts: usize,
    pub likes: u64,
    pub reposts: u64,
    pub quotes: u64,
    pub replies: u64,
    pub total: u64,
    /// Followers at the first and at the last snapshot of the period.
    pub followers_start: Option<u64>,
    pub followers_end: Option<u64>,
}

/// One entry, all networks together.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EntryTotal {
    pub entry: String,
    pub title: String,
    pub url: String,
    pub total: u64,
    pub gained: u64,
}

/// One tag, over every entry carrying it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TagTotal {
    pub tag: String,
    pub entries: usize,
    pub total: u64,
}

/// The total engagement of one post over time.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EngagementSeries {
    pub entry: String,
    pub network: String,
    /// (days since the entry was published or first seen, total).
    pub points: Vec<(f64, u64)>,
}

/// The followers of one network's account over time.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FollowerSeries {
    pub network: String,
    /// (RFC 3339 time, followers), oldest first.
    pub points: Vec<(String, u64)>,
}

impl Report {
    /// "all time", or "2026-11-01 to 2026-11-30" (an open end is named).
    pub fn period_label(&self) -> String {
        match (&self.since, &self.until) {
            (None, None) => "all time".to_string(),
            (s, u) => format!(
                "{} to {}",
                s.as_deref().unwrap_or("the first snapshot"),
                u.as_deref().unwrap_or("the last snapshot")
            ),
        }
    }
}

fn total(s: &Snapshot) -> u64 {
    s.likes + s.reposts + s.quotes + s.replies
}

fn time_of(s: &Snapshot) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(&s.at)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Builds the report from `history` (any order; lines with an unreadable
/// time are ignored) and what the site knows of each entry. An entry that
/// is no longer in `content/` is shown by its path.
pub fn aggregate(
    history: &[Snapshot],
    entries: &HashMap<String, EntryInfo>,
    period: Period,
) -> Report {
    let mut timed: Vec<(DateTime<Utc>, &Snapshot)> = history
        .iter()
        .filter_map(|s| time_of(s).map(|t| (t, s)))
        .collect();
    timed.sort_by(|a, b| (a.0, &a.1.entry, &a.1.network).cmp(&(b.0, &b.1.entry, &b.1.network)));
    let in_period = |t: &DateTime<Utc>| period.contains(t.date_naive());

    // Per post: the last snapshot before the period, and those in it.
    type Key<'a> = (&'a str, &'a str);
    let mut before: HashMap<Key<'_>, &Snapshot> = HashMap::new();
    let mut during: BTreeMap<Key<'_>, Vec<(DateTime<Utc>, &Snapshot)>> = BTreeMap::new();
    for (t, s) in &timed {
        let key = (s.entry.as_str(), s.network.as_str());
        if in_period(t) {
            during.entry(key).or_default().push((*t, s));
        } else if period.since.is_some_and(|since| t.date_naive() < since) {
            before.insert(key, s);
        }
    }
    let info = |entry: &str| entries.get(entry).cloned().unwrap_or_default();

    let mut rows = Vec::new();
    let mut series = Vec::new();
    for ((entry, network), snaps) in &during {
        let (_, last) = snaps.last().expect("a post in the period has a snapshot");
        let e = info(entry);
        let base = before.get(&(*entry, *network)).map_or(0, |s| total(s));
        rows.push(Row {
            entry: entry.to_string(),
            title: e.title_or(entry),
            url: e.url.clone(),
            published: e.published.map(|d| d.to_string()).unwrap_or_default(),
            network: network.to_string(),
            kind: last.kind.as_str().to_string(),
            post_url: last.post_url.clone().unwrap_or_default(),
            likes: last.likes,
            reposts: last.reposts,
            quotes: last.quotes,
            replies: last.replies,
            total: total(last),
            gained: total(last).saturating_sub(base),
            followers: last.followers,
            fetched_at: last.at.clone(),
        });
        let origin = e
            .published
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc())
            .unwrap_or(snaps[0].0);
        series.push(EngagementSeries {
            entry: entry.to_string(),
            network: network.to_string(),
            points: snaps
                .iter()
                .map(|(t, s)| {
                    let days = (*t - origin).num_seconds() as f64 / 86_400.0;
                    ((days * 100.0).round() / 100.0, total(s))
                })
                .collect(),
        });
    }
    rows.sort_by(|a, b| {
        b.total
            .cmp(&a.total)
            .then_with(|| a.entry.cmp(&b.entry))
            .then_with(|| a.network.cmp(&b.network))
    });

    // Per network: totals, and followers at the start and the end.
    let mut networks: BTreeMap<String, NetworkTotal> = BTreeMap::new();
    for r in &rows {
        let n = networks
            .entry(r.network.clone())
            .or_insert_with(|| NetworkTotal {
                network: r.network.clone(),
                kind: r.kind.clone(),
                posts: 0,
                likes: 0,
                reposts: 0,
                quotes: 0,
                replies: 0,
                total: 0,
                followers_start: None,
                followers_end: None,
            });
        n.posts += 1;
        n.likes += r.likes;
        n.reposts += r.reposts;
        n.quotes += r.quotes;
        n.replies += r.replies;
        n.total += r.total;
    }
    let mut followers: BTreeMap<&str, Vec<(String, u64)>> = BTreeMap::new();
    for (_, s) in timed.iter().filter(|(t, _)| in_period(t)) {
        if let Some(f) = s.followers {
            let points = followers.entry(s.network.as_str()).or_default();
            // One point per run: the snapshots of one run share their time.
            if points.last().is_none_or(|(at, _)| at != &s.at) {
                points.push((s.at.clone(), f));
            }
        }
    }
    for (network, points) in &followers {
        if let Some(n) = networks.get_mut(*network) {
            n.followers_start = points.first().map(|p| p.1);
            n.followers_end = points.last().map(|p| p.1);
        }
    }

    // Per entry, then per tag.
    let mut by_entry: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for r in &rows {
        let e = by_entry.entry(r.entry.clone()).or_default();
        e.0 += r.total;
        e.1 += r.gained;
    }
    let mut top_entries: Vec<EntryTotal> = by_entry
        .iter()
        .map(|(entry, (total, gained))| {
            let e = info(entry);
            EntryTotal {
                entry: entry.to_string(),
                title: e.title_or(entry),
                url: e.url,
                total: *total,
                gained: *gained,
            }
        })
        .collect();
    let ranked_by = |period: Period| {
        move |a: &EntryTotal, b: &EntryTotal| {
            let (x, y) = if period.since.is_some() {
                (b.gained, a.gained)
            } else {
                (b.total, a.total)
            };
            x.cmp(&y).then_with(|| a.entry.cmp(&b.entry))
        }
    };
    top_entries.sort_by(ranked_by(period));
    let mut tags: BTreeMap<String, (BTreeSet<&String>, u64)> = BTreeMap::new();
    for (entry, (t, _)) in &by_entry {
        for tag in info(entry).tags {
            let e = tags.entry(tag).or_default();
            e.0.insert(entry);
            e.1 += t;
        }
    }
    let mut tags: Vec<TagTotal> = tags
        .into_iter()
        .map(|(tag, (entries, total))| TagTotal {
            tag,
            entries: entries.len(),
            total,
        })
        .collect();
    tags.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.tag.cmp(&b.tag)));

    Report {
        since: period.since.map(|d| d.to_string()),
        until: period.until.map(|d| d.to_string()),
        last_fetched: timed
            .iter()
            .rev()
            .find(|(t, _)| in_period(t))
            .map(|(_, s)| s.at.clone()),
        rows,
        networks: networks.into_values().collect(),
        top_entries,
        tags,
        series,
        followers: followers
            .into_iter()
            .map(|(network, points)| FollowerSeries {
                network: network.to_string(),
                points,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comments::model::Kind;

    pub(crate) fn snap(
        at: &str,
        entry: &str,
        network: &str,
        counts: [u64; 4],
        followers: u64,
    ) -> Snapshot {
        Snapshot {
            at: at.into(),
            entry: entry.into(),
            network: network.into(),
            kind: if network == "bluesky" {
                Kind::Bluesky
            } else {
                Kind::Mastodon
            },
            post_url: Some(format!("https://{network}.example/{entry}")),
            likes: counts[0],
            reposts: counts[1],
            quotes: counts[2],
            replies: counts[3],
            comments: counts[3],
            followers: Some(followers),
        }
    }

    pub(crate) fn history() -> Vec<Snapshot> {
        vec![
            snap(
                "2026-05-01T10:00:00Z",
                "news/a.md",
                "mastodon",
                [1, 0, 0, 0],
                100,
            ),
            snap(
                "2026-05-01T10:00:00Z",
                "news/a.md",
                "bluesky",
                [2, 1, 0, 1],
                50,
            ),
            snap(
                "2026-05-03T10:00:00Z",
                "news/a.md",
                "mastodon",
                [10, 4, 1, 2],
                110,
            ),
            snap(
                "2026-05-03T10:00:00Z",
                "news/a.md",
                "bluesky",
                [5, 2, 0, 3],
                55,
            ),
            snap(
                "2026-05-03T10:00:00Z",
                "news/b.md",
                "mastodon",
                [3, 0, 0, 0],
                110,
            ),
            snap("not a time", "news/b.md", "mastodon", [99, 0, 0, 0], 1),
        ]
    }

    pub(crate) fn entries() -> HashMap<String, EntryInfo> {
        [
            (
                "news/a.md".to_string(),
                EntryInfo {
                    title: "Launch".into(),
                    url: "https://x.example/news/a/".into(),
                    published: NaiveDate::from_ymd_opt(2026, 5, 1),
                    tags: vec!["product".into(), "api".into()],
                },
            ),
            (
                "news/b.md".to_string(),
                EntryInfo {
                    title: "Update".into(),
                    url: "https://x.example/news/b/".into(),
                    published: NaiveDate::from_ymd_opt(2026, 5, 2),
                    tags: vec!["product".into()],
                },
            ),
        ]
        .into()
    }

    #[test]
    fn latest_counts_per_post_totals_and_tags() {
        let r = aggregate(&history(), &entries(), Period::default());
        let rows: Vec<(&str, &str, u64, u64)> = r
            .rows
            .iter()
            .map(|r| (r.entry.as_str(), r.network.as_str(), r.total, r.gained))
            .collect();
        assert_eq!(
            rows,
            [
                ("news/a.md", "mastodon", 17, 17),
                ("news/a.md", "bluesky", 10, 10),
                ("news/b.md", "mastodon", 3, 3)
            ]
        );
        assert_eq!(r.rows[0].title, "Launch");
        assert_eq!(r.rows[0].followers, Some(110));
        assert_eq!(r.last_fetched.as_deref(), Some("2026-05-03T10:00:00Z"));
        let m = &r.networks[1];
        assert_eq!((m.network.as_str(), m.posts, m.total), ("mastodon", 2, 20));
        assert_eq!((m.followers_start, m.followers_end), (Some(100), Some(110)));
        assert_eq!(r.top_entries[0].total, 27);
        assert_eq!(
            r.tags,
            [
                TagTotal {
                    tag: "product".into(),
                    entries: 2,
                    total: 30
                },
                TagTotal {
                    tag: "api".into(),
                    entries: 1,
                    total: 27
                },
            ]
        );
        let s = r.series.iter().find(|s| s.network == "bluesky").unwrap();
        assert_eq!(s.points, [(0.42, 4), (2.42, 10)], "days since publication");
    }

    #[test]
    fn a_period_keeps_its_snapshots_and_counts_what_it_gained() {
        let since = NaiveDate::from_ymd_opt(2026, 5, 2);
        let r = aggregate(&history(), &entries(), Period { since, until: None });
        let a = r
            .rows
            .iter()
            .find(|r| r.network == "mastodon" && r.entry == "news/a.md")
            .unwrap();
        assert_eq!((a.total, a.gained), (17, 16));
        assert_eq!(r.top_entries[0].entry, "news/a.md");
        assert_eq!(r.top_entries[0].gained, 16 + 6);
        let until = NaiveDate::from_ymd_opt(2026, 5, 1);
        let r = aggregate(&history(), &entries(), Period { since: None, until });
        assert_eq!(r.rows.len(), 2, "b was first seen after the period");
        assert_eq!(r.last_fetched.as_deref(), Some("2026-05-01T10:00:00Z"));
    }

    #[test]
    fn an_entry_gone_from_content_shows_by_its_path() {
        let r = aggregate(&history(), &HashMap::new(), Period::default());
        assert_eq!(r.rows[0].title, "news/a.md");
        assert!(r.tags.is_empty());
    }
}
