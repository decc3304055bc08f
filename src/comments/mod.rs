//! `herald comments`: the conversation about each entry on Mastodon, Bluesky
//! and Discourse, brought home as the entry's comment section.
//!
//! The stages, each a module: [`targets`] (what the ledger says was posted,
//! and how to reach each network) → [`fetch`] (one file per network, into
//! the common [`model`], every comment through [`sanitize`]) → [`store`]
//! (`data/comments/`, atomic) → at build time, [`view`] (the block list of
//! [`moderate`] applied, threads merged and nested) → `page.comments`.
//! Settings come from `[comments]` of `site.toml` ([`config`]).

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
    let text =
        std::fs::read_to_string(site.root.join(crate::config::CONFIG_FILE)).unwrap_or_default();
    let cc = match CommentsConfig::from_config(&site.config, &text) {
        Ok(c) => c,
        Err(e) => return (vec![None; n], diagnostics(e)),
    };
    let moderator = moderate::Moderator::new(&cc.block);
    let mut out = Vec::with_capacity(n);
    let mut problems = Vec::new();
    for p in &site.content.pages {
        if !p.comments {
            out.push(None);
            continue;
        }
        match view_for(&site.root, &p.rel, &moderator) {
            Ok(v) => out.push(v),
            Err(e) => {
                out.push(None);
                problems.extend(diagnostics(e));
            }
        }
    }
    (out, problems)
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

/// The comment section of the entry `rel` (relative to `content/`).
pub fn view_for(
    root: &Path,
    rel: &str,
    moderator: &moderate::Moderator,
) -> Result<Option<serde_json::Value>> {
    Ok(store::load(root, rel)?
        .and_then(|data| view::build(&data, moderator))
        .map(|v| serde_json::to_value(v).expect("views serialize")))
}
