//! `herald init [DIR]`: a new site with the default theme.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

const SITE_TOML: &str = r#"# The public address of the site: every permalink and feed starts with it.
base_url = "https://news.example.com"
# The site's name, in titles and feeds.
title = "Example News"
# One sentence about the site, for feeds and search engines.
description = "Product updates and company news"
# Language of the content (for <html lang> and feeds).
language = "en"
# Author of entries that name none.
author = "The Example team"
# A folder in themes/.
theme = "default"

[feeds]
# Which feeds to write: atom, rss, json.
formats = ["atom", "rss", "json"]
# How many of the newest entries each feed carries.
limit = 20

[[taxonomies]]
name = "tags"

[syndicate]
# Only entries dated after this are cross-posted (unless --backfill).
since = 2026-01-01
"#;

const ROOT_INDEX: &str = "+++\ntitle = \"Example News\"\npaginate_by = 10\n+++\n";
const NEWS_INDEX: &str = "+++\ntitle = \"News\"\nsort_by = \"date\"\n+++\n";

/// Creates a site in `dir` (created if missing); refuses to overwrite one.
pub fn init(dir: &Path, today: chrono::NaiveDate) -> Result<Vec<PathBuf>> {
    if dir.join(crate::config::CONFIG_FILE).exists() {
        return Err(Error::Other(format!(
            "`{}` already holds a site (site.toml exists); choose an empty folder",
            dir.display()
        )));
    }
    let welcome = format!(
        "+++\ntitle = \"Welcome to the news site\"\ndescription = \"Our first entry.\"\ndate = {today}\n\n[taxonomies]\ntags = [\"company\"]\n+++\nThis is the first entry. Edit `content/news/` and run `herald serve`.\n"
    );
    let mut files: Vec<(PathBuf, Vec<u8>)> = vec![
        ("site.toml".into(), SITE_TOML.into()),
        ("content/_index.md".into(), ROOT_INDEX.into()),
        ("content/news/_index.md".into(), NEWS_INDEX.into()),
        (
            format!("content/news/{today}-welcome.md").into(),
            welcome.into_bytes(),
        ),
        ("static/.gitkeep".into(), Vec::new()),
        // What builds leave beside the sources: the site, its staging
        // folders, and the cache that makes rebuilds fast.
        (
            ".gitignore".into(),
            b"/public\n/.public.*\n/.herald-cache\n".to_vec(),
        ),
    ];
    collect_theme(&crate::templates::DEFAULT_THEME, &mut files);
    let mut written = Vec::new();
    for (rel, bytes) in files {
        let path = dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| Error::io("write", &path, e))?;
        written.push(rel);
    }
    Ok(written)
}

fn collect_theme(dir: &include_dir::Dir<'_>, into: &mut Vec<(PathBuf, Vec<u8>)>) {
    for f in dir.files() {
        into.push((
            Path::new("themes/default").join(f.path()),
            f.contents().to_vec(),
        ));
    }
    for d in dir.dirs() {
        collect_theme(d, into);
    }
}
