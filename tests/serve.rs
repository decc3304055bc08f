//! `herald serve` (issue 4), run as the real binary on small sites in
//! temporary folders, over real HTTP:
//!
//! * path-escape attempts (`..`, encoded, backslashes, `//`, a symlink in
//!   `static/` pointing out of the site) get 400 or 404, never the file;
//! * MIME types, the site's 404 page with status 404, directory index pages;
//! * the live-reload script is in served HTML and absent from `herald build`;
//! * the base URL is the local address; drafts are shown by default;
//! * a busy port moves to the next free one; Ctrl-C stops cleanly;
//! * a burst of saves makes one rebuild; a static edit renders nothing;
//! * in headless Chromium, an edit on disk shows in the open page by itself,
//!   broken front matter shows the error overlay (file and line), and the
//!   fix clears it (`tests/serve/live.mjs` drives the browser).
//!
//! Each test writes its own tiny theme; none depends on themes/default.
//! The browser test needs node, Chromium and playwright-core, which
//! `.ci/run` installs; when one is missing the test fails and says so.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ------------------------------------------------------------------ fixture

const SITE_TOML: &str = r#"base_url = "https://news.example.com"
title = "Fixture News"
theme = "fixture"
# SITE-TOML-MARKER: this file must never be served.

[feeds]
formats = ["atom"]
"#;

const THEME: &[(&str, &str)] = &[
    (
        "index.html",
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ site.title }}</title>
<link rel="stylesheet" href="{{ site.base_url }}/style.css"></head>
<body><h1>{{ site.title }}</h1><ul>{% for p in paginator.pages %}<li><a href="{{ p.permalink }}">{{ p.title }}</a></li>{% endfor %}</ul></body></html>
"#,
    ),
    (
        "section.html",
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ section.title }}</title>
<link rel="stylesheet" href="{{ site.base_url }}/style.css"></head>
<body><h1>Section {{ section.title }}</h1><ul>{% for p in paginator.pages %}<li><a href="{{ p.permalink }}">{{ p.title }}</a></li>{% endfor %}</ul></body></html>
"#,
    ),
    (
        "page.html",
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ page.title }}</title>
<link rel="stylesheet" href="{{ site.base_url }}/style.css"></head>
<body><main><h1>{{ page.title }}</h1><div id="text">{{ page.content | safe }}</div>
<a id="home" href="{{ site.base_url }}/">home</a></main></body></html>
"#,
    ),
    (
        "taxonomy_list.html",
        "<!doctype html><html><head><title>{{ taxonomy.name }}</title></head><body>{{ taxonomy.name }}</body></html>\n",
    ),
    (
        "taxonomy_term.html",
        "<!doctype html><html><head><title>{{ term.name }}</title></head><body>{{ term.name }}</body></html>\n",
    ),
    (
        "404.html",
        "<!doctype html><html><head><title>Not here</title></head><body><h1>Fixture 404 page</h1></body></html>\n",
    ),
    (
        "alias.html",
        r#"<!doctype html><html><head><meta http-equiv="refresh" content="0; url={{ redirect_to }}"></head><body></body></html>
"#,
    ),
];

const HELLO: &str = "+++\ntitle = \"Hello\"\ndate = 2026-01-02\n+++\n\nThe original text.\n";

/// A site in `<tmp>/site`, with a secret file beside it in `<tmp>/outside`.
struct TestSite {
    dir: tempfile::TempDir,
}

impl TestSite {
    fn new() -> TestSite {
        let t = TestSite {
            dir: tempfile::tempdir().unwrap(),
        };
        t.write("site.toml", SITE_TOML);
        for (name, text) in THEME {
            t.write(&format!("themes/fixture/templates/{name}"), text);
        }
        t.write(
            "themes/fixture/static/style.css",
            "body { color: #123456; }\n",
        );
        t.write("content/_index.md", "+++\ntitle = \"Home\"\n+++\n");
        t.write("content/news/_index.md", "+++\ntitle = \"News\"\n+++\n");
        t.write("content/news/hello.md", HELLO);
        t.write(
            "content/news/draft.md",
            "+++\ntitle = \"Draft entry\"\ndraft = true\n+++\n\nNot yet.\n",
        );
        t.write("static/robots.txt", "User-agent: *\n");
        t.write("static/data.json", "{\"ok\": true}\n");
        t.write(
            "static/logo.svg",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"/>\n",
        );
        let outside = t.dir.path().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret.txt"), "OUTSIDE-SECRET-MARKER\n").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(outside.join("secret.txt"), t.root().join("static/leak.txt"))
            .unwrap();
        t
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("site")
    }

    fn write(&self, rel: &str, text: impl AsRef<[u8]>) {
        let p = self.root().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// Writes through a temporary file and a rename, as many editors do.
    fn save_like_an_editor(&self, rel: &str, text: &str) {
        let p = self.root().join(rel);
        let tmp = p.with_extension("md.tmp~");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &p).unwrap();
    }
}

// ------------------------------------------------------------------ server

/// A running `herald serve`, killed when dropped.
struct Server {
    child: Child,
    /// `127.0.0.1:PORT`
    addr: String,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

fn collect(stream: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let buf = Arc::new(Mutex::new(String::new()));
    let b = buf.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            let mut b = b.lock().unwrap();
            b.push_str(&line);
            b.push('\n');
        }
    });
    buf
}

impl Server {
    fn start(root: &Path, args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_herald"))
            .arg("serve")
            .arg("--root")
            .arg(root)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run herald serve");
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());
        let mut s = Server {
            child,
            addr: String::new(),
            stdout,
            stderr,
        };
        s.wait_for("Serving at http://", Duration::from_secs(60));
        let out = s.stdout();
        let at = out.find("Serving at http://").unwrap() + "Serving at http://".len();
        s.addr = out[at..]
            .split(|c: char| c == '/' || c.is_whitespace())
            .next()
            .unwrap()
            .to_string();
        s
    }

    fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    fn output(&self) -> String {
        format!(
            "--- stdout\n{}--- stderr\n{}",
            self.stdout(),
            self.stderr.lock().unwrap()
        )
    }

    /// Waits until the terminal output holds `needle` `times` times.
    fn wait_for_n(&mut self, needle: &str, times: usize, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let all = format!("{}{}", self.stdout(), self.stderr.lock().unwrap());
            if all.matches(needle).count() >= times {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "herald serve exited ({status}) before printing {needle:?}\n{}",
                    self.output()
                );
            }
            assert!(
                Instant::now() < deadline,
                "herald serve did not print {needle:?} ({times}×) within {limit:?}\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the server has printed nothing for `quiet`.
    fn wait_quiet(&mut self, quiet: Duration, limit: Duration) {
        let deadline = Instant::now() + limit;
        let mut seen = self.output().len();
        let mut since = Instant::now();
        while since.elapsed() < quiet {
            assert!(
                Instant::now() < deadline,
                "herald serve did not fall quiet within {limit:?}\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
            let now = self.output().len();
            if now != seen {
                (seen, since) = (now, Instant::now());
            }
        }
    }

    /// Full rebuilds so far, whether they succeeded or failed.
    fn rebuild_attempts(&self) -> usize {
        let all = self.output();
        all.matches("changed: rebuilt").count() + all.matches("the rebuild failed").count()
    }

    fn wait_for(&mut self, needle: &str, limit: Duration) {
        self.wait_for_n(needle, 1, limit)
    }

    fn get(&self, raw_path: &str) -> Reply {
        http_get(&self.addr, raw_path)
    }

    /// Polls `raw_path` until its body contains `needle`.
    fn wait_for_body(&self, raw_path: &str, needle: &str) -> Reply {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let r = self.get(raw_path);
            if r.text().contains(needle) {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "{raw_path} never showed {needle:?}; last reply:\n{}\n{}",
                r.text(),
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP reply.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// GET with the request target sent exactly as written (no client
/// normalisation of `..` or `%2e`).
fn http_get(addr: &str, raw_path: &str) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "GET {raw_path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP head in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad status line in {head:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

// ------------------------------------------------------------------ tests

#[test]
fn path_escapes_get_400_or_404_and_never_the_file() {
    let site = TestSite::new();
    let server = Server::start(&site.root(), &["--port", "0"]);
    // The site itself works, so the refusals below mean something.
    assert_eq!(server.get("/robots.txt").status, 200);
    for raw in [
        "/../site.toml",
        "/%2e%2e/site.toml",
        "/%2E%2E/site.toml",
        "/..%2fsite.toml",
        "/..%2Fsite.toml",
        "/news/../../site.toml",
        "/news/%2e%2e/%2e%2e/site.toml",
        "//etc/passwd",
        "/%2fetc/passwd",
        "/etc/passwd",
        "/news\\..\\..\\site.toml",
        "/news%5c..%5c..%5csite.toml",
        "/C:/Windows/win.ini",
        "/site.toml",
        "/content/news/hello.md",
        "/leak.txt",
        "/../outside/secret.txt",
        "/static/leak.txt",
    ] {
        let r = server.get(raw);
        assert!(
            r.status == 400 || r.status == 404,
            "{raw} → {} (expected 400 or 404)",
            r.status
        );
        let body = r.text();
        for secret in ["SITE-TOML-MARKER", "OUTSIDE-SECRET-MARKER", "root:x:0:0"] {
            assert!(!body.contains(secret), "{raw} leaked {secret}:\n{body}");
        }
    }
}

/// The engine skips symlinked files inside `static/`, but follows a
/// `static/` folder that is itself a link: the server checks where each
/// copied file really is.
#[cfg(unix)]
#[test]
fn a_static_folder_linked_from_outside_the_site_is_not_served() {
    let site = TestSite::new();
    std::fs::remove_dir_all(site.root().join("static")).unwrap();
    std::os::unix::fs::symlink(site.dir.path().join("outside"), site.root().join("static"))
        .unwrap();
    let mut server = Server::start(&site.root(), &["--port", "0"]);
    let r = server.get("/secret.txt");
    assert_eq!(r.status, 404);
    assert!(!r.text().contains("OUTSIDE-SECRET-MARKER"));
    // The terminal says why, so the writer is not left guessing.
    server.wait_for("refused /secret.txt", Duration::from_secs(10));
    assert!(
        server.output().contains("outside the site"),
        "{}",
        server.output()
    );
}

#[test]
fn files_are_served_with_their_mime_types() {
    let site = TestSite::new();
    let server = Server::start(&site.root(), &["--port", "0"]);
    for (path, mime) in [
        ("/", "text/html; charset=utf-8"),
        ("/news/hello/", "text/html; charset=utf-8"),
        ("/style.css", "text/css; charset=utf-8"),
        ("/robots.txt", "text/plain; charset=utf-8"),
        ("/data.json", "application/json; charset=utf-8"),
        ("/logo.svg", "image/svg+xml; charset=utf-8"),
        ("/atom.xml", "text/xml; charset=utf-8"),
    ] {
        let r = server.get(path);
        assert_eq!(r.status, 200, "{path}\n{}", server.output());
        assert_eq!(r.header("Content-Type"), Some(mime), "{path}");
        assert_eq!(
            r.header("X-Content-Type-Options"),
            Some("nosniff"),
            "{path}"
        );
    }
    assert_eq!(
        server.get("/style.css").text(),
        "body { color: #123456; }\n"
    );
}

#[test]
fn unknown_paths_get_the_sites_404_page_with_status_404() {
    let site = TestSite::new();
    let server = Server::start(&site.root(), &["--port", "0"]);
    let r = server.get("/no/such/page/");
    assert_eq!(r.status, 404);
    assert_eq!(r.header("Content-Type"), Some("text/html; charset=utf-8"));
    assert!(r.text().contains("Fixture 404 page"), "{}", r.text());
    assert_eq!(server.get("/missing.css").status, 404);
}

#[test]
fn folders_serve_their_index_page_and_get_a_trailing_slash() {
    let site = TestSite::new();
    let server = Server::start(&site.root(), &["--port", "0"]);
    let r = server.get("/news/");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("Section News"), "{}", r.text());
    assert_eq!(server.get("/news/index.html").text(), r.text());
    let r = server.get("/news?x=1");
    assert_eq!(r.status, 301);
    assert_eq!(r.header("Location"), Some("/news/?x=1"));
    let r = server.get("/");
    assert!(r.text().contains("<h1>Fixture News</h1>"));
}

#[test]
fn reload_script_is_in_served_html_only_and_never_in_build_output() {
    let site = TestSite::new();
    let server = Server::start(&site.root(), &["--port", "0"]);
    let page = server.get("/news/hello/").text();
    let script_at = page
        .find("<script data-herald-live>")
        .expect("script injected");
    assert!(
        page[script_at..].contains("</body>"),
        "script goes before </body>"
    );
    assert!(page.contains("/__herald/events"));
    assert!(server.get("/no/such/").text().contains("data-herald-live"));
    assert!(!server.get("/style.css").text().contains("herald-live"));
    assert!(!server.get("/atom.xml").text().contains("herald-live"));

    let public = site.dir.path().join("public");
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("build")
        .arg("--root")
        .arg(site.root())
        .arg("--output-dir")
        .arg(&public)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut checked = 0;
    for entry in walkdir::WalkDir::new(&public) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() && !entry.path_is_symlink() {
            let bytes = std::fs::read(entry.path()).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains("__herald") && !text.contains("herald-live"),
                "{} has the dev server's script",
                entry.path().display()
            );
            checked += 1;
        }
    }
    assert!(checked > 5, "the build wrote only {checked} files");
}

#[test]
fn pages_link_to_the_local_address_and_drafts_are_shown_by_default() {
    let site = TestSite::new();
    let mut server = Server::start(&site.root(), &["--port", "0"]);
    let page = server.get("/news/hello/").text();
    assert!(
        page.contains(&format!("href=\"http://{}/\"", server.addr)),
        "{page}"
    );
    assert!(!page.contains("news.example.com"));
    assert_eq!(server.get("/news/draft/").status, 200);
    server.wait_for(
        "Drafts and future entries are shown",
        Duration::from_secs(5),
    );
    drop(server);

    let mut server = Server::start(&site.root(), &["--port", "0", "--no-drafts"]);
    assert_eq!(server.get("/news/draft/").status, 404);
    server.wait_for("drafts are hidden", Duration::from_secs(5));
}

#[test]
fn a_busy_port_moves_to_the_next_free_one_and_says_so() {
    let site = TestSite::new();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut server = Server::start(&site.root(), &["--port", &port.to_string()]);
    server.wait_for(&format!("Port {port} is busy"), Duration::from_secs(5));
    assert_ne!(server.addr, format!("127.0.0.1:{port}"));
    assert_eq!(server.get("/").status, 200);
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_server_cleanly() {
    let site = TestSite::new();
    let mut server = Server::start(&site.root(), &["--port", "0"]);
    let pid = server.child.id().to_string();
    let ok = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(ok.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "still running after Ctrl-C\n{}",
            server.output()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit {status}\n{}", server.output());
    assert!(server.stdout().contains("Stopped."), "{}", server.output());
}

#[test]
fn edits_rebuild_once_per_save_and_static_edits_render_nothing() {
    let site = TestSite::new();
    let mut server = Server::start(&site.root(), &["--port", "0"]);

    // A burst of ten saves: editors' temp files and renames, plain writes.
    let text = HELLO.replace("The original text.", "Burst of saves.");
    for _ in 0..5 {
        site.save_like_an_editor("content/news/hello.md", &text);
        site.write("content/news/hello.md", &text);
    }
    server.wait_for_body("/news/hello/", "Burst of saves.");
    // The page shows as soon as it is rendered ahead; the burst's full
    // rebuilds are over once the server has been quiet for a while.
    server.wait_quiet(Duration::from_millis(500), Duration::from_secs(10));
    // Changes less than 20 ms apart make one rebuild. A loaded machine may
    // pause this test between two writes for longer, and a rebuild that
    // reads a plain write half-done fails (the next one, when the write
    // has ended, succeeds): at most three for the ten saves.
    let burst = server.rebuild_attempts();
    assert!(
        (1..=3).contains(&burst),
        "{burst} rebuilds for a burst of ten saves:\n{}",
        server.output()
    );
    // Of which one or two succeeded, the last one always.
    let built = server.stdout().matches("changed: rebuilt").count();
    assert!(
        (1..=2).contains(&built),
        "{built} good rebuilds for a burst of ten saves:\n{}",
        server.output()
    );
    // A sentinel change to another file makes exactly one more.
    site.write("content/news/_index.md", "+++\ntitle = \"Newsroom\"\n+++\n");
    server.wait_for_body("/news/", "Section Newsroom");
    server.wait_for("content/news/_index.md changed", Duration::from_secs(10));
    server.wait_quiet(Duration::from_millis(300), Duration::from_secs(10));
    assert_eq!(
        server.rebuild_attempts(),
        burst + 1,
        "one save, one rebuild:\n{}",
        server.output()
    );
    let out = server.stdout();
    assert!(
        out.contains("content/news/hello.md changed: rebuilt") && out.contains("content reloaded"),
        "{out}"
    );
    // The edited entry was shown first, by itself.
    let ahead = out
        .matches("content/news/hello.md changed: shown in")
        .count();
    assert!((1..=2).contains(&ahead), "{out}");
    assert!(
        !out.contains("templates reloaded"),
        "a content edit keeps the templates:\n{out}"
    );

    // An existing stylesheet is served from disk: nothing is rendered.
    site.write(
        "themes/fixture/static/style.css",
        "body { color: #654321; }\n",
    );
    server.wait_for("stylesheets swapped", Duration::from_secs(10));
    assert_eq!(
        server.get("/style.css").text(),
        "body { color: #654321; }\n"
    );
    // A new static file changes the file list, still without rendering.
    site.write("static/new.txt", "new file\n");
    server.wait_for("static/new.txt changed", Duration::from_secs(10));
    server.wait_for("no page re-rendered", Duration::from_secs(10));
    assert_eq!(server.get("/new.txt").text(), "new file\n");
    // A template edit reloads templates only.
    site.write(
        "themes/fixture/templates/404.html",
        "<!doctype html><html><body><h1>New 404</h1></body></html>\n",
    );
    server.wait_for("templates reloaded", Duration::from_secs(10));
    assert!(server.get("/nope/").text().contains("New 404"));
}

#[test]
fn a_failed_rebuild_keeps_the_last_good_site_and_reports_file_and_line() {
    let site = TestSite::new();
    let mut server = Server::start(&site.root(), &["--port", "0"]);
    site.write(
        "content/news/hello.md",
        "+++\ntitle = \"Hello\"\ndate = \"yesterday\"\n+++\n\nBroken.\n",
    );
    server.wait_for("the rebuild failed", Duration::from_secs(10));
    server.wait_for("content/news/hello.md:3", Duration::from_secs(10));
    let page = server.get("/news/hello/");
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains("The original text."),
        "{}",
        page.text()
    );
    // A browser that connects now hears about the error at once.
    let hello = first_event(&server.addr);
    assert!(hello.contains("event: hello"), "{hello}");
    assert!(
        hello.contains("content/news/hello.md") && hello.contains("\"line\":3"),
        "{hello}"
    );

    site.write(
        "content/news/hello.md",
        HELLO.replace("original", "repaired"),
    );
    server.wait_for_body("/news/hello/", "The repaired text.");
    server.wait_for("The error is fixed.", Duration::from_secs(10));
    assert!(first_event(&server.addr).contains("\"problems\":null"));
}

#[test]
fn a_page_connecting_late_hears_when_it_last_changed_not_of_every_rebuild() {
    let site = TestSite::new();
    let mut server = Server::start(&site.root(), &["--port", "0"]);
    let at_start = generation_in(&first_event(&server.addr));
    site.save_like_an_editor(
        "content/news/hello.md",
        &HELLO.replace("original", "edited"),
    );
    // The page rendered ahead, then the whole site, which changes the
    // feed but not the page again.
    server.wait_for("rendered ahead", Duration::from_secs(10));
    server.wait_for("rebuilt in", Duration::from_secs(10));
    let current = generation_in(&first_event(&server.addr));
    let hello = generation_in(&first_event_of(&server.addr, "/news/hello/"));
    let home = generation_in(&first_event_of(&server.addr, "/"));
    assert!(
        at_start < hello && hello < current,
        "start {at_start}, page {hello}, now {current}"
    );
    // A page loaded between the two and connecting after the second does
    // not reload for it; the home page, whose list shows only the title,
    // has not changed since the start.
    assert_eq!(home, at_start);
}

#[test]
fn a_page_served_before_a_static_file_changed_reloads_on_connecting() {
    let site = TestSite::new();
    let mut server = Server::start(&site.root(), &["--port", "0"]);
    let served = generation_in(&first_event_of(&server.addr, "/news/hello/"));
    // A stylesheet: connected pages swap it in place; a page served
    // before it and connecting after hears a later generation, and reloads.
    site.write(
        "themes/fixture/static/style.css",
        "body { color: #123456; }\n",
    );
    server.wait_for("stylesheets swapped", Duration::from_secs(10));
    let after_css = generation_in(&first_event_of(&server.addr, "/news/hello/"));
    assert!(served < after_css, "served {served}, after {after_css}");
    // Any other file served as it is: the same.
    site.write("static/robots.txt", "User-agent: *\nDisallow: /x/\n");
    server.wait_for("static/robots.txt changed", Duration::from_secs(10));
    let after_file = generation_in(&first_event_of(&server.addr, "/news/hello/"));
    assert!(
        after_css < after_file,
        "after css {after_css}, after {after_file}"
    );
    // A page served now carries that generation: it does not reload.
    let page = server.get("/news/hello/").text();
    assert!(
        page.contains(&format!("let generation = {after_file};")),
        "{page}"
    );
}

#[test]
fn an_image_edited_removed_or_added_reloads_its_pages_with_its_size() {
    let site = TestSite::new();
    site.write("static/shot.png", png(40, 30));
    site.write(
        "content/news/shot.md",
        "+++\ntitle = \"Shot\"\ndate = 2026-01-05\n+++\n\n![A shot](/shot.png)\n",
    );
    let mut server = Server::start(&site.root(), &["--port", "0"]);
    server.wait_for_body("/news/shot/", r#"width="40" height="30""#);
    let served = generation_in(&first_event_of(&server.addr, "/news/shot/"));
    // The file is served from disk as it is; the page that gives its size
    // is rendered again, and reloads.
    site.write("static/shot.png", png(80, 60));
    server.wait_for_body("/news/shot/", r#"width="80" height="60""#);
    server.wait_for("rebuilt", Duration::from_secs(10));
    assert_eq!(server.get("/shot.png").body, png(80, 60));
    let after = generation_in(&first_event_of(&server.addr, "/news/shot/"));
    assert!(served < after, "served {served}, after {after}");
    // Other pixels, the same size: the page's HTML is as it was, but it
    // shows the image, so it reloads all the same.
    let mut repainted = png(80, 60);
    repainted.extend_from_slice(b"other pixels");
    site.write("static/shot.png", &repainted);
    let deadline = Instant::now() + Duration::from_secs(10);
    while generation_in(&first_event_of(&server.addr, "/news/shot/")) == after {
        assert!(
            Instant::now() < deadline,
            "the page showing a repainted image was not reloaded:\n{}",
            server.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Removed: the page no longer gives a size; put back, it does again.
    // (Neither is an edit of a file the server serves as it is.)
    std::fs::remove_file(site.root().join("static/shot.png")).unwrap();
    server.wait_for_body("/news/shot/", r#"<img src="/shot.png" alt="A shot" />"#);
    site.write("static/shot.png", png(20, 10));
    server.wait_for_body("/news/shot/", r#"width="20" height="10""#);
    assert_eq!(server.get("/shot.png").body, png(20, 10));
}

#[test]
fn a_watched_folder_made_or_made_again_while_serving_is_watched() {
    let site = TestSite::new();
    std::fs::remove_dir_all(site.root().join("static")).unwrap();
    let server = Server::start(&site.root(), &["--port", "0"]);
    server.wait_for_body("/news/hello/", "The original text.");
    // Made after the start: its first file comes with it, and later ones
    // are seen too.
    site.write("static/a.txt", "first file\n");
    server.wait_for_body("/a.txt", "first file");
    std::thread::sleep(Duration::from_millis(300));
    site.write("static/b.txt", "a later file\n");
    server.wait_for_body("/b.txt", "a later file");
    // Removed and made again, as a checkout of another branch does.
    std::fs::remove_dir_all(site.root().join("static")).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    site.write("static/c.txt", "made again\n");
    server.wait_for_body("/c.txt", "made again");
    std::thread::sleep(Duration::from_millis(300));
    site.write("static/d.txt", "and watched\n");
    server.wait_for_body("/d.txt", "and watched");
}

#[test]
fn without_the_default_themes_folder_its_files_come_from_the_binary() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    std::fs::write(
        root.join("site.toml"),
        "base_url = \"https://x.example\"\ntitle = \"T\"\ntheme = \"default\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("content")).unwrap();
    std::fs::write(root.join("content/a.md"), "+++\ntitle = \"A\"\n+++\nHi.\n").unwrap();
    let theme = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default");
    for e in walkdir::WalkDir::new(&theme) {
        let e = e.unwrap();
        let to = root
            .join("themes/default")
            .join(e.path().strip_prefix(&theme).unwrap());
        match e.file_type().is_dir() {
            true => std::fs::create_dir_all(&to).unwrap(),
            false => {
                std::fs::copy(e.path(), &to).unwrap();
            }
        }
    }
    let css = std::fs::read(theme.join("static/style.css")).unwrap();
    let mut server = Server::start(root, &["--port", "0"]);
    assert_eq!(server.get("/style.css").body, css);
    // The whole folder removed: a build takes the theme built into the
    // binary, and so does the server, its static files included.
    std::fs::remove_dir_all(root.join("themes/default")).unwrap();
    server.wait_for("rebuilt", Duration::from_secs(10));
    server.wait_quiet(Duration::from_millis(300), Duration::from_secs(10));
    let r = server.get("/style.css");
    assert_eq!(r.status, 200, "{}", server.output());
    assert_eq!(r.body, css);
}

/// The first bytes of a PNG of `width` × `height` pixels: all that is read
/// for its size.
fn png(width: u32, height: u32) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    b.extend_from_slice(&width.to_be_bytes());
    b.extend_from_slice(&height.to_be_bytes());
    b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    b
}

/// The `generation` of a `hello` event.
fn generation_in(event: &str) -> u64 {
    let data = event
        .split("data: ")
        .nth(1)
        .and_then(|d| d.lines().next())
        .unwrap_or_else(|| panic!("no data in {event}"));
    let v: serde_json::Value = serde_json::from_str(data).unwrap();
    v["generation"].as_u64().unwrap()
}

/// The first event the event stream sends.
fn first_event(addr: &str) -> String {
    events_hello(addr, "/__herald/events")
}

/// The first event the event stream sends to the page at `path`.
fn first_event_of(addr: &str, path: &str) -> String {
    let page: String = url_escape(path);
    events_hello(addr, &format!("/__herald/events?page={page}"))
}

/// `path` as the page's script sends it (`encodeURIComponent`, which
/// leaves letters, digits and `-_.!~*'()` as they are).
fn url_escape(path: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'!')
        .remove(b'~')
        .remove(b'*')
        .remove(b'\'')
        .remove(b'(')
        .remove(b')');
    utf8_percent_encode(path, URI_COMPONENT).to_string()
}

fn events_hello(addr: &str, url: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {url} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("event: hello\ndata: {")
        || !got.ends_with(b"\n\n")
    {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "stream closed: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

// ------------------------------------------------------------------ browser

fn cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache")
        })
}

/// Where `.ci/run` installs playwright-core (via the shared site-check).
fn node_modules() -> PathBuf {
    std::env::var_os("SITE_CHECK_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache_dir().join("site-check"))
        .join("node/node_modules")
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

fn require_browser_tools() {
    let node = Command::new("node")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        node,
        "`node` cannot be run: run `.ci/run` once, which installs the test tools"
    );
    for (what, path) in [
        ("Chromium", chromium()),
        (
            "playwright-core",
            node_modules().join("playwright-core/package.json"),
        ),
    ] {
        assert!(
            path.exists(),
            "{what} is not installed ({} is missing): run `.ci/run` once, which installs the test tools into ~/.cache",
            path.display()
        );
    }
}

/// `tests/serve/live.mjs`, driven line by line.
struct Browser {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    log: Arc<Mutex<String>>,
}

impl Browser {
    fn open(url: &str) -> Browser {
        let mut child = Command::new("node")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/serve/live.mjs"))
            .args(["--url", url])
            .arg("--node-modules")
            .arg(node_modules())
            .arg("--chromium")
            .arg(chromium())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run node");
        let stdin = child.stdin.take().unwrap();
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let log = collect(child.stderr.take().unwrap());
        Browser {
            child,
            stdin,
            lines,
            log,
        }
    }

    /// Sends a command (one JSON line) and waits for the script's verdict.
    fn expect(&mut self, command: &str, server: &Server) -> String {
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
        self.verdict(command, server)
    }

    fn verdict(&mut self, what: &str, server: &Server) -> String {
        // The script has its own deadline per step; this one only guards
        // against a hung browser.
        match self.lines.recv_timeout(Duration::from_secs(90)) {
            Ok(line) if line.starts_with("ok") => {
                eprintln!("browser: {line} (after {what})");
                line
            }
            Ok(line) => panic!(
                "browser: {line} (after {what})\n--- browser log\n{}\n{}",
                self.log.lock().unwrap(),
                server.output()
            ),
            Err(_) => panic!(
                "browser gave no answer to {what}\n--- browser log\n{}\n{}",
                self.log.lock().unwrap(),
                server.output()
            ),
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "{{\"quit\":true}}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn browser_shows_edits_errors_and_the_fix_without_being_touched() {
    require_browser_tools();
    let site = TestSite::new();
    let server = Server::start(&site.root(), &["--port", "0"]);
    let mut browser = Browser::open(&format!("http://{}/news/hello/", server.addr));
    browser.verdict("opening the page", &server);

    // 1. An edit on disk shows in the open page by itself.
    site.save_like_an_editor(
        "content/news/hello.md",
        &HELLO.replace("The original text.", "Edited on disk by the test."),
    );
    let verdict = browser.expect(
        r#"{"text":"Edited on disk by the test.","overlay":false}"#,
        &server,
    );
    assert!(!verdict.contains("(0 page loads)"), "{verdict}");

    // 2. Broken front matter: the overlay names the file and line, over the
    //    last good page.
    site.save_like_an_editor(
        "content/news/hello.md",
        "+++\ntitle = \"Hello\"\ndate = \"yesterday\"\n+++\n\nBroken.\n",
    );
    let verdict = browser.expect(
        r#"{"text":"Edited on disk by the test.","overlay":true,"overlayText":["content/news/hello.md:3","date"]}"#,
        &server,
    );
    assert!(verdict.contains("(0 page loads)"), "{verdict}");

    // 3. The fix clears the overlay and shows the new text.
    site.save_like_an_editor(
        "content/news/hello.md",
        &HELLO.replace("The original text.", "Fixed and back."),
    );
    let verdict = browser.expect(r#"{"text":"Fixed and back.","overlay":false}"#, &server);
    assert!(!verdict.contains("(0 page loads)"), "{verdict}");

    // 4. A stylesheet edit is swapped in without reloading the page.
    site.write(
        "themes/fixture/static/style.css",
        "body { color: #654321; }\n",
    );
    let verdict = browser.expect(r#"{"bodyColor":"rgb(101, 67, 33)"}"#, &server);
    assert!(verdict.contains("(0 page loads)"), "{verdict}");
}

#[test]
fn serving_a_folder_without_site_toml_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("serve")
        .arg("--root")
        .arg(dir.path())
        .args(["--port", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no site.toml in") && err.contains("herald init"),
        "{err}"
    );
}
