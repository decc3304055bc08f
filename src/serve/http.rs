//! The HTTP side: binding a port, turning a request's path into an output
//! file (refusing escapes), and answering from the [`State`].

use super::state::{Found, Snapshot, State};
use super::{reload, PORT_TRIES};
use crate::error::{Error, Result};
use crate::output::Output;
use std::io::Cursor;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tiny_http::{Header, Request, Response, StatusCode};

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
/// canonical path) once every symlink is resolved, and is not itself a
/// symbolic link: a build copies none, and a link swapped in for a copied
/// file since the last rebuild could reach any file of the site's folder
/// (`.git/config`, say).
fn safe_source(root: &Path, src: &Path) -> std::result::Result<PathBuf, String> {
    if std::fs::symlink_metadata(src).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(format!(
            "`{}` is a symbolic link; builds do not copy links, and the dev server does not serve them",
            src.display()
        ));
    }
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
    fn copies_must_stay_inside_the_site_and_not_be_links() {
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
            assert!(err.contains("symbolic link"), "{err}");
            // A link to a file inside the site, swapped in for a copied file.
            std::fs::write(site.join("site.toml"), "title = \"T\"").unwrap();
            std::fs::remove_file(site.join("static/ok.txt")).unwrap();
            std::os::unix::fs::symlink(site.join("site.toml"), site.join("static/ok.txt")).unwrap();
            let err = safe_source(&root, &site.join("static/ok.txt")).unwrap_err();
            assert!(err.contains("symbolic link"), "{err}");
        }
        assert!(safe_source(&root, &site.join("static/missing.txt")).is_err());
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
