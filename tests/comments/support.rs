//! A small site in a temporary folder with the repository's default theme,
//! networks pointing at fakes, and a ledger.

use std::path::{Path, PathBuf};

pub const NOW: &str = "2026-06-01T00:00:00Z";

pub struct Site {
    pub dir: tempfile::TempDir,
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(from).unwrap();
        let dest = to.join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

impl Site {
    /// A site whose `site.toml` ends with `networks` (and `[comments]` settings).
    pub fn new(networks: &str) -> Site {
        let site = Site {
            dir: tempfile::tempdir().unwrap(),
        };
        copy_dir(
            &repo().join("themes/default"),
            &site.root().join("themes/default"),
        );
        site.write(
            "site.toml",
            &format!("base_url = \"https://news.example.com\"\ntitle = \"Test News\"\nauthor = \"Test\"\n\n{networks}"),
        );
        site.write(
            "content/news/launch.md",
            "+++\ntitle = \"We launched\"\ndate = 2026-05-30\n+++\nThe launch post.\n",
        );
        site.write(
            "content/news/old.md",
            "+++\ntitle = \"Old news\"\ndate = 2025-01-01\n+++\nOld.\n",
        );
        site.write(
            "content/news/quiet.md",
            "+++\ntitle = \"No comments here\"\ndate = 2026-05-29\ncomments = false\n+++\nQuiet.\n",
        );
        site
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.root().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    pub fn fetch(&self) -> herald::comments::FetchReport {
        let mut o = herald::comments::FetchOptions::new(self.root());
        o.now = chrono::DateTime::parse_from_rfc3339(NOW).unwrap().to_utc();
        herald::comments::fetch_all(&o, &herald::comments::Quiet).unwrap()
    }

    pub fn build(&self) -> herald::Result<herald::commands::BuildReport> {
        let mut o = herald::commands::BuildOptions::new(self.root());
        o.now = chrono::DateTime::parse_from_rfc3339(NOW).unwrap();
        herald::commands::build(&o)
    }

    pub fn build_ok(&self) {
        self.build()
            .unwrap_or_else(|e| panic!("build failed:\n{e}"));
    }

    /// The built page of `news/SLUG`.
    pub fn page(&self, slug: &str) -> String {
        self.read(&format!("public/news/{slug}/index.html"))
    }
}

/// The comment section of a built page (from `<section class="comments"` to its end).
pub fn section(html: &str) -> &str {
    let Some(start) = html.find("<section class=\"comments\"") else {
        return "";
    };
    let end = html[start..]
        .find("</section>")
        .map_or(html.len(), |e| start + e + "</section>".len());
    &html[start..end]
}

/// Asserts that nothing active is left in `html` (a comment section): no
/// dangerous element, no event handler, no `style`, no `javascript:` or
/// `data:` URL in any tag. Escaped text (`&lt;script&gt;`) is harmless and allowed.
pub fn assert_inert(html: &str) {
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        let end = rest[i..].find('>').map_or(rest.len(), |e| i + e + 1);
        let tag = rest[i..end].to_lowercase();
        rest = &rest[end..];
        let name: String = tag[1..]
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        assert!(
            ![
                "script", "svg", "iframe", "style", "form", "input", "img", "object", "embed",
                "math", "button", "frame", "base", "meta", "link", "template", "noscript",
                "textarea"
            ]
            .contains(&name.as_str()),
            "<{name}> survived the sanitizer: {tag}\n{html}"
        );
        let attrs = tag
            .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            .skip(1);
        for a in attrs {
            let key = a.split('=').next().unwrap_or("");
            assert!(
                !(key.starts_with("on") && a.contains('=')),
                "an event handler survived: {tag}\n{html}"
            );
            assert!(key != "style" && key != "srcdoc", "`{key}` survived: {tag}");
        }
        assert!(
            !tag.contains("javascript:") && !tag.contains("data:"),
            "a dangerous URL survived: {tag}"
        );
    }
}
