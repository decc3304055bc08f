//! What the server serves: the last good build, the pages rendered ahead of
//! it, and the generation each page was last changed in.

use super::http::url_paths_for;
use super::live;
use super::reload::{self, Hub, Message, Problem};
use crate::error::{Error, Result};
use crate::output::Output;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// What is served: the last good build.
#[derive(Default)]
pub struct Snapshot {
    /// Rendered pages, feeds and page-bundle assets.
    pub documents: Arc<Output>,
    /// Static files; they win over documents at the same path.
    pub statics: Arc<Output>,
    /// Pages rendered ahead of `documents` (they win over both), until a
    /// build that includes their edit.
    pub ahead: Arc<BTreeMap<String, AheadPage>>,
    /// Counts successful builds; pages carry it to notice a missed rebuild.
    pub generation: u64,
}

/// A page rendered ahead of the rest of the site.
#[derive(Clone)]
pub struct AheadPage {
    /// The rebuild job that will include the edit.
    pub seq: u64,
    /// Its HTML.
    pub html: Vec<u8>,
}

/// A file of the snapshot, found for a request.
pub(super) enum Found<'a> {
    Bytes(&'a [u8]),
    Copy(&'a Path),
}

impl Snapshot {
    pub(super) fn find(&self, key: &str) -> Option<Found<'_>> {
        let s = &self.statics;
        let d = &self.documents;
        if let Some(a) = self.ahead.get(key) {
            return Some(Found::Bytes(&a.html));
        }
        if let Some(p) = s.copies.get(key) {
            return Some(Found::Copy(p));
        }
        if let Some(b) = s.files.get(key) {
            return Some(Found::Bytes(b));
        }
        if let Some(p) = d.copies.get(key) {
            return Some(Found::Copy(p));
        }
        d.files.get(key).map(|b| Found::Bytes(b))
    }

    pub(super) fn has(&self, key: &str) -> bool {
        self.find(key).is_some()
    }

    /// A rendered file, ahead or not.
    fn rendered(&self, key: &str) -> Option<&[u8]> {
        match self.ahead.get(key) {
            Some(a) => Some(&a.html),
            None => self.documents.files.get(key).map(|b| b.as_slice()),
        }
    }

    /// The URL paths whose rendered file differs from `old`'s, or `None`
    /// when too much changed to list (then every page reloads).
    pub fn changed_since(&self, old: &Snapshot) -> Option<Vec<String>> {
        const MAX: usize = 1000;
        let mut keys: Vec<&str> = Vec::new();
        let new_keys = self.documents.files.keys().chain(self.ahead.keys());
        for key in new_keys {
            if self.rendered(key) != old.rendered(key) && !keys.contains(&key.as_str()) {
                keys.push(key);
            }
            if keys.len() > MAX {
                return None;
            }
        }
        for key in old.documents.files.keys().chain(old.ahead.keys()) {
            if self.rendered(key).is_none() && !keys.contains(&key.as_str()) {
                keys.push(key);
            }
        }
        if keys.len() > MAX {
            return None;
        }
        Some(keys.into_iter().flat_map(url_paths_for).collect())
    }

    /// True when `source` is a file this snapshot copies (static or asset).
    pub fn copies_source(&self, source: &Path) -> bool {
        self.statics.copies_from(source) || self.documents.copies_from(source)
    }
}

/// When each page last changed, so that a page whose event stream connects
/// late can tell a rebuild that changed it, which it missed, from one that
/// did not: right after a page is rendered ahead, the full rebuild that
/// follows changes nothing on it, and a page that reloaded for the first
/// and heard of the second on connecting reloaded again for nothing.
#[derive(Default)]
struct PageChanges {
    /// The last generation that reloaded every page.
    all: u64,
    /// URL path → the last generation that changed it, since `all`.
    paths: std::collections::HashMap<String, u64>,
}

impl PageChanges {
    fn note(&mut self, generation: u64, paths: Option<&[String]>) {
        match paths {
            None => {
                self.all = generation;
                self.paths.clear();
            }
            Some(paths) => {
                for p in paths {
                    self.paths.insert(p.clone(), generation);
                }
            }
        }
    }

    fn last_changed(&self, path: &str) -> u64 {
        self.paths.get(path).copied().unwrap_or(0).max(self.all)
    }
}

/// What the HTTP workers share with the rebuild loop.
pub struct State {
    snapshot: RwLock<Arc<Snapshot>>,
    problems: RwLock<Option<Vec<Problem>>>,
    changes: RwLock<PageChanges>,
    /// The connected browsers.
    pub hub: Hub,
    /// The site's folder, symlinks resolved: no copied file may leave it.
    pub(super) root: PathBuf,
    /// Names this server run, so pages notice a restart.
    pub(super) server_id: String,
}

impl State {
    /// State for the site in `root`, with nothing built yet.
    pub fn new(root: &Path) -> Result<State> {
        let root = root
            .canonicalize()
            .map_err(|e| Error::io("open", root, e))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        Ok(State {
            snapshot: RwLock::default(),
            problems: RwLock::default(),
            changes: RwLock::default(),
            hub: Hub::default(),
            root,
            server_id: format!("{:x}-{:x}", std::process::id(), nanos),
        })
    }

    /// What is being served now.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Serves a new build and clears the error; returns its generation.
    /// `seq` is the last rebuild job it includes: pages rendered ahead for
    /// later jobs stay in front of it.
    pub fn publish(&self, documents: Arc<Output>, statics: Arc<Output>, seq: u64) -> u64 {
        let mut slot = self.snapshot.write().unwrap_or_else(|p| p.into_inner());
        let generation = slot.generation + 1;
        let ahead: BTreeMap<String, AheadPage> = slot
            .ahead
            .iter()
            .filter(|(_, a)| a.seq > seq)
            .map(|(k, a)| (k.clone(), a.clone()))
            .collect();
        *slot = Arc::new(Snapshot {
            documents,
            statics,
            ahead: Arc::new(ahead),
            generation,
        });
        drop(slot);
        *self.problems.write().unwrap_or_else(|p| p.into_inner()) = None;
        generation
    }

    /// Serves pages rendered ahead over the current build, until the build
    /// of job `seq`; returns the new generation.
    pub fn publish_ahead(&self, pages: live::Ahead, seq: u64) -> u64 {
        let mut slot = self.snapshot.write().unwrap_or_else(|p| p.into_inner());
        let mut ahead: BTreeMap<String, AheadPage> = (*slot.ahead).clone();
        ahead.extend(
            pages
                .into_iter()
                .map(|(k, html)| (k, AheadPage { seq, html })),
        );
        let generation = slot.generation + 1;
        *slot = Arc::new(Snapshot {
            documents: slot.documents.clone(),
            statics: slot.statics.clone(),
            ahead: Arc::new(ahead),
            generation,
        });
        generation
    }

    /// Tells the browsers that `generation` changed the pages at the URL
    /// `paths` (every page: `None`), and remembers it for pages that
    /// connect later (see [`State::last_changed`]).
    pub fn announce(&self, generation: u64, paths: Option<Vec<String>>) {
        let note = || self.note(generation, paths.as_deref());
        self.hub.broadcast_after(
            note,
            &Message::Reload {
                generation,
                paths: paths.clone(),
            },
        );
    }

    /// Tells the browsers that `generation` changed only the stylesheets at
    /// the URL `paths`, to swap in place. A page that connects later and
    /// was served before it reloads.
    pub fn announce_css(&self, generation: u64, paths: Vec<String>) {
        let note = || self.note(generation, None);
        self.hub
            .broadcast_after(note, &Message::Css { generation, paths });
    }

    fn note(&self, generation: u64, paths: Option<&[String]>) {
        self.changes
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .note(generation, paths);
    }

    /// Takes over the event stream of a browser that asked for `url` (see
    /// [`reload::EVENTS_PATH`]): its `hello` says the last generation that
    /// changed the page it names (or the current one), and the problems of
    /// a failed rebuild.
    pub fn connect(&self, writer: Box<dyn std::io::Write + Send>, url: &str) {
        let hello = || {
            // A page says which it is: it hears the last generation that
            // changed it, and reloads only if that is later than its own.
            let generation = match reload::page_of_events_url(url) {
                Some(page) => page.iter().map(|p| self.last_changed(p)).max().unwrap_or(0),
                None => self.snapshot().generation,
            };
            (generation, self.problems())
        };
        self.hub.connect(writer, &self.server_id, hello);
    }

    /// A new generation of the same files, for a change to files served as
    /// they are (which need no rebuild): pages served before it can tell.
    pub fn bump(&self) -> u64 {
        let mut slot = self.snapshot.write().unwrap_or_else(|p| p.into_inner());
        let generation = slot.generation + 1;
        *slot = Arc::new(Snapshot {
            documents: slot.documents.clone(),
            statics: slot.statics.clone(),
            ahead: slot.ahead.clone(),
            generation,
        });
        generation
    }

    /// The last generation announced to change the page at the URL path
    /// `path` (0: none since the server started).
    pub fn last_changed(&self, path: &str) -> u64 {
        self.changes
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .last_changed(path)
    }

    /// Keeps the last good build, remembers why the new one failed, and
    /// shows it in every browser (and in those that connect later).
    pub fn fail(&self, problems: Vec<Problem>) {
        let message = Message::Failed {
            problems: problems.clone(),
        };
        let note = move || {
            *self.problems.write().unwrap_or_else(|p| p.into_inner()) = Some(problems);
        };
        self.hub.broadcast_after(note, &message);
    }

    /// The problems of the last rebuild, when it failed.
    pub fn problems(&self) -> Option<Vec<Problem>> {
        self.problems
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_last_changed_when_a_reload_last_named_it_or_every_page() {
        let mut c = PageChanges::default();
        assert_eq!(c.last_changed("/a/"), 0);
        c.note(1, None);
        c.note(2, Some(&["/a/".to_string()]));
        c.note(3, Some(&["/b/".to_string()]));
        assert_eq!(
            (
                c.last_changed("/a/"),
                c.last_changed("/b/"),
                c.last_changed("/")
            ),
            (2, 3, 1)
        );
        c.note(4, None);
        assert_eq!((c.last_changed("/a/"), c.last_changed("/")), (4, 4));
        c.note(5, Some(&[]));
        assert_eq!(c.last_changed("/a/"), 4);
    }

    fn output(files: &[(&str, &str)]) -> Arc<Output> {
        let mut o = Output::default();
        for (k, v) in files {
            o.add(*k, *v);
        }
        Arc::new(o)
    }

    #[test]
    fn pages_rendered_ahead_stay_until_the_build_that_includes_them() {
        let t = tempfile::tempdir().unwrap();
        let state = State::new(t.path()).unwrap();
        let docs = output(&[("a/index.html", "a1"), ("b/index.html", "b1")]);
        state.publish(docs, Arc::default(), 0);
        let ahead = [("a/index.html".to_string(), b"a2".to_vec())].into();
        state.publish_ahead(ahead, 1);
        let snap = state.snapshot();
        assert!(matches!(
            snap.find("a/index.html"),
            Some(Found::Bytes(b"a2"))
        ));
        // A build of job 1 replaces it; one of job 0 (older) does not.
        let old = state.snapshot();
        state.publish(output(&[("a/index.html", "a1")]), Arc::default(), 0);
        assert!(matches!(
            state.snapshot().find("a/index.html"),
            Some(Found::Bytes(b"a2"))
        ));
        assert_eq!(
            state.snapshot().changed_since(&old),
            Some(vec!["/b/".to_string(), "/b/index.html".to_string()])
        );
        let docs = output(&[("a/index.html", "a2"), ("b/index.html", "b1")]);
        state.publish(docs, Arc::default(), 1);
        let snap = state.snapshot();
        assert!(snap.ahead.is_empty());
        assert!(matches!(
            snap.find("a/index.html"),
            Some(Found::Bytes(b"a2"))
        ));
        assert_eq!(snap.generation, 4);
    }
}
