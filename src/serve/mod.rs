//! The dev server behind `herald serve`: it serves the rendered site from
//! memory over HTTP (tiny_http), watches the site's files ([`watch`]),
//! rebuilds what a change affects ([`live`]) and tells the browser to reload
//! or to show what went wrong ([`reload`]).
//!
//! Nothing is written to disk: pages come from the [`Output`] of the last
//! good build, copied files are read from their sources on request.
//!
//! A request can only name a file of that output. Its path is checked before
//! any lookup (`..`, `.`, encoded or not, backslashes, `//` and absolute
//! forms are refused with 400), and a copied file is served only when its
//! source, symlinks resolved, is still inside the site's folder.

pub mod live;
pub mod reload;
pub mod watch;

use crate::error::{Error, Result};
use crate::output::Output;
use reload::{Hub, Message, Problem};
use std::collections::BTreeMap;
use std::io::Cursor;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;
use tiny_http::{Header, Request, Response, StatusCode};

/// How many ports after a busy one are tried.
pub const PORT_TRIES: u16 = 50;

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
pub struct AheadPage {
    /// The rebuild job that will include the edit.
    pub seq: u64,
    /// Its HTML.
    pub html: Vec<u8>,
}

/// A file of the snapshot, found for a request.
enum Found<'a> {
    Bytes(&'a [u8]),
    Copy(&'a Path),
}

impl Snapshot {
    fn find(&self, key: &str) -> Option<Found<'_>> {
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

    fn has(&self, key: &str) -> bool {
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
        self.statics
            .copies
            .values()
            .chain(self.documents.copies.values())
            .any(|p| p == source)
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
    root: PathBuf,
    /// Names this server run, so pages notice a restart.
    server_id: String,
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
            .map(|(k, a)| {
                let page = AheadPage {
                    seq: a.seq,
                    html: a.html.clone(),
                };
                (k.clone(), page)
            })
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
        let mut ahead: BTreeMap<String, AheadPage> = slot
            .ahead
            .iter()
            .map(|(k, a)| {
                let page = AheadPage {
                    seq: a.seq,
                    html: a.html.clone(),
                };
                (k.clone(), page)
            })
            .collect();
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

/// Binds `ip:port`; when the port is taken, the next free one. Returns the
/// listener and, when it moved, the port that was busy. Port 0 lets the
/// system choose.
pub fn bind(ip: IpAddr, port: u16) -> Result<(TcpListener, Option<u16>)> {
    let mut last_err = None;
    for offset in 0..PORT_TRIES {
        let Some(p) = port.checked_add(offset) else {
            break;
        };
        match listen(SocketAddr::new(ip, p)) {
            Ok(l) => return Ok((l, (offset > 0).then_some(port))),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && port != 0 => {
                last_err = Some(e);
            }
            Err(e) => {
                return Err(Error::Other(format!(
                    "could not listen on {}: {e}",
                    SocketAddr::new(ip, p)
                )))
            }
        }
    }
    Err(Error::Other(format!(
        "ports {port} to {} on {ip} are all in use ({}); pick another with --port",
        port.saturating_add(PORT_TRIES - 1),
        last_err.map(|e| e.to_string()).unwrap_or_default()
    )))
}

/// A listening socket whose connections send small writes at once.
///
/// tiny_http writes a response head and body separately; with Nagle's
/// algorithm on, the second write of a kept-alive connection waits for the
/// client's delayed ACK, about 40 ms per request. Accepted sockets inherit
/// TCP_NODELAY from the listener on Linux; elsewhere it is only a hint.
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    #[cfg(not(windows))]
    socket.set_reuse_address(true)?;
    let _ = socket.set_tcp_nodelay(true);
    socket.bind(&addr.into())?;
    socket.listen(128)?;
    Ok(socket.into())
}

/// Why a request path is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not a path this server could ever serve (400).
    BadRequest,
}

/// The output file a request target names (`/news/a/` → `news/a/index.html`),
/// or why it is refused. Only plain, relative, forward-slash paths pass.
pub fn resolve(target: &str) -> std::result::Result<String, Refusal> {
    let path = target.split(['?', '#']).next().unwrap_or_default();
    if !path.starts_with('/') || path.starts_with("//") || path.contains('\\') {
        return Err(Refusal::BadRequest);
    }
    let bytes: Vec<u8> = percent_encoding::percent_decode_str(path).collect();
    let decoded = String::from_utf8(bytes).map_err(|_| Refusal::BadRequest)?;
    if decoded.contains(['\\', '\0']) || decoded.starts_with("//") {
        return Err(Refusal::BadRequest);
    }
    let rel = &decoded[1..];
    let segments: Vec<&str> = rel.split('/').collect();
    let last = segments.len() - 1;
    for (i, seg) in segments.iter().enumerate() {
        let drive = seg.len() >= 2 && seg.as_bytes()[1] == b':' && i == 0;
        if *seg == ".." || *seg == "." || (seg.is_empty() && i != last) || drive {
            return Err(Refusal::BadRequest);
        }
    }
    Ok(Output::file_for_url_path(&decoded))
}

/// The Content-Type of an output file, by its extension.
pub fn content_type(key: &str) -> String {
    let mime = mime_guess::from_path(key).first_or_octet_stream();
    let text = mime.type_() == mime_guess::mime::TEXT
        || matches!(
            mime.essence_str(),
            "application/javascript"
                | "application/json"
                | "application/xml"
                | "application/atom+xml"
                | "application/rss+xml"
                | "image/svg+xml"
        )
        || key.ends_with(".webmanifest");
    if key.ends_with(".webmanifest") {
        return "application/manifest+json; charset=utf-8".into();
    }
    if text && mime.get_param(mime_guess::mime::CHARSET).is_none() {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    }
}

/// The URL paths a browser may show an output file at:
/// `news/a/index.html` → `/news/a/` and `/news/a/index.html`.
pub fn url_paths_for(key: &str) -> Vec<String> {
    match key.strip_suffix("index.html") {
        Some(dir) if dir.is_empty() || dir.ends_with('/') => {
            vec![format!("/{dir}"), format!("/{key}")]
        }
        _ => vec![format!("/{key}")],
    }
}

fn is_html(key: &str) -> bool {
    key.ends_with(".html") || key.ends_with(".htm")
}

/// Something the terminal should hear about from a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The request path.
    pub url: String,
    /// Why the file was not served.
    pub reason: String,
}

/// Where the HTTP workers report files they refused to serve.
pub type Notices = Arc<dyn Fn(Refused) + Send + Sync>;

/// The HTTP side: worker threads answering from [`State`].
pub struct HttpServer {
    server: Arc<tiny_http::Server>,
    workers: Vec<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    addr: SocketAddr,
}

impl HttpServer {
    /// Serves `state` on `listener`; refused files are reported to `notices`.
    pub fn start(listener: TcpListener, state: Arc<State>, notices: Notices) -> Result<HttpServer> {
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Other(format!("could not read the listening address: {e}")))?;
        let server = tiny_http::Server::from_listener(listener, None)
            .map_err(|e| Error::Other(format!("could not serve on {addr}: {e}")))?;
        let server = Arc::new(server);
        let stop = Arc::new(AtomicBool::new(false));
        let n = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(4, 16);
        let mut workers = Vec::with_capacity(n);
        for i in 0..n {
            let (server, state, stop, notices) =
                (server.clone(), state.clone(), stop.clone(), notices.clone());
            let w = std::thread::Builder::new()
                .name(format!("herald-http-{i}"))
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        match server.recv_timeout(Duration::from_millis(200)) {
                            Ok(Some(req)) => handle(req, &state, &notices),
                            Ok(None) => {}
                            Err(_) => break,
                        }
                    }
                })
                .map_err(|e| Error::Other(format!("could not start a server thread: {e}")))?;
            workers.push(w);
        }
        Ok(HttpServer {
            server,
            workers,
            stop,
            addr,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops answering and waits for the workers.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for _ in &self.workers {
            self.server.unblock();
        }
        for w in self.workers {
            let _ = w.join();
        }
    }
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("ASCII header")
}

fn common_headers() -> Vec<Header> {
    vec![
        header("Cache-Control", "no-store"),
        header("X-Content-Type-Options", "nosniff"),
    ]
}

fn respond_bytes(req: Request, status: u16, content_type: &str, body: Vec<u8>) {
    let len = body.len();
    let mut res = Response::new(
        StatusCode(status),
        common_headers(),
        Cursor::new(body),
        Some(len),
        None,
    );
    res.add_header(header("Content-Type", content_type));
    // The client may have gone away; nothing to do about it.
    let _ = req.respond(res);
}

fn respond_text(req: Request, status: u16, text: &str) {
    respond_bytes(
        req,
        status,
        "text/plain; charset=utf-8",
        text.as_bytes().to_vec(),
    );
}

fn handle(req: Request, state: &State, notices: &Notices) {
    use tiny_http::Method;
    let url = req.url().to_string();
    if url.split('?').next() == Some(reload::EVENTS_PATH) {
        state.connect(req.into_writer(), &url);
        return;
    }
    if !matches!(req.method(), Method::Get | Method::Head) {
        let mut res = Response::from_string("only GET and HEAD are served\n")
            .with_status_code(405)
            .with_header(header("Allow", "GET, HEAD"));
        for h in common_headers() {
            res.add_header(h);
        }
        let _ = req.respond(res);
        return;
    }
    let key = match resolve(&url) {
        Ok(k) => k,
        Err(Refusal::BadRequest) => return respond_text(req, 400, "400 bad request path\n"),
    };
    let snap = state.snapshot();
    match snap.find(&key) {
        Some(Found::Bytes(b)) => serve_bytes(req, state, &snap, &key, b, 200),
        Some(Found::Copy(src)) => match safe_source(&state.root, src) {
            Ok(real) => serve_file(req, state, &snap, &key, &real),
            Err(reason) => {
                notices(Refused {
                    url: url.clone(),
                    reason,
                });
                not_found(req, state, &snap)
            }
        },
        None => {
            // `/news` → `/news/` when that is a folder with an index page.
            let bare = key.trim_end_matches("index.html");
            let path = url.split('?').next().unwrap_or_default();
            if !path.ends_with('/') && snap.has(&format!("{bare}/index.html")) {
                let query = url.find('?').map(|i| &url[i..]).unwrap_or("");
                let mut res = Response::from_string("")
                    .with_status_code(301)
                    .with_header(header("Location", &format!("{path}/{query}")));
                for h in common_headers() {
                    res.add_header(h);
                }
                let _ = req.respond(res);
            } else {
                not_found(req, state, &snap)
            }
        }
    }
}

fn serve_bytes(req: Request, state: &State, snap: &Snapshot, key: &str, b: &[u8], status: u16) {
    let body = if is_html(key) {
        reload::inject(b, &state.server_id, snap.generation)
    } else {
        b.to_vec()
    };
    respond_bytes(req, status, &content_type(key), body);
}

fn serve_file(req: Request, state: &State, snap: &Snapshot, key: &str, path: &Path) {
    if is_html(key) {
        // HTML copied as is still gets the script; rare, so read it whole.
        match std::fs::read(path) {
            Ok(b) => serve_bytes(req, state, snap, key, &b, 200),
            Err(_) => respond_text(req, 404, "404 not found\n"),
        }
        return;
    }
    match std::fs::File::open(path) {
        Ok(f) => {
            let mut res = Response::from_file(f);
            for h in common_headers() {
                res.add_header(h);
            }
            res.add_header(header("Content-Type", &content_type(key)));
            let _ = req.respond(res);
        }
        Err(_) => respond_text(req, 404, "404 not found\n"),
    }
}

fn not_found(req: Request, state: &State, snap: &Snapshot) {
    match snap.find("404.html") {
        Some(Found::Bytes(b)) => serve_bytes(req, state, snap, "404.html", b, 404),
        _ => {
            let page = "<!doctype html><html><head><meta charset=\"utf-8\"><title>404 Not Found</title></head>\
                        <body><h1>404 Not Found</h1><p>This site has no page here (and no 404.html).</p></body></html>";
            let body = reload::inject(page.as_bytes(), &state.server_id, snap.generation);
            respond_bytes(req, 404, "text/html; charset=utf-8", body)
        }
    }
}

/// The real path of a copied file, when it is still inside `root` (a
/// canonical path) once every symlink is resolved.
fn safe_source(root: &Path, src: &Path) -> std::result::Result<PathBuf, String> {
    let real = src
        .canonicalize()
        .map_err(|e| format!("`{}` cannot be read: {e}", src.display()))?;
    if !real.starts_with(root) {
        return Err(format!(
            "`{}` resolves to `{}`, outside the site's folder; the dev server does not serve it",
            src.display(),
            real.display()
        ));
    }
    if !real.is_file() {
        return Err(format!("`{}` is not a file", src.display()));
    }
    Ok(real)
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

    #[test]
    fn plain_paths_resolve_to_output_files() {
        assert_eq!(resolve("/").unwrap(), "index.html");
        assert_eq!(resolve("/news/a/").unwrap(), "news/a/index.html");
        assert_eq!(resolve("/news/a/?x=1#f").unwrap(), "news/a/index.html");
        assert_eq!(resolve("/style.css").unwrap(), "style.css");
        assert_eq!(resolve("/tags/c%2B%2B/").unwrap(), "tags/c++/index.html");
        assert_eq!(resolve("/caf%C3%A9/").unwrap(), "café/index.html");
    }

    #[test]
    fn escapes_are_bad_requests() {
        for bad in [
            "/../site.toml",
            "/%2e%2e/site.toml",
            "/%2E%2E/site.toml",
            "/..%2fsite.toml",
            "/..%2Fsite.toml",
            "/news/../../site.toml",
            "/news/%2e%2e/%2e%2e/site.toml",
            "/./site.toml",
            "//etc/passwd",
            "/%2fetc/passwd",
            "/news\\..\\..\\site.toml",
            "/news%5c..%5csite.toml",
            "/C:/Windows/win.ini",
            "/a//b",
            "/%00",
            "/%ff",
            "http://evil.example/",
            "*",
            "",
        ] {
            assert_eq!(resolve(bad), Err(Refusal::BadRequest), "{bad}");
        }
    }

    #[test]
    fn content_types_come_from_extensions() {
        assert_eq!(content_type("a/index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("style.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("x.svg"), "image/svg+xml; charset=utf-8");
        assert_eq!(content_type("x.png"), "image/png");
        assert_eq!(content_type("feed.json"), "application/json; charset=utf-8");
        assert_eq!(content_type("atom.xml"), "text/xml; charset=utf-8");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }

    #[test]
    fn copies_must_stay_inside_the_site() {
        let t = tempfile::tempdir().unwrap();
        let site = t.path().join("site");
        std::fs::create_dir_all(site.join("static")).unwrap();
        std::fs::write(t.path().join("secret.txt"), "secret").unwrap();
        std::fs::write(site.join("static/ok.txt"), "ok").unwrap();
        let root = site.canonicalize().unwrap();
        assert!(safe_source(&root, &site.join("static/ok.txt")).is_ok());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(t.path().join("secret.txt"), site.join("static/leak.txt"))
                .unwrap();
            let err = safe_source(&root, &site.join("static/leak.txt")).unwrap_err();
            assert!(err.contains("outside the site"), "{err}");
        }
        assert!(safe_source(&root, &site.join("static/missing.txt")).is_err());
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

    #[test]
    fn busy_ports_move_to_the_next_one() {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let (l, busy) = bind("127.0.0.1".parse().unwrap(), port).unwrap();
        assert_eq!(busy, Some(port));
        assert_ne!(l.local_addr().unwrap().port(), port);
    }
}
