//! Watching the site's files, and sorting each change by what it affects.
//!
//! notify reports raw events; `notify-debouncer-full` folds a burst of them
//! (an editor's temp file, rename and touch) into batches, and the serve
//! loop merges batches that follow each other within [`SETTLE`] into one
//! rebuild. [`classify`] then says what a batch touches — content,
//! templates, static files or `site.toml` — so the dev server redoes only
//! that.

use crate::error::{Error, Result};
use notify_debouncer_full::notify::event::{AccessKind, AccessMode};
use notify_debouncer_full::notify::{EventKind, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{new_debouncer_opt, DebounceEventResult, Debouncer, NoCache};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a file must stay quiet before its change is reported. Editors
/// finish a save within a few milliseconds; this keeps a burst of saves to
/// one rebuild while adding little to the time a writer waits.
pub const DEBOUNCE: Duration = Duration::from_millis(20);

/// How often the debouncer looks for quiet files.
pub const TICK: Duration = Duration::from_millis(5);

/// The debouncer reports each change once it is [`DEBOUNCE`] old, so one
/// save touching several files (or one file twice) can arrive as batches a
/// tick or more apart: batches closer than this make one rebuild. Spanning
/// the debounce window, it makes any burst whose changes are less than
/// [`DEBOUNCE`] apart one rebuild.
pub const SETTLE: Duration = Duration::from_millis(25);

/// The folders under the site root that are watched (recursively).
/// (`data/` holds the syndication ledger and fetched comments, which pages
/// show.)
pub const WATCHED_DIRS: [&str; 5] = ["content", "templates", "static", "themes", "data"];

/// What a batch of file changes touches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// `site.toml`: everything is reloaded.
    pub config: bool,
    /// A template (the site's `templates/` or a theme's).
    pub templates: bool,
    /// A Markdown file, or a file added to or removed from `content/`.
    pub content: bool,
    /// A file added to or removed from a `static/` folder.
    pub static_set: bool,
    /// Files that exist and were only modified in a `static/` folder or
    /// beside the content: served from disk, so nothing is rebuilt.
    pub static_edits: Vec<PathBuf>,
    /// The changed files, relative to the site root, for the terminal.
    pub paths: Vec<PathBuf>,
}

impl Changes {
    /// True when nothing that matters changed.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Adds another batch to this one.
    pub fn merge(&mut self, other: Changes) {
        self.config |= other.config;
        self.templates |= other.templates;
        self.content |= other.content;
        self.static_set |= other.static_set;
        for p in other.static_edits {
            if !self.static_edits.contains(&p) {
                self.static_edits.push(p);
            }
        }
        for p in other.paths {
            if !self.paths.contains(&p) {
                self.paths.push(p);
            }
        }
    }

    /// True when only existing stylesheets changed: the browser can swap
    /// them without reloading the page.
    pub fn css_only(&self) -> bool {
        !self.config
            && !self.templates
            && !self.content
            && !self.static_set
            && !self.static_edits.is_empty()
            && self
                .static_edits
                .iter()
                .all(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("css")))
    }
}

/// True for the names of image files a page may give the size of: an
/// edit may have left one unreadable, which no header then tells.
fn is_image_name(name: &str) -> bool {
    const IMAGES: [&str; 13] = [
        "png", "jpg", "jpeg", "gif", "webp", "avif", "bmp", "ico", "tif", "tiff", "heic", "jxl",
        "qoi",
    ];
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| IMAGES.iter().any(|i| ext.eq_ignore_ascii_case(i)))
}

/// Files editors write beside the real ones: swap files, backups, lock
/// files, vim's `4913` probe.
fn is_editor_noise(name: &str) -> bool {
    name.starts_with(".#")
        || name.starts_with('#')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name == "4913"
}

/// Sorts changed paths (absolute, or relative to `root`) by what they affect.
///
/// `is_known` says whether an output already serves a file from that source
/// path, which tells a modified static file (served from disk as it is) from
/// a new one (the list of files changes).
pub fn classify(root: &Path, paths: &[PathBuf], is_known: &dyn Fn(&Path) -> bool) -> Changes {
    let mut c = Changes::default();
    for path in paths {
        let rel = path.strip_prefix(root).unwrap_or(path);
        let parts: Vec<&str> = rel
            .components()
            .filter_map(|p| match p {
                Component::Normal(s) => s.to_str(),
                _ => None,
            })
            .collect();
        let Some(name) = parts.last() else { continue };
        // The content loader skips hidden files; static folders copy them
        // (`.well-known/`), so only editors' files are noise there.
        let hidden_content = parts[0] == "content" && parts.iter().any(|p| p.starts_with('.'));
        if is_editor_noise(name) || hidden_content {
            continue;
        }
        let exists = path.is_file() || root.join(rel).is_file();
        // Pages say the `width` and `height` of the images they show.
        let has_size = || crate::content::images::size_of(&root.join(rel)).is_some();
        let kind = match parts.as_slice() {
            [crate::config::CONFIG_FILE] => Kind::Config,
            ["content", ..] if name.ends_with(".md") => Kind::Content,
            ["content", ..] if path.is_dir() => Kind::Content,
            ["content", ..] => Kind::Asset,
            ["data", ..] => Kind::Content,
            ["templates", ..] => Kind::Templates,
            ["static", ..] => Kind::Static,
            ["themes", _, "static", ..] => Kind::Static,
            // A theme's folder itself (the debouncer reports a folder
            // removed as that one path): without the default theme's
            // folder, its files come from the binary.
            ["themes", _] => Kind::Theme,
            ["themes", ..] => Kind::Templates,
            // The root itself: the watched folders being created or removed.
            [dir] if WATCHED_DIRS.contains(dir) => Kind::Config,
            _ => continue,
        };
        match kind {
            Kind::Config => c.config = true,
            Kind::Templates => c.templates = true,
            Kind::Theme => {
                c.templates = true;
                c.static_set = true;
            }
            Kind::Content => c.content = true,
            Kind::Asset | Kind::Static if exists && is_known(&root.join(rel)) => {
                // An image edited to another size (or to no image at all)
                // changes the pages that show it, which only a rebuild finds.
                c.content |= is_image_name(name) || has_size();
                c.static_edits.push(rel.to_path_buf())
            }
            Kind::Asset => c.content = true,
            Kind::Static => {
                // A page may already show an image at this URL: a new one
                // gives it a size, a removed one (whose header is gone with
                // it) takes the size away. The reload goes through the
                // caches: only pages whose image lookups changed render.
                c.content |= !exists || has_size();
                c.static_set = true
            }
        }
        if !c.paths.iter().any(|p| p == rel) {
            c.paths.push(rel.to_path_buf());
        }
    }
    c
}

enum Kind {
    Config,
    Templates,
    Theme,
    Content,
    Asset,
    Static,
}

/// Watches a site; dropping it stops watching.
pub struct SiteWatcher {
    debouncer: Shared,
}

/// The debouncer, shared with its own event handler, which watches each
/// watched folder that appears (see [`watch`]); `None` once stopped.
type Shared = Arc<Mutex<Option<Debouncer<RecommendedWatcher, NoCache>>>>;

impl Drop for SiteWatcher {
    fn drop(&mut self) {
        // Taken out first, dropped outside the lock: the handler may be
        // waiting for it.
        let debouncer = self.debouncer.lock().ok().and_then(|mut d| d.take());
        drop(debouncer);
    }
}

/// True for events that change something: not the opening or reading of a
/// file (the rebuild itself reads every file it watches).
fn is_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) | EventKind::Other => false,
        _ => true,
    }
}

/// Starts watching `root`: `site.toml` and the [`WATCHED_DIRS`] that exist.
/// Each debounced batch of changed paths (absolute) goes to `on_batch`.
pub fn watch(root: &Path, on_batch: impl Fn(Vec<PathBuf>) + Send + 'static) -> Result<SiteWatcher> {
    let shared: Shared = Arc::new(Mutex::new(None));
    // Weak: the debouncer owns this handler.
    let debouncer = Arc::downgrade(&shared);
    let site = root.to_path_buf();
    let handler = move |res: DebounceEventResult| {
        // Errors of the watcher itself (e.g. a folder removed while being
        // watched) cannot be fixed here; the next save reports again.
        if let Ok(events) = res {
            let mut paths: Vec<PathBuf> = Vec::new();
            for e in events.into_iter().filter(|e| is_change(&e.kind)) {
                for p in &e.paths {
                    if !paths.contains(p) {
                        paths.push(p.clone());
                    }
                }
            }
            // A watched folder made (or removed and made again, as a
            // checkout does) after the start: what is in it is watched
            // from now on, before the rebuild reads it.
            for p in paths
                .iter()
                .filter(|p| is_watched_dir(&site, p) && p.is_dir())
            {
                if let Some(shared) = debouncer.upgrade() {
                    if let Some(d) = shared.lock().ok().as_mut().and_then(|d| d.as_mut()) {
                        let _ = d.unwatch(p);
                        let _ = d.watch(p, RecursiveMode::Recursive);
                    }
                }
            }
            if !paths.is_empty() {
                on_batch(paths);
            }
        }
    };
    let fail = |path: &Path, e: notify_debouncer_full::notify::Error| {
        Error::Other(format!("could not watch `{}`: {e}", path.display()))
    };
    let mut debouncer = new_debouncer_opt::<_, RecommendedWatcher, NoCache>(
        DEBOUNCE,
        Some(TICK),
        handler,
        NoCache,
        notify_debouncer_full::notify::Config::default(),
    )
    .map_err(|e| fail(root, e))?;
    // The root itself, not recursively: `site.toml` (editors replace it by
    // renaming, which a watch on the file alone would lose) and folders
    // appearing. The output folder and `target/` are never watched.
    debouncer
        .watch(root, RecursiveMode::NonRecursive)
        .map_err(|e| fail(root, e))?;
    for dir in WATCHED_DIRS {
        let path = root.join(dir);
        if path.is_dir() {
            debouncer
                .watch(&path, RecursiveMode::Recursive)
                .map_err(|e| fail(&path, e))?;
        }
    }
    *shared.lock().unwrap_or_else(|e| e.into_inner()) = Some(debouncer);
    Ok(SiteWatcher { debouncer: shared })
}

/// True when `path` is one of the [`WATCHED_DIRS`] of the site in `root`.
fn is_watched_dir(root: &Path, path: &Path) -> bool {
    path.strip_prefix(root)
        .ok()
        .and_then(|rel| rel.to_str())
        .is_some_and(|rel| WATCHED_DIRS.contains(&rel))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        for d in ["content/news", "static", "templates", "themes/t/static"] {
            std::fs::create_dir_all(t.path().join(d)).unwrap();
        }
        for f in [
            "site.toml",
            "content/news/a.md",
            "content/news/pic.png",
            "static/style.css",
            "static/app.js",
            "templates/page.html",
            "themes/t/static/theme.css",
        ] {
            std::fs::write(t.path().join(f), "x").unwrap();
        }
        t
    }

    /// A PNG header: signature, then IHDR with 3 × 2 pixels.
    fn png_3x2() -> Vec<u8> {
        [
            &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a][..],
            &[
                0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 3, 0, 0, 0, 2, 8, 6, 0, 0, 0,
            ],
        ]
        .concat()
    }

    fn classify_rel(root: &Path, rel: &[&str], known: bool) -> Changes {
        let paths: Vec<PathBuf> = rel.iter().map(|r| root.join(r)).collect();
        classify(root, &paths, &|_| known)
    }

    #[test]
    fn markdown_is_content_and_templates_are_templates() {
        let t = site();
        let c = classify_rel(t.path(), &["content/news/a.md"], true);
        assert!(c.content && !c.templates && !c.config && c.static_edits.is_empty());
        let c = classify_rel(t.path(), &["templates/page.html"], true);
        assert!(c.templates && !c.content);
        // A theme's folder, added or removed whole: its static files too.
        let c = classify_rel(t.path(), &["themes/t"], true);
        assert!(c.templates && c.static_set, "{c:?}");
        let c = classify_rel(t.path(), &["site.toml"], true);
        assert!(c.config);
    }

    #[test]
    fn edited_static_files_rebuild_nothing_and_css_can_be_swapped() {
        let t = site();
        let c = classify_rel(
            t.path(),
            &["static/style.css", "themes/t/static/theme.css"],
            true,
        );
        assert!(!c.content && !c.templates && !c.static_set);
        assert_eq!(c.static_edits.len(), 2);
        assert!(c.css_only());
        let c = classify_rel(t.path(), &["static/style.css", "static/app.js"], true);
        assert!(!c.css_only());
    }

    #[test]
    fn an_edited_image_rebuilds_the_pages_that_give_its_size() {
        let t = site();
        for rel in ["content/news/pic.png", "static/logo.png"] {
            std::fs::write(t.path().join(rel), png_3x2()).unwrap();
            let c = classify_rel(t.path(), &[rel], true);
            assert!(c.content && !c.css_only(), "{rel}: {c:?}");
            assert_eq!(c.static_edits, [PathBuf::from(rel)], "served from disk");
        }
        // Not an image any more: pages that gave its size give none.
        std::fs::write(t.path().join("static/logo.png"), "not a png").unwrap();
        let c = classify_rel(t.path(), &["static/logo.png"], true);
        assert!(c.content, "{c:?}");
        // Not an image: served from disk, nothing rebuilt.
        let c = classify_rel(t.path(), &["static/app.js"], true);
        assert!(!c.content, "{c:?}");
    }

    #[test]
    fn new_or_removed_static_files_change_the_file_list() {
        let t = site();
        let c = classify_rel(t.path(), &["static/style.css"], false);
        assert!(c.static_set && !c.css_only() && !c.content, "{c:?}");
        let c = classify_rel(t.path(), &["content/news/new.png"], false);
        assert!(c.content);
    }

    #[test]
    fn a_new_or_removed_image_rebuilds_the_pages_that_may_show_it() {
        let t = site();
        std::fs::write(t.path().join("static/new.png"), png_3x2()).unwrap();
        let c = classify_rel(t.path(), &["static/new.png"], false);
        assert!(c.static_set && c.content, "new: {c:?}");
        // Gone, its header with it: whatever it was, pages look again.
        for rel in ["static/gone.png", "static/gone.css"] {
            let c = classify_rel(t.path(), &[rel], true);
            assert!(c.static_set && c.content, "{rel} removed: {c:?}");
        }
    }

    #[test]
    fn editor_noise_and_other_folders_are_ignored() {
        let t = site();
        let c = classify_rel(
            t.path(),
            &[
                "content/news/.a.md.swp",
                "content/news/a.md~",
                "content/news/4913",
                "public/index.html",
                "target/x",
                ".git/index",
            ],
            true,
        );
        assert!(c.is_empty(), "{c:?}");
    }

    #[test]
    fn merging_batches_keeps_every_flag_and_path_once() {
        let t = site();
        let mut a = classify_rel(t.path(), &["content/news/a.md"], true);
        a.merge(classify_rel(
            t.path(),
            &["content/news/a.md", "templates/page.html"],
            true,
        ));
        assert!(a.content && a.templates);
        assert_eq!(a.paths.len(), 2);
    }
}
