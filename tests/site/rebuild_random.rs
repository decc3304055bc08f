//! Random sequences of edits to the repository's own example site. After
//! each, a rebuild over the last build (`herald build`) and the dev
//! server's rebuild give exactly the bytes a build from scratch gives, and
//! fail exactly when it fails.
//!
//! `rebuild.rs` checks each kind of change once, on a small site. Here the
//! changes come one after another on the real theme, with its pagination,
//! taxonomies, feeds and comment data, where one change moves what the
//! next depends on: a new date reorders a section, a smaller pager moves
//! entries to other pages, a removed entry breaks the links to it, an
//! image an entry shows changes size or goes, an entry becomes a bundle,
//! the Markdown options change every page. The
//! seeds are fixed, so a failure comes back with the same edits, which the
//! failure message lists. When the dev server shows an edited entry ahead
//! of the full rebuild, that page must be the one the rebuild makes.

use crate::support::*;
use herald::commands::BuildOptions;
use herald::serve::live::{render_ahead, LiveSite};
use herald::serve::watch::{classify, Changes};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// "Now" for these builds: the example site has an entry scheduled later.
const EXAMPLE_NOW: &str = "2026-11-28T00:00:00Z";

/// The kinds of edit [`Editor::edit`] makes.
const KINDS: usize = 28;

/// The kinds that undo themselves the second time (a file added, then
/// changed or removed), and time passing: twice in each sequence.
const TWICE: [usize; 4] = [18, 20, 21, 26];

/// Edits per sequence: every kind once (those of [`TWICE`] twice), in an
/// order of the seed's.
const EDITS: usize = KINDS + TWICE.len();

/// The seeds: 1 and 2, or 1 to N with `HERALD_REBUILD_SEEDS=N` (to hunt
/// for a failure: `HERALD_REBUILD_SEEDS=200 cargo test --release --test
/// site rebuild_random`).
fn seeds() -> std::ops::RangeInclusive<u64> {
    let n = std::env::var("HERALD_REBUILD_SEEDS").ok();
    1..=n.and_then(|n| n.parse().ok()).unwrap_or(2)
}

thread_local! {
    /// Days since [`EXAMPLE_NOW`] in this sequence: time passes (an edit),
    /// and scheduled entries come out with no file changed.
    static DAYS_LATER: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

/// The options of `herald build` in `root`, "now" as the sequence has it.
/// (The dev server's own rebuilds take the clock's time.)
fn options(root: &Path) -> BuildOptions {
    let mut o = BuildOptions::new(root);
    let start = chrono::DateTime::parse_from_rfc3339(EXAMPLE_NOW).unwrap();
    o.now = start + chrono::Duration::days(DAYS_LATER.get());
    o
}

/// The example site's sources (not its output or caches) copied from
/// `from` into a new temporary folder.
fn copy_sources(from: &Path) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    for part in [
        "site.toml",
        "content",
        "themes",
        "data",
        "templates",
        "static",
    ] {
        let src = from.join(part);
        if src.is_dir() {
            copy_dir(&src, &t.path().join(part));
        } else if src.is_file() {
            std::fs::copy(&src, t.path().join(part)).unwrap();
        }
    }
    t
}

type Files = Vec<(String, Vec<u8>)>;

/// `herald build` in `root`: the output folder's files (without the
/// manifest), or the error.
fn build(root: &Path) -> Result<Files, String> {
    herald::commands::build(&options(root)).map_err(|e| e.to_string())?;
    Ok(snapshot(&root.join("public"))
        .into_iter()
        .filter(|(p, _)| p != ".herald-manifest")
        .collect())
}

/// The dev server's pages, feeds and bundle files.
fn documents(live: &LiveSite) -> Files {
    live.documents()
        .files
        .iter()
        .map(|(k, v)| (k.clone(), v.to_vec()))
        .collect()
}

/// What `herald build` and `herald serve` make of `root` from scratch: no
/// output folder, no caches.
fn from_scratch(root: &Path) -> (Result<Files, String>, Result<Files, String>) {
    let fresh = copy_sources(root);
    let built = build(fresh.path());
    let served = copy_sources(root);
    let mut live = LiveSite::new(options(served.path()));
    let live = live
        .rebuild(&Changes::default())
        .map(|_| documents(&live))
        .map_err(|e| e.to_string());
    (built, live)
}

/// Panics unless `got` and `want` hold the same files with the same bytes.
fn assert_same(what: &str, got: &Files, want: &Files, log: &[String]) {
    let names = |v: &Files| v.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(got),
        names(want),
        "{what}: not the files of a build from scratch, after:\n{}",
        log.join("\n")
    );
    for ((path, a), (_, b)) in got.iter().zip(want) {
        assert!(
            a == b,
            "{what}: {path} differs from a build from scratch, after:\n{}\n--- rebuilt\n{}\n--- from scratch\n{}",
            log.join("\n"),
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(b)
        );
    }
}

/// A Markdown file split into its front matter and its body.
fn split(text: &str) -> (String, String) {
    let rest = text.strip_prefix("+++\n").expect("front matter");
    let end = rest.find("\n+++\n").expect("end of front matter");
    (rest[..end].to_string(), rest[end + 5..].to_string())
}

fn join(fm: &str, body: &str) -> String {
    format!("+++\n{fm}\n+++\n{body}")
}

/// Sets the top-level `key` (before any table) of front matter `fm`.
fn set_top(fm: &str, key: &str, value: &str) -> String {
    let mut lines: Vec<String> = fm.lines().map(String::from).collect();
    let tables = lines
        .iter()
        .position(|l| l.starts_with('['))
        .unwrap_or(lines.len());
    let line = format!("{key} = {value}");
    match lines[..tables]
        .iter()
        .position(|l| l.starts_with(&format!("{key} =")))
    {
        Some(i) => lines[i] = line,
        None => lines.insert(0, line),
    }
    lines.join("\n")
}

/// Removes the lines of `fm` that set `key`.
fn remove_key(fm: &str, key: &str) -> String {
    let prefix = format!("{key} =");
    fm.lines()
        .filter(|l| !l.starts_with(&prefix))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Sets the entry's tags.
fn set_tags(fm: &str, tags: &[&str]) -> String {
    let list = tags
        .iter()
        .map(|t| format!("\"{t}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let line = format!("tags = [{list}]");
    let mut lines: Vec<String> = remove_key(fm, "tags").lines().map(String::from).collect();
    match lines.iter().position(|l| l == "[taxonomies]") {
        Some(i) => lines.insert(i + 1, line),
        None => lines.extend(["[taxonomies]".to_string(), line]),
    }
    lines.join("\n")
}

/// Random edits to a site, each recorded so it can be undone.
struct Editor<'a> {
    root: &'a Path,
    rng: fastrand::Rng,
    /// The files the current edit touched, as they were before it
    /// (`None`: the file did not exist).
    before: BTreeMap<PathBuf, Option<Vec<u8>>>,
    /// Counts edits, to make new names and texts.
    n: usize,
    /// The kinds of edit still to make in this sequence.
    deck: Vec<usize>,
}

impl Editor<'_> {
    /// Every entry (not `_index.md`), relative to the site root.
    fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = walkdir::WalkDir::new(self.root.join("content"))
            .into_iter()
            .map(|e| e.unwrap())
            .filter(|e| {
                let name = e.file_name().to_string_lossy();
                name.ends_with(".md") && name != "_index.md"
            })
            .map(|e| {
                let rel = e.path().strip_prefix(self.root).unwrap();
                rel.to_string_lossy().into_owned()
            })
            .collect();
        v.sort();
        v
    }

    fn pick<T: Clone>(&mut self, v: &[T]) -> T {
        v[self.rng.usize(..v.len())].clone()
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root.join(rel)).unwrap()
    }

    fn remember(&mut self, rel: &str) {
        let path = self.root.join(rel);
        self.before
            .entry(path.clone())
            .or_insert_with(|| std::fs::read(&path).ok());
    }

    fn write(&mut self, rel: &str, text: &str) {
        self.remember(rel);
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn write_bytes(&mut self, rel: &str, bytes: &[u8]) {
        self.remember(rel);
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    fn remove(&mut self, rel: &str) {
        self.remember(rel);
        std::fs::remove_file(self.root.join(rel)).unwrap();
    }

    /// Changes the front matter of a random entry with `f`.
    fn front_matter(&mut self, f: impl FnOnce(&str, &mut fastrand::Rng) -> String) -> String {
        let rel = self.pick(&self.entries());
        let (fm, body) = split(&self.read(&rel));
        let fm = f(&fm, &mut self.rng);
        self.write(&rel, &join(&fm, &body));
        rel
    }

    /// Makes one random change; says what it did.
    fn edit(&mut self) -> String {
        self.before.clear();
        self.n += 1;
        let n = self.n;
        if self.deck.is_empty() {
            self.deck = (0..KINDS).chain(TWICE).collect();
            self.rng.shuffle(&mut self.deck);
        }
        match self.deck.pop().expect("a full deck") {
            0 => {
                let rel = self.pick(&self.entries());
                let text = self.read(&rel) + &format!("\n\nA paragraph added by edit {n}.\n");
                self.write(&rel, &text);
                format!("a paragraph added to {rel}")
            }
            1 => {
                let rel = self.pick(&self.entries());
                let (fm, body) = split(&self.read(&rel));
                self.write(
                    &rel,
                    &join(&fm, &format!("Edit {n} opens the summary. {body}")),
                );
                format!("the summary of {rel} edited")
            }
            2 => {
                let rel =
                    self.front_matter(|fm, _| set_top(fm, "title", &format!("\"Title {n}\"")));
                format!("{rel} renamed")
            }
            3 => {
                // Some dates are after "now": the entry is then scheduled.
                let (y, m, d) = (
                    self.rng.u32(2025..=2026),
                    self.rng.u32(1..=12),
                    self.rng.u32(1..=28),
                );
                let date = format!("{y}-{m:02}-{d:02}");
                let rel = self.front_matter(|fm, _| set_top(fm, "date", &date));
                format!("{rel} dated {date}")
            }
            4 => {
                let mut tags = Vec::new();
                let rel = self.front_matter(|fm, rng| {
                    for t in [
                        "security",
                        "company",
                        "api",
                        "mobile",
                        "reporting",
                        "brand-new",
                    ] {
                        if rng.bool() {
                            tags.push(t);
                        }
                    }
                    set_tags(fm, &tags)
                });
                format!("{rel} tagged {tags:?}")
            }
            5 => {
                let rel = self.front_matter(|fm, _| remove_key(fm, "tags"));
                format!("the tags of {rel} removed")
            }
            6 => {
                let rel =
                    self.front_matter(|fm, _| match fm.lines().any(|l| l == "draft = true") {
                        true => remove_key(fm, "draft"),
                        false => set_top(fm, "draft", "true"),
                    });
                format!("{rel} made a draft, or no longer one")
            }
            7 => {
                let section = self.pick(&["news", "releases", "releases/mobile"]);
                let day = self.rng.u32(1..=28);
                let rel = format!("content/{section}/2026-08-{day:02}-entry-{n}.md");
                let fm = set_tags(&format!("title = \"Entry {n}\""), &["api", "brand-new"]);
                self.write(&rel, &join(&fm, &format!("The body of entry {n}.\n")));
                format!("{rel} added")
            }
            8 => {
                // Another entry may link to it: then every build fails.
                let rel = self.pick(&self.entries());
                self.remove(&rel);
                format!("{rel} removed")
            }
            9 => {
                let rel = self.pick(&self.entries());
                let name = Path::new(&rel)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                let to = format!("content/{}/{name}", self.pick(&["news", "releases"]));
                if to == rel || self.root.join(&to).exists() {
                    return format!("{rel} not moved: {to} is taken");
                }
                let text = self.read(&rel);
                self.remove(&rel);
                self.write(&to, &text);
                format!("{rel} moved to {to}")
            }
            10 => {
                let t = self.pick(&[
                    "base.html",
                    "page.html",
                    "section.html",
                    "taxonomy_term.html",
                ]);
                let rel = format!("themes/default/templates/{t}");
                let text = self.read(&rel);
                let marker = format!("<!-- template edit {n} -->");
                let text = match t {
                    "base.html" => text.replace("</body>", &format!("{marker}</body>")),
                    _ => text.replacen(
                        "{% block content %}",
                        &format!("{{% block content %}}{marker}"),
                        1,
                    ),
                };
                self.write(&rel, &text);
                format!("{rel} edited")
            }
            11 => {
                let by = self.rng.u32(1..=12);
                let text = self.read("site.toml");
                let text =
                    text.replacen("\npaginate_by = ", &format!("\npaginate_by = {by}\n#"), 1);
                self.write("site.toml", &text);
                format!("site.toml: paginate_by = {by}")
            }
            12 => {
                let rel = self.pick(&["content/news/_index.md", "content/releases/_index.md"]);
                let by = self.rng.u32(1..=7);
                let (fm, body) = split(&self.read(rel));
                self.write(
                    rel,
                    &join(&set_top(&fm, "paginate_by", &by.to_string()), &body),
                );
                format!("{rel}: paginate_by = {by}")
            }
            13 => {
                let dir = self.root.join("data/comments/news");
                let files: Vec<PathBuf> = std::fs::read_dir(&dir)
                    .map(|d| d.map(|e| e.unwrap().path()).collect())
                    .unwrap_or_default();
                match files.first() {
                    Some(f) => {
                        let rel = f
                            .strip_prefix(self.root)
                            .unwrap()
                            .to_string_lossy()
                            .into_owned();
                        self.remove(&rel);
                        format!("the comments of {rel} removed")
                    }
                    None => "no comments left to remove".to_string(),
                }
            }
            14 => {
                let rel = self.pick(&self.entries());
                let text = self.read(&rel);
                self.write(&rel, &text);
                format!("{rel} saved unchanged")
            }
            15 => {
                // Pages give the `width` and `height` of their images.
                let rel = "content/news/2026-06-18-new-dispatch-board/board.png";
                let (w, h) = (self.rng.u32(1..2000), self.rng.u32(1..2000));
                self.write_bytes(rel, &png(w, h));
                format!("{rel} made {w} × {h}")
            }
            16 => {
                // Pages link to where they were posted, from the ledger.
                let rel = self.pick(&self.entries());
                let entry = rel.trim_start_matches("content/").to_string();
                let network = self.pick(&["mastodon", "bluesky", "forum"]);
                let table = format!("[\"{entry}\".{network}]");
                let ledger = "data/syndication.toml";
                let text = std::fs::read_to_string(self.root.join(ledger)).unwrap_or_default();
                if text.contains(&table) {
                    return format!("{entry} already posted to {network}");
                }
                let url = format!("https://social.example/{network}/{n}");
                let record = format!("{table}\nstatus = \"posted\"\nid = \"{n}\"\nurl = \"{url}\"\nposted_at = \"2026-11-01T10:00:00Z\"\n\n");
                self.write(ledger, &(text + &record));
                format!("{entry} recorded as posted to {network}")
            }
            17 => {
                // Files copied as they are: a new one, or the stylesheet edited.
                match self.rng.bool() {
                    true => {
                        let rel = format!("static/notes-{n}.txt");
                        self.write(&rel, &format!("Notes {n}.\n"));
                        format!("{rel} added")
                    }
                    false => {
                        let rel = "themes/default/static/style.css";
                        let text = self.read(rel) + &format!("\n/* edit {n} */\n");
                        self.write(rel, &text);
                        format!("{rel} edited")
                    }
                }
            }
            18 => {
                // The site's own template over the theme's, or gone again.
                let rel = "templates/section.html";
                match self.root.join(rel).exists() {
                    true => {
                        self.remove(rel);
                        format!("{rel} removed: the theme's again")
                    }
                    false => {
                        let theme = self.read("themes/default/templates/section.html");
                        let marker = format!("<!-- the site's own, {n} -->");
                        let text = theme.replacen(
                            "{% block content %}",
                            &format!("{{% block content %}}{marker}"),
                            1,
                        );
                        self.write(rel, &text);
                        format!("{rel} added over the theme's")
                    }
                }
            }
            19 => {
                let rel = self.front_matter(|fm, _| {
                    set_top(fm, "aliases", &format!("[\"/old/entry-{n}/\"]"))
                });
                format!("an alias for {rel}")
            }
            20 => {
                // An image under static/ that an entry shows, by its size.
                let image = "static/shots/shot.png";
                let shown = "![A shot](/shots/shot.png)";
                match self.root.join(image).exists() {
                    true if self.rng.bool() => {
                        self.remove(image);
                        format!("{image} removed")
                    }
                    _ => {
                        let (w, h) = (self.rng.u32(1..2000), self.rng.u32(1..2000));
                        self.write_bytes(image, &png(w, h));
                        let entries = self.entries();
                        let showing = entries.iter().find(|e| self.read(e).contains(shown));
                        match showing {
                            Some(rel) => format!("{image} made {w} × {h}, shown by {rel}"),
                            None => {
                                let rel = self.pick(&entries);
                                let text = self.read(&rel) + &format!("\n{shown}\n");
                                self.write(&rel, &text);
                                format!("{image} made {w} × {h} and shown by {rel}")
                            }
                        }
                    }
                }
            }
            21 => {
                // A bundle's own files: one more, one fewer, or an image
                // its page shows.
                let bundle = "content/news/2026-06-18-new-dispatch-board";
                let extra = format!("{bundle}/extra.png");
                match self.rng.u8(..3) {
                    0 => {
                        let rel = format!("{bundle}/notes-{n}.txt");
                        self.write(&rel, &format!("Notes {n}.\n"));
                        format!("{rel} added")
                    }
                    1 => {
                        let files: Vec<String> = std::fs::read_dir(self.root.join(bundle))
                            .map(|d| {
                                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                                    .collect()
                            })
                            .unwrap_or_default();
                        match files
                            .iter()
                            .find(|f| f.starts_with("notes-") || *f == "extra.png")
                        {
                            Some(f) => {
                                let rel = format!("{bundle}/{f}");
                                self.remove(&rel);
                                format!("{rel} removed")
                            }
                            None => format!("no added file in {bundle} to remove"),
                        }
                    }
                    _ => {
                        let (w, h) = (self.rng.u32(1..900), self.rng.u32(1..900));
                        self.write_bytes(&extra, &png(w, h));
                        let index = format!("{bundle}/index.md");
                        if self.root.join(&index).exists() {
                            let text = self.read(&index);
                            if !text.contains("(extra.png)") {
                                self.write(&index, &(text + "\n![More of the board](extra.png)\n"));
                            }
                        }
                        format!("{extra} made {w} × {h}, shown by its page")
                    }
                }
            }
            22 => {
                // An entry made a bundle (its own folder), or a bundle
                // without other files made a plain entry again.
                let entries = self.entries();
                let rel = self.pick(&entries);
                let text = self.read(&rel);
                match rel.strip_suffix("/index.md") {
                    Some(dir) => {
                        let others = std::fs::read_dir(self.root.join(dir)).unwrap().count() > 1;
                        let to = format!("{dir}.md");
                        if others || self.root.join(&to).exists() {
                            return format!("{rel} left a bundle: its folder has other files");
                        }
                        self.remove(&rel);
                        self.write(&to, &text);
                        format!("{rel} made a plain entry, {to}")
                    }
                    None => {
                        let to = format!("{}/index.md", rel.trim_end_matches(".md"));
                        self.remove(&rel);
                        self.write(&to, &text);
                        format!("{rel} made a bundle, {to}")
                    }
                }
            }
            23 => {
                // Options every page's Markdown is rendered with.
                let option = self.pick(&["smart_punctuation", "heading_anchors"]);
                let text = self.read("site.toml");
                let (on, off) = (format!("{option} = true"), format!("{option} = false"));
                let text = match text.contains(&on) {
                    true => text.replacen(&on, &off, 1),
                    false => text.replacen(&off, &on, 1),
                };
                self.write("site.toml", &text);
                format!("site.toml: {option} switched")
            }
            24 => {
                // An internal link: a later move or removal of its target
                // breaks it (then every build fails).
                let entries = self.entries();
                let (from, to) = (self.pick(&entries), self.pick(&entries));
                let target = to.trim_start_matches("content/");
                let text = self.read(&from) + &format!("\nSee [another entry](@/{target}).\n");
                self.write(&from, &text);
                format!("{from} links to {target}")
            }
            25 => {
                // A new address: the `@/` links to it follow.
                let rel = self.front_matter(|fm, _| set_top(fm, "slug", &format!("\"moved-{n}\"")));
                format!("{rel} given the slug moved-{n}")
            }
            26 => {
                // No file changes, but entries dated up to then come out
                // (the example site has one in February 2027).
                let days = self.rng.i64(1..=90);
                DAYS_LATER.set(DAYS_LATER.get() + days);
                format!("{days} days pass: now is {}", options(self.root).now)
            }
            _ => {
                // A section's own text and title.
                let rel = self.pick(&[
                    "content/news/_index.md",
                    "content/releases/_index.md",
                    "content/releases/mobile/_index.md",
                ]);
                let (fm, body) = split(&self.read(rel));
                let fm = match self.rng.bool() {
                    true => set_top(&fm, "title", &format!("\"Section {n}\"")),
                    false => fm,
                };
                self.write(
                    rel,
                    &join(&fm, &format!("{body}\nSection text of edit {n}.\n")),
                );
                format!("{rel} edited")
            }
        }
    }

    /// Puts back what the last edit changed; returns the paths.
    fn undo(&mut self) -> Vec<PathBuf> {
        let paths: Vec<PathBuf> = self.before.keys().cloned().collect();
        for (path, bytes) in std::mem::take(&mut self.before) {
            match bytes {
                Some(b) => std::fs::write(&path, b).unwrap(),
                None => std::fs::remove_file(&path).unwrap(),
            }
        }
        paths
    }
}

/// Builds `root` both ways after a change of `paths`, and checks both
/// against builds from scratch. Returns whether the site builds.
fn rebuild_and_check(root: &Path, live: &mut LiveSite, paths: &[PathBuf], log: &[String]) -> bool {
    // As the dev server sorts them: a file it copies, edited, is served
    // from disk as it is.
    let (docs, statics) = (live.documents(), live.statics());
    let copied = |p: &Path| statics.copies_from(p) || docs.copies_from(p);
    let changes = classify(root, paths, &copied);
    let rebuilt = build(root);
    // The dev server shows an edited entry's page before the rest of the
    // site, when the edit leaves it in its place: it must be the page the
    // full rebuild then makes.
    let ahead = live
        .loaded()
        .and_then(|(site, templates)| render_ahead(root, &site, &templates, &changes));
    let served = live
        .rebuild(&changes)
        .map(|_| documents(live))
        .map_err(|e| e.to_string());
    if let (Some(ahead), Ok(served)) = (&ahead, &served) {
        for (file, html) in ahead {
            let full = served.iter().find(|(f, _)| f == file).map(|(_, b)| b);
            assert!(
                full == Some(html),
                "herald serve: {file} shown ahead is not the page of the full rebuild, after:\n{}\n--- ahead\n{}\n--- full rebuild\n{}",
                log.join("\n"),
                String::from_utf8_lossy(html),
                full.map(|b| String::from_utf8_lossy(b)).unwrap_or_default()
            );
        }
    }
    let (built_fresh, served_fresh) = from_scratch(root);
    assert_as_from_scratch("herald build", &rebuilt, &built_fresh, log);
    assert_as_from_scratch("herald serve", &served, &served_fresh, log);
    built_fresh.is_ok()
}

/// Panics unless `got` fails when `want` (from scratch) fails, and else
/// holds the same files with the same bytes.
fn assert_as_from_scratch(
    what: &str,
    got: &Result<Files, String>,
    want: &Result<Files, String>,
    log: &[String],
) {
    let outcome = |r: &Result<Files, String>| match r {
        Ok(files) => format!("built {} files", files.len()),
        Err(e) => format!("failed ({e})"),
    };
    match (got, want) {
        (Ok(got), Ok(want)) => assert_same(what, got, want, log),
        (Err(_), Err(_)) => {}
        _ => panic!(
            "{what}: {} but from scratch {}, after:\n{}",
            outcome(got),
            outcome(want),
            log.join("\n")
        ),
    }
}

#[test]
fn random_edits_to_the_example_site_rebuild_to_the_bytes_of_a_fresh_build() {
    for seed in seeds() {
        DAYS_LATER.set(0);
        let site = copy_sources(&repo_root());
        let root = site.path();
        settle(root, 0);
        build(root).unwrap_or_else(|e| panic!("the example site must build: {e}"));
        let mut live = LiveSite::new(options(root));
        live.rebuild(&Changes::default()).unwrap();
        let mut editor = Editor {
            root,
            rng: fastrand::Rng::with_seed(seed),
            before: BTreeMap::new(),
            n: 0,
            deck: Vec::new(),
        };
        let mut log = vec![format!("seed {seed}:")];
        let mut failed = 0;
        for round in 1..=EDITS as u64 {
            log.push(editor.edit());
            // Half the time the edited files are old enough for their
            // stamps to be trusted; else their text is read and compared.
            if editor.rng.bool() {
                settle(root, round);
            }
            let paths: Vec<PathBuf> = editor.before.keys().cloned().collect();
            if !rebuild_and_check(root, &mut live, &paths, &log) {
                // Failed both ways, as from scratch: undone, and built again.
                failed += 1;
                log.push("  (every build failed; undone)".into());
                let paths = editor.undo();
                assert!(
                    rebuild_and_check(root, &mut live, &paths, &log),
                    "the site builds again once the edit is undone, after:\n{}",
                    log.join("\n")
                );
            }
        }
        assert!(
            failed < EDITS / 2,
            "most edits broke the site; the test no longer tests rebuilds:\n{}",
            log.join("\n")
        );
    }
}
