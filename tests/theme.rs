//! The default theme (issue 3), checked on the example site (the repository
//! root) built by the real binary:
//!
//! * every page is valid HTML for the Nu Html Checker (`vnu.jar`);
//! * axe-core in headless Chromium finds no violation on any page, in light
//!   and in dark colour scheme;
//! * no page is wider than a 320 px or 375 px screen;
//! * mf2py finds one complete `h-entry` per entry page, and list pages are
//!   `h-feed`s of `h-entry`s;
//! * screenshots of the home page and an entry page at 375 and 1280 px, light
//!   and dark, are written to `target/screenshots/`;
//! * the `<head>` carries lang, canonical, feeds, Open Graph and Twitter tags.
//!
//! The validators are installed by `.ci/run` (into `~/.cache`); a test whose
//! tool is missing fails and says so. Helper scripts live in `tests/theme/`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

// ------------------------------------------------------------------ setup

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn home() -> PathBuf {
    PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
}

fn cache() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".cache"))
}

/// Where `.ci/run` installs the shared validators.
fn site_check_home() -> PathBuf {
    std::env::var_os("SITE_CHECK_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache().join("site-check"))
}

fn node_modules() -> PathBuf {
    site_check_home().join("node/node_modules")
}

/// The Python virtualenv with mf2py, made by `.ci/run`.
fn test_venv() -> PathBuf {
    std::env::var_os("HERALD_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache().join("herald-test/venv"))
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Fails the test, with the way to fix it, when `path` does not exist.
fn require(what: &str, path: &Path) {
    assert!(
        path.exists(),
        "{what} is not installed ({} is missing): run `bash .ci/run` once, which installs the test tools into ~/.cache",
        path.display()
    );
}

/// Fails the test when `program` cannot be run.
fn require_program(program: &str) {
    let ok = Command::new(program)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "`{program}` cannot be run: run `bash .ci/run` once, which installs the test tools"
    );
}

fn require_browser() {
    require_program("node");
    require("Chromium", &chromium());
    require(
        "playwright-core",
        &node_modules().join("playwright-core/package.json"),
    );
    require("axe-core", &node_modules().join("axe-core/axe.min.js"));
}

/// A port that is free now, for the static server.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The example site, built by the binary into a temporary folder.
struct Site {
    _dir: tempfile::TempDir,
    public: PathBuf,
    base_url: String,
}

/// Builds the repository's example site with `base_url`.
fn build(base_url: &str) -> Site {
    let dir = tempfile::tempdir().unwrap();
    let public = dir.path().join("public");
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("build")
        .arg("--output-dir")
        .arg(&public)
        .args(["--base-url", base_url])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "`herald build` of the example site failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Site {
        _dir: dir,
        public,
        base_url: base_url.to_string(),
    }
}

/// Every `.html` file under `dir`, sorted.
fn html_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "html"))
        .map(|e| e.into_path())
        .collect();
    v.sort();
    v
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn is_alias(html: &str) -> bool {
    html.contains(r#"<meta http-equiv="refresh""#)
}

/// The URL path of a built file: `news/x/index.html` → `/news/x/`.
fn url_path(public: &Path, file: &Path) -> String {
    let rel = file
        .strip_prefix(public)
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/");
    format!("/{}", rel.strip_suffix("index.html").unwrap_or(&rel))
}

fn show(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `tests/theme/browser.mjs MODE` against `site` served on `port`.
fn browser(mode: &str, site: &Site, port: u16, extra: &[&str]) -> Output {
    Command::new("node")
        .arg(repo().join("tests/theme/browser.mjs"))
        .arg(mode)
        .arg("--site")
        .arg(&site.public)
        .args(["--port", &port.to_string()])
        .arg("--node-modules")
        .arg(node_modules())
        .args(extra)
        .env("CHROMIUM", chromium())
        .output()
        .unwrap()
}

/// The entry page the screenshots show: the first with a table of contents
/// (the widest layout), preferring one that also shows an image.
fn screenshot_entry(site: &Site) -> String {
    let with_toc: Vec<(PathBuf, String)> = html_files(&site.public)
        .into_iter()
        .map(|f| {
            let html = read(&f);
            (f, html)
        })
        .filter(|(_, html)| html.contains(r#"<nav class="toc""#))
        .collect();
    let (f, _) = with_toc
        .iter()
        .find(|(_, html)| html.contains("<img "))
        .or(with_toc.first())
        .expect("the example site has an entry long enough for a table of contents");
    url_path(&site.public, f)
}

// ------------------------------------------------------------------ tests

#[test]
fn theme_has_every_template_the_engine_renders() {
    let t = repo().join("themes/default");
    for f in [
        "theme.toml",
        "templates/base.html",
        "templates/index.html",
        "templates/section.html",
        "templates/page.html",
        "templates/taxonomy_list.html",
        "templates/taxonomy_term.html",
        "templates/404.html",
        "templates/alias.html",
        "templates/partials/pagination.html",
        "templates/partials/header.html",
        "templates/partials/footer.html",
        "templates/partials/head.html",
        "templates/macros.html",
        "static/style.css",
        "static/favicon.svg",
    ] {
        assert!(t.join(f).is_file(), "themes/default/{f} is missing");
    }
    let base = read(&t.join("templates/base.html"));
    for block in ["title", "head", "header", "content", "footer"] {
        assert!(
            base.contains(&format!("{{% block {block} ")),
            "base.html has no block `{block}`"
        );
    }
    let page = read(&t.join("templates/page.html"));
    for block in ["syndication", "comments"] {
        assert!(
            page.contains(&format!("{{% block {block} ")),
            "page.html has no block `{block}`"
        );
    }
    let css = read(&t.join("static/style.css"));
    assert!(
        css.len() < 40_000,
        "style.css is {} bytes: keep it small enough to inline",
        css.len()
    );
    for needle in [
        "prefers-color-scheme: dark",
        "@media print",
        ":focus-visible",
    ] {
        assert!(css.contains(needle), "style.css has no `{needle}`");
    }
}

/// What search engines, feed readers and social networks read in `<head>`.
#[test]
fn theme_pages_have_lang_canonical_feeds_and_social_tags() {
    let site = build("https://news.fernhill.example");
    let b = &site.base_url;
    let mut entries = 0;
    for f in html_files(&site.public) {
        let html = read(&f);
        let path = url_path(&site.public, &f);
        assert!(
            html.starts_with("<!doctype html>\n<html lang=\"en\">"),
            "{path}: no <html lang> from site.toml"
        );
        assert!(
            !html.contains("<script"),
            "{path}: the theme needs no JavaScript"
        );
        // Nothing from another host: every stylesheet, icon and image is the site's own.
        for attr in [
            r#"<link rel="stylesheet" href=""#,
            r#"<link rel="icon" href=""#,
            r#"src=""#,
        ] {
            for (i, _) in html.match_indices(attr) {
                let url = &html[i + attr.len()..];
                let foreign = url.starts_with("//")
                    || url.starts_with("http") && !url.starts_with(&format!("{b}/"));
                assert!(
                    !foreign,
                    "{path}: loads {} from another host",
                    &url[..url.find('"').unwrap_or(url.len())]
                );
            }
        }
        if is_alias(&html) {
            assert!(
                html.contains(r#"<link rel="canonical" href=""#),
                "{path}: alias page without canonical link"
            );
            continue;
        }
        let canonical = if path == "/404.html" {
            format!("{b}/404.html")
        } else {
            format!("{b}{path}")
        };
        assert!(
            html.contains(&format!(r#"<link rel="canonical" href="{canonical}">"#)),
            "{path}: no canonical link to {canonical}"
        );
        assert!(
            html.contains(&format!(r#"<link rel="stylesheet" href="{b}/style.css">"#)),
            "{path}: no stylesheet"
        );
        for (mime, feed) in [
            ("application/atom+xml", "atom.xml"),
            ("application/rss+xml", "rss.xml"),
            ("application/feed+json", "feed.json"),
        ] {
            assert!(
                html.contains(&format!(r#"<link rel="alternate" type="{mime}""#))
                    && html.contains(&format!(r#"href="{b}/{feed}">"#)),
                "{path}: no <link rel=alternate> for the site's {feed}"
            );
        }
        assert!(
            html.contains(r#"<meta name="viewport""#),
            "{path}: no viewport meta"
        );
        assert!(
            html.contains(r##"<a class="skip-link" href="#content">"##),
            "{path}: no skip link"
        );
        assert!(
            html.contains(r#"<main id="content""#),
            "{path}: no <main id=content>"
        );
        assert!(
            html.contains(r#"<meta property="og:title""#)
                && html.contains(r#"<meta name="twitter:card""#),
            "{path}: no Open Graph / Twitter tags"
        );
        if html.contains(r#"<meta property="og:type" content="article">"#)
            && html.contains("article:published_time")
        {
            entries += 1;
            for tag in [
                r#"<meta property="og:description" content=""#,
                &format!(r#"<meta property="og:url" content="{b}{path}">"#),
                r#"<meta property="article:published_time" content="20"#,
                r#"<meta name="description" content=""#,
                r#"<div class="entry__body prose e-content">"#,
            ] {
                assert!(html.contains(tag), "{path}: no `{tag}`");
            }
        }
    }
    assert!(entries >= 10, "only {entries} entry pages");

    // A section's own feeds are announced on its page.
    let news = read(&site.public.join("releases/index.html"));
    assert!(
        news.contains(&format!(r#"href="{b}/releases/atom.xml">"#)),
        "/releases/ does not announce its own Atom feed"
    );

    // The entry with an image: the card image is absolute, with its alt text.
    let board = read(&site.public.join("news/new-dispatch-board/index.html"));
    for tag in [
        format!(r#"<meta property="og:image" content="{b}/news/new-dispatch-board/board.png">"#),
        r#"<meta property="og:image:alt" content="The new Fernhill dispatch board"#.to_string(),
        r#"<meta name="twitter:card" content="summary_large_image">"#.to_string(),
        format!(r#"<meta name="twitter:image" content="{b}/news/new-dispatch-board/board.png">"#),
    ] {
        assert!(
            board.contains(&tag),
            "/news/new-dispatch-board/: no `{tag}`"
        );
    }
    assert!(site
        .public
        .join("news/new-dispatch-board/board.png")
        .exists());

    // Long entries get a table of contents whose links reach their headings.
    let mut tocs = 0;
    for f in html_files(&site.public) {
        let html = read(&f);
        if let Some(i) = html.find(r#"<nav class="toc""#) {
            tocs += 1;
            let toc = &html[i..i + html[i..].find("</nav>").unwrap()];
            for (j, _) in toc.match_indices(r##"<a href="#"##) {
                let id = &toc[j + 10..j + 10 + toc[j + 10..].find('"').unwrap()];
                assert!(
                    html.contains(&format!(r#" id="{id}""#)),
                    "{}: toc links to #{id}, which is not there",
                    f.display()
                );
            }
        }
    }
    assert!(tocs >= 3, "only {tocs} entries have a table of contents");

    // Alias pages: a meta refresh and a canonical link to the same built page.
    let mut aliases = 0;
    for f in html_files(&site.public) {
        let html = read(&f);
        if !is_alias(&html) {
            continue;
        }
        aliases += 1;
        let path = url_path(&site.public, &f);
        let refresh = r#"<meta http-equiv="refresh" content="0; url="#;
        let i = html.find(refresh).unwrap() + refresh.len();
        // The refresh names a path on the same host; canonical and link are absolute.
        let to = &html[i..i + html[i..].find('"').unwrap()];
        assert!(
            to.starts_with('/'),
            "{path}: the refresh leaves the host: {to}"
        );
        let absolute = format!("{}{to}", b.trim_end_matches('/'));
        assert!(
            html.contains(&format!(r#"<link rel="canonical" href="{absolute}">"#)),
            "{path}: no canonical link to {absolute}"
        );
        assert!(
            site.public
                .join(to.trim_start_matches('/'))
                .join("index.html")
                .exists(),
            "{path}: redirects to {to}, which is not built"
        );
        assert!(
            html.contains(&format!(r#"<a href="{absolute}">"#)),
            "{path}: no link to {absolute} for people"
        );
    }
    assert!(aliases >= 1, "the example site has no alias page");
}

/// The Nu Html Checker reports no error on any page (and on the CSS and SVG).
#[test]
fn theme_pages_are_valid_html() {
    require_program("java");
    let jar = node_modules().join("vnu-jar/build/dist/vnu.jar");
    require("The Nu Html Checker", &jar);
    let site = build("https://news.fernhill.example");
    let n = html_files(&site.public).len();
    let out = Command::new("java")
        .args(["-Xss1m", "-jar"])
        .arg(&jar)
        .args([
            "--format",
            "json",
            "--stdout",
            "--skip-non-html",
            "--also-check-css",
            "--also-check-svg",
        ])
        .arg(&site.public)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("vnu gave no JSON ({e}):\n{}", show(&out)));
    let root = format!("file:{}/", site.public.display());
    let errors: Vec<String> = report["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            m["type"] == "error" || m["type"] == "non-document-error" || m["subType"] == "fatal"
        })
        .map(|m| {
            format!(
                "{}:{}: {}",
                m["url"].as_str().unwrap_or("?").replace(&root, ""),
                m["lastLine"],
                m["message"].as_str().unwrap_or("?")
            )
        })
        .collect();
    assert!(
        errors.is_empty(),
        "vnu found {} errors in {n} pages:\n{}",
        errors.len(),
        errors.join("\n")
    );
    assert!(n > 40, "only {n} pages checked");
}

/// axe-core finds no violation on any page, light and dark; aliases redirect.
#[test]
fn theme_pages_pass_axe_in_light_and_dark() {
    require_browser();
    let port = free_port();
    let site = build(&format!("http://127.0.0.1:{port}"));
    let out = browser("axe", &site, port, &[]);
    assert!(
        out.status.success(),
        "axe-core in Chromium:\n{}",
        show(&out)
    );
}

/// Nothing is wider than a phone: scrollWidth <= innerWidth at 320 and 375 px.
#[test]
fn theme_pages_fit_small_screens() {
    require_browser();
    let port = free_port();
    let site = build(&format!("http://127.0.0.1:{port}"));
    let out = browser("overflow", &site, port, &[]);
    assert!(out.status.success(), "horizontal overflow:\n{}", show(&out));
}

/// mf2py finds exactly one complete h-entry per entry page.
#[test]
fn theme_entries_are_h_entries() {
    let python = test_venv().join("bin/python");
    require("The Python test venv (mf2py)", &python);
    let has_mf2py = Command::new(&python)
        .args(["-c", "import mf2py"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        has_mf2py,
        "mf2py is not installed in {}: run `bash .ci/run`",
        test_venv().display()
    );
    let site = build("https://news.fernhill.example");
    let out = Command::new(&python)
        .arg(repo().join("tests/theme/mf2_check.py"))
        .arg(&site.public)
        .arg(&site.base_url)
        .output()
        .unwrap();
    assert!(out.status.success(), "microformats:\n{}", show(&out));
}

/// Screenshots for people to look at: target/screenshots/{home,entry}-{375,1280}-{light,dark}.png.
#[test]
fn theme_screenshots_at_375_and_1280_light_and_dark() {
    require_browser();
    let port = free_port();
    let site = build(&format!("http://127.0.0.1:{port}"));
    let dir = repo().join("target/screenshots");
    let _ = std::fs::remove_dir_all(&dir);
    let entry = screenshot_entry(&site);
    let dir_arg = dir.to_string_lossy().into_owned();
    let out = browser(
        "screenshots",
        &site,
        port,
        &["--out", &dir_arg, "--entry", &entry],
    );
    assert!(out.status.success(), "screenshots:\n{}", show(&out));
    for name in ["home", "entry"] {
        for width in [375u32, 1280] {
            for scheme in ["light", "dark"] {
                let f = dir.join(format!("{name}-{width}-{scheme}.png"));
                let png = std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                assert!(
                    png.len() > 10_000,
                    "{}: only {} bytes",
                    f.display(),
                    png.len()
                );
                assert_eq!(
                    &png[..8],
                    b"\x89PNG\r\n\x1a\n",
                    "{} is not a PNG",
                    f.display()
                );
                let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
                let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
                assert_eq!(w, width, "{}: {w} px wide", f.display());
                assert!(h >= 600, "{}: only {h} px high", f.display());
            }
        }
    }
}

/// The theme renders a bare site: no [extra], no feeds, no taxonomies, an
/// undated page, a page without authors, text that needs escaping.
#[test]
fn theme_renders_a_minimal_site_and_escapes_text() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let theme = repo().join("themes/default");
    for e in walkdir::WalkDir::new(&theme) {
        let e = e.unwrap();
        let to = root
            .join("themes/default")
            .join(e.path().strip_prefix(&theme).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
    let write = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write("site.toml", "base_url = \"https://example.com/news\"\ntitle = \"A & B <News>\"\n[feeds]\nformats = []\n");
    write(
        "content/blog/first.md",
        "+++\ntitle = \"Fish & <chips>\"\ndate = 2025-01-02\naliases = [\"/old/\"]\n+++\nBody.\n",
    );
    write(
        "content/about.md",
        "+++\ntitle = \"About\"\n+++\nUndated.\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["build", "--root"])
        .arg(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "a minimal site must build with the default theme:\n{}",
        show(&out)
    );
    let public = root.join("public");
    let entry = read(&public.join("blog/first/index.html"));
    assert!(
        entry.contains("<title>Fish &amp; &lt;chips&gt; · A &amp; B &lt;News&gt;</title>"),
        "{entry}"
    );
    assert!(
        entry.contains(r#"<h1 class="entry__title p-name">Fish &amp; &lt;chips&gt;</h1>"#),
        "{entry}"
    );
    assert!(
        entry.contains(r#"By <span class="p-author h-card">A &amp; B &lt;News&gt;</span>"#),
        "an entry without authors is by the site: {entry}"
    );
    assert!(
        entry.contains(r#"<link rel="stylesheet" href="https://example.com/news/style.css">"#),
        "{entry}"
    );
    assert!(
        !entry.contains(r#"rel="alternate""#),
        "no feeds, no feed links: {entry}"
    );
    let about = read(&public.join("about/index.html"));
    assert!(
        !about.contains("h-entry"),
        "an undated page is not an h-entry"
    );
    let home = read(&public.join("index.html"));
    assert!(home.contains(r#"<a class="u-url p-name" href="https://example.com/news/blog/first/">Fish &amp; &lt;chips&gt;</a>"#), "{home}");
    assert!(public.join("old/index.html").exists() && public.join("404.html").exists());
}
