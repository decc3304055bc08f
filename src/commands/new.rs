//! `herald new TITLE`: a draft entry with its front matter filled in.

use crate::error::{Diagnostic, Error, Result};
use std::path::{Path, PathBuf};

/// Writes `content/<section>/<today>-<slug>.md` and returns its path
/// relative to `root`.
pub fn new_entry(
    root: &Path,
    title: &str,
    section: &str,
    today: chrono::NaiveDate,
) -> Result<PathBuf> {
    let slug = slug::slugify(title);
    if slug.is_empty() {
        return Err(Error::Other(format!(
            "cannot make a file name from the title {title:?}: use some letters or digits"
        )));
    }
    let section = section.trim_matches('/');
    if section.split('/').any(|s| s == ".." || s == ".") {
        return Err(Error::Other(format!(
            "section `{section}` must be a folder inside content/"
        )));
    }
    let rel = Path::new(crate::content::CONTENT_DIR)
        .join(section)
        .join(format!("{today}-{slug}.md"));
    let path = root.join(&rel);
    if path.exists() {
        return Err(
            Diagnostic::new(&rel, "an entry with this name already exists")
                .help("choose another title, or edit the existing file")
                .into(),
        );
    }
    let text = format!(
        "+++\ntitle = {}\ndescription = \"\"\ndate = {today}\ndraft = true\n\n[taxonomies]\ntags = []\n+++\n\nWrite the summary here.\n\n<!-- more -->\n\nAnd the rest here.\n",
        toml::Value::String(title.to_string())
    );
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
    }
    std::fs::write(&path, text).map_err(|e| Error::io("write", &path, e))?;
    Ok(rel)
}
