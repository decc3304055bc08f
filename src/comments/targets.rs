//! What to fetch: the posts recorded in the ledger (`data/syndication.toml`)
//! and how to reach each configured network (`[networks.NAME]`).
//!
//! Both files belong to `herald syndicate`: the networks come from its
//! validated config; the ledger is read leniently (only the posts it records
//! as posted, with an id).

use super::config::CommentsConfig;
use super::fetch::{PostRef, Target};
use super::model::Kind;
use crate::config::Config;
use crate::error::Result;
use crate::ledger::{Ledger, Status};
use crate::syndicate::config::{KindConfig, SyndicateConfig};
use std::path::Path;

/// The networks of `site.toml` (`[networks.NAME]`, read and validated by
/// the syndication config), by name. `text` is the file's text, for lines.
pub fn targets(config: &Config, text: &str, comments: &CommentsConfig) -> Result<Vec<Target>> {
    let sc = SyndicateConfig::from_config(config, text)?;
    Ok(sc
        .networks
        .iter()
        .map(|n| {
            let mut t = Target {
                name: n.name.clone(),
                kind: Kind::Mastodon,
                label: n.label.clone(),
                base_url: String::new(),
                web_url: String::new(),
                token_env: None,
                username: None,
            };
            match &n.kind {
                KindConfig::Mastodon(m) => {
                    t.base_url = m.instance.clone();
                    t.token_env = Some(m.token_env.clone());
                }
                KindConfig::Bluesky(b) => {
                    t.kind = Kind::Bluesky;
                    t.base_url = comments.bluesky_appview.clone();
                    t.web_url = b.web_url.clone();
                }
                KindConfig::Discourse(d) => {
                    t.kind = Kind::Discourse;
                    t.base_url = d.url.clone();
                    t.token_env = Some(d.api_key_env.clone());
                    t.username = Some(d.username.clone());
                }
            }
            t
        })
        .collect())
}

/// Every post the ledger records as posted (intents are skipped), sorted by
/// entry, then network.
pub fn posts(root: &Path) -> Result<Vec<PostRef>> {
    Ok(posts_of(&Ledger::load(root)?))
}

/// The posts of a parsed ledger.
pub fn posts_of(ledger: &Ledger) -> Vec<PostRef> {
    let mut out = Vec::new();
    for (entry, networks) in &ledger.entries {
        for (network, r) in networks {
            if r.status != Status::Posted {
                continue;
            }
            let Some(id) = r.id.as_deref().filter(|s| !s.trim().is_empty()) else {
                continue;
            };
            out.push(PostRef {
                entry: entry.clone(),
                network: network.clone(),
                id: id.to_string(),
                url: r.url.clone(),
                posted_at: r
                    .posted_at
                    .as_deref()
                    .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                    .map(|t| t.with_timezone(&chrono::Utc)),
            });
        }
    }
    out.sort_by(|a, b| (&a.entry, &a.network).cmp(&(&b.entry, &b.network)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_posts_skip_intents() {
        let p = posts_of(&Ledger::parse(
            "[\"news/a.md\".mastodon]\nstatus = \"posted\"\nid = \"11\"\nurl = \"https://m.example/@f/11\"\nposted_at = \"2026-10-06T09:30:00Z\"\n\n[\"news/a.md\".sky]\nstatus = \"intent\"\nintent_at = \"2026-10-06T09:30:00Z\"\n",
        )
        .unwrap());
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].id, "11");
        assert_eq!(
            p[0].posted_at.unwrap().to_rfc3339(),
            "2026-10-06T09:30:00+00:00"
        );
    }
}
