//! A small site in a temporary folder for the `syndicate` tests: entries
//! with non-ASCII text, emoji and tags, one old entry (before `since`), a
//! draft, a scheduled entry, and a page bundle with an image.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// "Now" for every run, so the scheduled entry stays in the future.
pub const NOW: &str = "2026-11-28T12:00:00Z";

pub struct SynSite {
    pub dir: tempfile::TempDir,
}

/// A 1×1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

pub const EMOJI_TITLE: &str = "Zürich crews 🚐 now dispatch in seconds";

impl SynSite {
    /// The site with `networks` (TOML `[networks.*]` tables) in site.toml.
    pub fn new(networks: &str) -> SynSite {
        let s = SynSite {
            dir: tempfile::tempdir().unwrap(),
        };
        s.write(
            "site.toml",
            &format!(
                "base_url = \"https://news.example.com\"\ntitle = \"Fernhill News\"\nauthor = \"The Fernhill team\"\n\n[[taxonomies]]\nname = \"tags\"\n\n[syndicate]\nsince = 2026-10-01\n\n{networks}"
            ),
        );
        s.write(
            "content/news/2026-10-06-zurich.md",
            &format!("+++\ntitle = \"{EMOJI_TITLE}\"\ndescription = \"Aufzüge Brändli’s 40 technicians — 👩‍🔧 and 👨‍🔧 — plan routes in one click.\"\n[taxonomies]\ntags = [\"dispatch\", \"field service\", \"Größe\"]\n+++\nRead [the board](@/news/2026-11-02-board/index.md) and [pricing](/pricing/).\n"),
        );
        s.write(
            "content/news/2026-11-02-board/index.md",
            "+++\ntitle = \"The new dispatch board\"\n[taxonomies]\ntags = [\"product\"]\n[syndicate]\nimage = \"board.png\"\nimage_alt = \"The dispatch board with three technicians' routes\"\n+++\nA board for dispatchers.\n\n![board](board.png)\n\n<!-- more -->\n\nMore text.\n",
        );
        std::fs::write(
            s.root().join("content/news/2026-11-02-board/board.png"),
            PNG,
        )
        .unwrap();
        s.write(
            "content/news/2026-03-01-old.md",
            "+++\ntitle = \"An old entry\"\n+++\nOld.\n",
        );
        s.write(
            "content/news/2026-11-20-draft.md",
            "+++\ntitle = \"A draft\"\ndraft = true\n+++\nDraft.\n",
        );
        s.write(
            "content/news/2026-12-24-scheduled.md",
            "+++\ntitle = \"Scheduled\"\n+++\nLater.\n",
        );
        s.write(
            "content/about.md",
            "+++\ntitle = \"About\"\n+++\nUndated page.\n",
        );
        s
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.root().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    pub fn ledger(&self) -> String {
        std::fs::read_to_string(self.root().join("data/syndication.toml")).unwrap_or_default()
    }

    pub fn ledger_path(&self) -> PathBuf {
        self.root().join("data/syndication.toml")
    }

    pub fn options(&self) -> herald::commands::syndicate::SyndicateOptions {
        let mut o = herald::commands::syndicate::SyndicateOptions::new(self.root());
        o.now = chrono::DateTime::parse_from_rfc3339(NOW).unwrap();
        o
    }

    /// Runs the real binary here with only `env` set (nothing inherited, so
    /// no secret a test set for the library reaches it by accident).
    pub fn herald(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_herald"));
        c.args(args).current_dir(self.root()).env_clear();
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }

    /// Every file under the site folder, as (path, bytes).
    pub fn all_files(&self) -> Vec<(String, Vec<u8>)> {
        walkdir::WalkDir::new(self.root())
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                (
                    e.path().display().to_string(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect()
    }
}

/// Panics if `secret` appears in any of `outputs` or in any file of `site`.
pub fn assert_no_secret(secret: &str, outputs: &[&[u8]], site: &SynSite) {
    for (i, o) in outputs.iter().enumerate() {
        assert!(
            !String::from_utf8_lossy(o).contains(secret),
            "output #{i} contains the secret:\n{}",
            String::from_utf8_lossy(o)
        );
    }
    for (path, bytes) in site.all_files() {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(secret),
            "{path} contains the secret"
        );
    }
}
