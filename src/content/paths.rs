//! The URL paths of pages and sections.

use super::Page;

/// The URL path `page` will have, known from its front matter alone: a
/// section's path comes from its folder alone (see `section_path`).
pub(super) fn early_path(page: &Page) -> std::borrow::Cow<'_, str> {
    let section = match page.path.is_empty() {
        true => section_path(&page.section),
        false => String::new(),
    };
    page_path(page, &section)
}

/// A page's URL path: the one its front matter gives, or its section's
/// path and its slug.
pub(super) fn page_path<'a>(page: &'a Page, section_path: &str) -> std::borrow::Cow<'a, str> {
    match page.path.as_str() {
        "" => format!("{section_path}{}/", page.slug).into(),
        path => path.into(),
    }
}

pub(super) fn section_path(dir: &str) -> String {
    if dir.is_empty() {
        "/".into()
    } else {
        let segments: Vec<String> = dir.split('/').map(url_segment).collect();
        format!("/{}/", segments.join("/"))
    }
}

/// A folder name as a URL segment: a date prefix is kept, case is lowered.
pub(super) fn url_segment(s: &str) -> String {
    let slugged = slug::slugify(s);
    if slugged.is_empty() {
        s.to_string()
    } else {
        slugged
    }
}

pub(super) fn title_from_dir(dir: &str) -> String {
    let name = dir.rsplit('/').next().unwrap_or(dir);
    if name.is_empty() {
        return String::new();
    }
    let words = name.replace(['-', '_'], " ");
    let mut c = words.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// `"/a/b"`, `"a/b/"` → `"/a/b/"`; `None` for paths with `..` or odd characters.
pub fn normalize_path(p: &str) -> Option<String> {
    let parts: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
    let ok = parts.iter().all(|s| {
        *s != "." && *s != ".." && s.chars().all(|c| c.is_alphanumeric() || "-_.~".contains(c))
    });
    if !ok {
        return None;
    }
    if parts.is_empty() {
        return Some("/".into());
    }
    // A path to a file (`/feed.xml`) keeps no trailing slash.
    let last = parts[parts.len() - 1];
    let is_file = last.contains('.') && p.ends_with(last);
    Some(format!(
        "/{}{}",
        parts.join("/"),
        if is_file { "" } else { "/" }
    ))
}

/// `a/b/c.md` → `a/b`; `c.md` → ``.
pub(super) fn parent_dir(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalise_and_refuse_escapes() {
        assert_eq!(normalize_path("a/b").as_deref(), Some("/a/b/"));
        assert_eq!(normalize_path("/a/b/").as_deref(), Some("/a/b/"));
        assert_eq!(
            normalize_path("/old/feed.xml").as_deref(),
            Some("/old/feed.xml")
        );
        assert_eq!(normalize_path("/a/../b"), None);
        assert_eq!(normalize_path("/a b/"), None);
    }

    #[test]
    fn folder_titles_read_well() {
        assert_eq!(title_from_dir("news/product-updates"), "Product updates");
        assert_eq!(section_path("news/Mobile"), "/news/mobile/");
    }
}
