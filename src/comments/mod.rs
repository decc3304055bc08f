//! `herald comments`: the conversation about each entry on Mastodon, Bluesky
//! and Discourse, brought home as the entry's comment section.
//!
//! The stages, each a module: [`targets`] (what the ledger says was posted,
//! and how to reach each network) → [`fetch`] (one file per network, into
//! the common [`model`], every comment through [`sanitize`]) → [`store`]
//! (`data/comments/`, atomic) → at build time, [`view`] (the block list of
//! [`moderate`] applied, threads merged and nested) → `page.comments`.
//! Settings come from `[comments]` of `site.toml` ([`config`]).

pub mod avatars;
pub mod config;
pub mod fetch;
pub mod http;
pub mod model;
pub mod moderate;
pub mod run;
pub mod sanitize;
pub mod store;
pub mod targets;
pub mod view;

pub use config::CommentsConfig;
pub use run::{fetch_all, FetchOptions, FetchReport, Progress, Quiet};

use crate::error::{Diagnostic, Result};
use std::path::Path;

/// The comment section of every page that has one, by page index, for the
/// render stage, and the problems met (a broken file, a bad `[comments]`).
/// Reads only `data/comments/`; never the network.
pub fn views_for_site(
    site: &crate::site::Site,
) -> (Vec<Option<serde_json::Value>>, Vec<Diagnostic>) {
    let n = site.content.pages.len();
    let shown = match Shown::new(site) {
        Ok(s) => s,
        Err(e) => return (vec![None; n], diagnostics(e)),
    };
    if !site.root.join(store::COMMENTS_DIR).is_dir() {
        // Nothing fetched yet: no need to look for ten thousand files.
        return (vec![None; n], Vec::new());
    }
    use rayon::prelude::*;
    let views: Vec<Result<Option<serde_json::Value>>> = site
        .content
        .pages
        .par_iter()
        .map(|p| shown.view_for(&site.root, p))
        .collect();
    let mut out = Vec::with_capacity(n);
    let mut problems = Vec::new();
    for v in views {
        match v {
            Ok(v) => out.push(v),
            Err(e) => {
                out.push(None);
                problems.extend(diagnostics(e));
            }
        }
    }
    (out, problems)
}

/// The comment section of page `p` alone, as [`views_for_site`] makes it
/// (for the dev server's one-page render).
pub fn view_for_page(
    site: &crate::site::Site,
    p: &crate::content::Page,
) -> Result<Option<serde_json::Value>> {
    Shown::new(site)?.view_for(&site.root, p)
}

/// What `[comments]` says about showing comments: who is blocked, and where
/// downloaded avatars are served (when they are shown).
struct Shown {
    moderator: moderate::Moderator,
    avatar_base: Option<String>,
}

impl Shown {
    fn new(site: &crate::site::Site) -> Result<Shown> {
        let text =
            std::fs::read_to_string(site.root.join(crate::config::CONFIG_FILE)).unwrap_or_default();
        let cc = CommentsConfig::from_config(&site.config, &text)?;
        Ok(Shown {
            moderator: moderate::Moderator::new(&cc.block),
            avatar_base: cc.avatars.then(|| site.config.url(avatars::AVATAR_PATH)),
        })
    }

    fn view_for(&self, root: &Path, p: &crate::content::Page) -> Result<Option<serde_json::Value>> {
        if !p.comments {
            return Ok(None);
        }
        Ok(store::load(root, &p.rel)?
            .and_then(|data| view::build(&data, &self.moderator, self.avatar_base.as_deref()))
            .map(|v| serde_json::to_value(v).expect("views serialize")))
    }
}

fn diagnostics(e: crate::Error) -> Vec<Diagnostic> {
    match e {
        crate::Error::Site(d) => d,
        crate::Error::Io {
            action,
            path,
            source,
        } => {
            vec![Diagnostic::new(
                &path,
                format!("could not {action} it: {source}"),
            )]
        }
        other => vec![Diagnostic::new(store::COMMENTS_DIR, other.to_string())],
    }
}
