//! Live reload: a server-sent events endpoint, the small script injected
//! into served HTML pages (never into `herald build` output) that listens to
//! it, and the error overlay that script shows when a rebuild fails.
//!
//! Each successful rebuild has a generation number. A page carries the
//! generation it was rendered from and names itself when its event stream
//! connects; the server says `hello` with the last generation that changed
//! that page, and the error, so a page that missed a rebuild of itself
//! while loading reloads at once (and one whose rebuild changed other pages
//! does not), and a page opened while the site is broken shows the overlay.

use crate::error::{Diagnostic, Error};
use serde::Serialize;
use std::io::Write;
use std::sync::Mutex;

/// The URL path of the event stream.
pub const EVENTS_PATH: &str = "/__herald/events";

/// The URL path of the page that opened the event stream at `url`
/// (`/__herald/events?page=%2Fnews%2Fa%2F`): as the page's `location`
/// has it, then percent-decoded, as a reload message may list it.
pub fn page_of_events_url(url: &str) -> Option<Vec<String>> {
    let query = url.split_once('?')?.1;
    let value = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("page="))?;
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .ok()
            .map(String::from)
    };
    let path = decode(value)?;
    let decoded = decode(&path)?;
    Some(match decoded == path {
        true => vec![path],
        false => vec![path, decoded],
    })
}

/// One problem, as the overlay shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file at fault, relative to the site root (may be empty).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl From<&Diagnostic> for Problem {
    fn from(d: &Diagnostic) -> Self {
        Problem {
            file: d.file.to_string_lossy().replace('\\', "/"),
            line: d.line,
            message: d.message.clone(),
            help: d.help.clone(),
        }
    }
}

/// The problems of a failed build, one per diagnostic (or one for an error
/// that is not about a particular file).
pub fn problems(e: &Error) -> Vec<Problem> {
    match e.diagnostics() {
        [] => vec![Problem {
            file: String::new(),
            line: None,
            message: e.to_string(),
            help: None,
        }],
        diags => diags.iter().map(Problem::from).collect(),
    }
}

/// What the browser is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// The site was rebuilt: reload the page, when it is one of `paths`
    /// (URL paths) or when `paths` is `None`.
    Reload {
        generation: u64,
        paths: Option<Vec<String>>,
    },
    /// Only these stylesheets (URL paths) changed: swap them in place.
    Css { generation: u64, paths: Vec<String> },
    /// A rebuild failed: show these problems over the last good page.
    Failed { problems: Vec<Problem> },
}

impl Message {
    fn to_sse(&self) -> String {
        let (event, data) = match self {
            Message::Reload { generation, paths } => (
                "reload",
                serde_json::json!({ "generation": generation, "paths": paths }),
            ),
            Message::Css { generation, paths } => (
                "css",
                serde_json::json!({ "generation": generation, "paths": paths }),
            ),
            Message::Failed { problems } => {
                ("build-error", serde_json::json!({ "problems": problems }))
            }
        };
        sse("", event, &data)
    }
}

/// One server-sent event. `data` is JSON on one line.
fn sse(prefix: &str, event: &str, data: &serde_json::Value) -> String {
    format!("{prefix}event: {event}\ndata: {data}\n\n")
}

/// The connected browsers.
#[derive(Default)]
pub struct Hub {
    clients: Mutex<Vec<Box<dyn Write + Send>>>,
}

impl Hub {
    /// Takes over a connection that asked for [`EVENTS_PATH`]: writes the
    /// response head and the `hello` event, then keeps it for broadcasts.
    /// `hello` gives the generation and problems the page is told of; it is
    /// asked with the list of browsers held, so that a change sent with
    /// [`Hub::broadcast_after`] meanwhile reaches the page either in its
    /// `hello` or as an event after it, never neither.
    pub fn connect(
        &self,
        mut writer: Box<dyn Write + Send>,
        server: &str,
        hello: impl FnOnce() -> (u64, Option<Vec<Problem>>),
    ) {
        let mut clients = self.lock();
        let (generation, error) = hello();
        let hello = sse(
            // Reconnect quickly after the server restarts.
            "retry: 500\n\n",
            "hello",
            &serde_json::json!({ "server": server, "generation": generation, "problems": error }),
        );
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n\
                    Cache-Control: no-store\r\nConnection: keep-alive\r\n\
                    X-Content-Type-Options: nosniff\r\n\r\n";
        let ok = writer
            .write_all(head.as_bytes())
            .and_then(|_| writer.write_all(hello.as_bytes()))
            .and_then(|_| writer.flush());
        if ok.is_ok() {
            clients.push(writer);
        }
    }

    /// Records a change with `note` (which a later `hello` tells of) and
    /// sends `message` to every browser, forgetting those that went away,
    /// in one step for a browser that connects meanwhile (see
    /// [`Hub::connect`]).
    pub fn broadcast_after(&self, note: impl FnOnce(), message: &Message) {
        let text = message.to_sse();
        let mut clients = self.lock();
        note();
        send_to(&mut clients, &text);
    }

    /// A comment line that keeps idle connections open and finds dead ones.
    pub fn ping(&self) {
        self.send_raw(": ping\n\n");
    }

    /// How many browsers are connected.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when no browser is connected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Closes every connection.
    pub fn close(&self) {
        self.lock().clear();
    }

    fn send_raw(&self, text: &str) {
        send_to(&mut self.lock(), text);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Box<dyn Write + Send>>> {
        // A panic while holding the lock leaves a usable list of writers.
        self.clients
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

/// Writes `text` to each of `clients`, forgetting those that went away.
fn send_to(clients: &mut Vec<Box<dyn Write + Send>>, text: &str) {
    clients.retain_mut(|w| w.write_all(text.as_bytes()).and_then(|_| w.flush()).is_ok());
}

/// The script, with `__GENERATION__` to fill in.
const SCRIPT: &str = r#"<script data-herald-live>
(() => {
  "use strict";
  let generation = __GENERATION__;
  const server = "__SERVER__";
  const root = document.documentElement;
  const OVERLAY = "herald-error-overlay";
  function hide() {
    const o = document.getElementById(OVERLAY);
    if (o) o.remove();
  }
  function show(problems) {
    hide();
    const o = document.createElement("div");
    o.id = OVERLAY;
    o.setAttribute("role", "alert");
    o.style.cssText = "position:fixed;inset:0;z-index:2147483647;overflow:auto;margin:0;padding:2rem;" +
      "background:rgba(20,20,24,.94);color:#f5f5f5;font:15px/1.5 ui-monospace,Menlo,Consolas,monospace;text-align:left";
    const h = document.createElement("h2");
    h.style.cssText = "margin:0 0 1rem;font:700 1.2rem/1.3 system-ui,sans-serif;color:#ff8a80";
    h.textContent = "The rebuild failed. You are seeing the last good version of this page.";
    o.append(h);
    for (const p of problems) {
      const item = document.createElement("div");
      item.className = "herald-problem";
      item.style.cssText = "margin:0 0 1.25rem;padding:.75rem 1rem;border-left:4px solid #ff8a80;background:#2a2a30";
      const where = document.createElement("div");
      where.className = "herald-problem-location";
      where.style.cssText = "font-weight:700;color:#ffd54f";
      where.textContent = p.file ? p.file + (p.line ? ":" + p.line : "") : "";
      const msg = document.createElement("div");
      msg.className = "herald-problem-message";
      msg.textContent = p.message;
      item.append(where, msg);
      if (p.help) {
        const help = document.createElement("div");
        help.className = "herald-problem-help";
        help.style.cssText = "color:#a5d6a7";
        help.textContent = "help: " + p.help;
        item.append(help);
      }
      o.append(item);
    }
    const close = document.createElement("button");
    close.type = "button";
    close.textContent = "Dismiss";
    close.style.cssText = "font:inherit;padding:.25rem .75rem";
    close.addEventListener("click", hide);
    o.append(close);
    (document.body || root).append(o);
  }
  function swapCss(paths) {
    let swapped = 0;
    for (const link of document.querySelectorAll('link[rel~="stylesheet"]')) {
      const url = new URL(link.href, location.href);
      if (url.origin !== location.origin || !paths.includes(url.pathname)) continue;
      url.searchParams.set("herald", String(generation));
      const next = link.cloneNode();
      next.href = url.href;
      next.addEventListener("load", () => link.remove());
      next.addEventListener("error", () => link.remove());
      link.after(next);
      swapped++;
    }
    return swapped > 0;
  }
  const events = new EventSource("/__herald/events?page=" + encodeURIComponent(location.pathname));
  events.addEventListener("hello", (e) => {
    const d = JSON.parse(e.data);
    root.dataset.heraldLive = "connected";
    if (d.problems) show(d.problems); else hide();
    // A rebuild that changed this page after it was rendered, which it
    // missed, or a restarted server: load it afresh.
    if (!d.problems && (d.generation > generation || d.server !== server)) location.reload();
  });
  events.addEventListener("reload", (e) => {
    const d = JSON.parse(e.data);
    const here = [location.pathname, decodeURI(location.pathname)];
    if (!d.paths || here.some((p) => d.paths.includes(p))) location.reload();
    else generation = d.generation; // this page did not change
  });
  events.addEventListener("css", (e) => {
    const d = JSON.parse(e.data);
    generation = d.generation;
    if (!swapCss(d.paths)) location.reload();
  });
  events.addEventListener("build-error", (e) => show(JSON.parse(e.data).problems));
})();
</script>
"#;

/// The live-reload script for a page rendered from `generation` by the
/// server that calls itself `server`.
pub fn script(server: &str, generation: u64) -> String {
    SCRIPT
        .replace("__GENERATION__", &generation.to_string())
        .replace("__SERVER__", server)
}

/// `html` with the live-reload script before its last `</body>`, or at the
/// end when it has none.
pub fn inject(html: &[u8], server: &str, generation: u64) -> Vec<u8> {
    let script = script(server, generation);
    let at = rfind_ascii_case_insensitive(html, b"</body").unwrap_or(html.len());
    let mut out = Vec::with_capacity(html.len() + script.len());
    out.extend_from_slice(&html[..at]);
    out.extend_from_slice(script.as_bytes());
    out.extend_from_slice(&html[at..]);
    out
}

fn rfind_ascii_case_insensitive(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() > hay.len() {
        return None;
    }
    (0..=hay.len() - needle.len())
        .rev()
        .find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    #[test]
    fn the_events_url_names_its_page_as_written_and_decoded() {
        let page = |url: &str| page_of_events_url(url);
        assert_eq!(
            page("/__herald/events?page=%2Fnews%2Fa%2F"),
            Some(vec!["/news/a/".to_string()])
        );
        // `location.pathname` keeps `%C3%A9`; a reload message may list either.
        assert_eq!(
            page("/__herald/events?x=1&page=%2Fcaf%25C3%25A9%2F"),
            Some(vec!["/caf%C3%A9/".to_string(), "/café/".to_string()])
        );
        assert_eq!(page("/__herald/events"), None);
        assert_eq!(page("/__herald/events?pages=%2F"), None);
        assert_eq!(page("/__herald/events?page=%FF"), None);
    }

    #[test]
    fn script_goes_before_the_last_closing_body() {
        let html = b"<html><body><p>x</p><!-- </body> --></BODY></html>";
        let out = String::from_utf8(inject(html, "s1", 7)).unwrap();
        let at = out.find("<script data-herald-live>").unwrap();
        assert!(out[at..].contains("</BODY></html>"));
        assert!(out[..at].ends_with("<!-- </body> -->"));
        assert!(out.contains("let generation = 7;"));
        assert!(out.contains(EVENTS_PATH));
    }

    #[test]
    fn pages_without_body_get_the_script_at_the_end() {
        let out = String::from_utf8(inject(b"<p>hi</p>", "s1", 1)).unwrap();
        assert!(out.starts_with("<p>hi</p><script"));
    }

    #[test]
    fn failures_become_problems_with_file_and_line() {
        let e = Error::Site(vec![Diagnostic::new("content/a.md", "bad date")
            .at_line(3)
            .help("write 2026-01-02")]);
        let p = problems(&e);
        assert_eq!(p[0].file, "content/a.md");
        assert_eq!(p[0].line, Some(3));
        let other = problems(&Error::Other("disk full".into()));
        assert_eq!(other[0].message, "disk full");
        let sse = Message::Failed { problems: p }.to_sse();
        assert!(sse.starts_with("event: build-error\ndata: {"));
        assert!(sse.ends_with("\n\n"));
        assert_eq!(sse.matches('\n').count(), 3, "data stays on one line");
    }

    /// A writer whose bytes the test reads afterwards.
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_change_sent_while_a_browser_connects_reaches_it_after_its_hello() {
        let hub = Hub::default();
        let stream = Shared::default();
        let (asking, asked) = std::sync::mpsc::channel();
        std::thread::scope(|s| {
            s.spawn(|| {
                let hello = || {
                    // The `hello` is worked out; the change comes now.
                    asking.send(()).unwrap();
                    std::thread::sleep(std::time::Duration::from_millis(200));
                    (1, None)
                };
                hub.connect(Box::new(stream.clone()), "s1", hello);
            });
            asked.recv().unwrap();
            let noted = std::sync::atomic::AtomicBool::new(false);
            let reload = Message::Reload {
                generation: 2,
                paths: None,
            };
            hub.broadcast_after(|| noted.store(true, Ordering::SeqCst), &reload);
            assert!(noted.load(Ordering::SeqCst));
        });
        let text = String::from_utf8(stream.0.lock().unwrap().clone()).unwrap();
        let hello = text.find("event: hello").expect("a hello");
        let reload = text
            .find("event: reload")
            .unwrap_or_else(|| panic!("the reload sent while the hello was made is lost:\n{text}"));
        assert!(hello < reload, "{text}");
    }

    #[test]
    fn broadcasting_drops_closed_connections() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let hub = Hub::default();
        hub.lock().push(Box::new(Broken));
        hub.lock().push(Box::new(Vec::new()));
        let reload = Message::Reload {
            generation: 2,
            paths: None,
        };
        hub.broadcast_after(|| {}, &reload);
        assert_eq!(hub.len(), 1);
    }
}
