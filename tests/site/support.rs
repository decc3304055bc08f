//! A small site in a temporary folder, with the fixture theme.

use herald::commands::{BuildOptions, BuildReport};
use std::path::{Path, PathBuf};
use std::process::Command;

/// "Now" for every fixture build, so scheduled entries are deterministic.
pub const NOW: &str = "2026-06-01T00:00:00Z";

pub const BASE_CONFIG: &str = r#"base_url = "https://example.com"
title = "Test News"
description = "Tests"
author = "Test Author"
paginate_by = 2

[[taxonomies]]
name = "tags"
"#;

pub struct TestSite {
    pub dir: tempfile::TempDir,
}

impl TestSite {
    /// A site with the base config and the fixture theme, and no content.
    pub fn empty() -> TestSite {
        let site = TestSite {
            dir: tempfile::tempdir().unwrap(),
        };
        copy_dir(&fixture_theme(), &site.root().join("themes/default"));
        site.write("site.toml", BASE_CONFIG);
        std::fs::create_dir_all(site.root().join("content")).unwrap();
        site
    }

    /// A site with the base config and `files` as (path, text) pairs.
    pub fn with(files: &[(&str, &str)]) -> TestSite {
        let site = TestSite::empty();
        for (p, t) in files {
            site.write(p, t);
        }
        site
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, text: impl AsRef<[u8]>) -> &Self {
        let p = self.root().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
        self
    }

    pub fn options(&self) -> BuildOptions {
        let mut o = BuildOptions::new(self.root());
        o.now = chrono::DateTime::parse_from_rfc3339(NOW).unwrap();
        o
    }

    pub fn build(&self) -> herald::Result<BuildReport> {
        herald::commands::build(&self.options())
    }

    /// Builds and panics with the errors if the build fails.
    pub fn build_ok(&self) -> BuildReport {
        self.build()
            .unwrap_or_else(|e| panic!("build failed:\n{e}"))
    }

    /// The error text of a build that must fail.
    pub fn build_err(&self) -> String {
        match self.build() {
            Ok(_) => panic!("the build should have failed"),
            Err(e) => e.to_string(),
        }
    }

    pub fn public(&self, rel: &str) -> PathBuf {
        self.root().join("public").join(rel)
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.public(rel)).unwrap_or_else(|e| panic!("public/{rel}: {e}"))
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.public(rel).exists()
    }

    /// Runs the real binary in the site folder.
    pub fn herald(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(args)
            .current_dir(self.root())
            .output()
            .unwrap()
    }
}

/// A page with front matter `fm` and body `body`.
pub fn page(fm: &str, body: &str) -> String {
    format!("+++\n{fm}\n+++\n{body}")
}

/// Makes every file of `content/` written in the last minute look written
/// long ago (at a time that differs for each `round`), so that the next build
/// trusts its stamp (length, mtime, inode) and takes it from the page cache
/// unread while it stays unchanged: without this, every file a test writes
/// is too fresh for its stamp to be trusted.
pub fn settle(root: &Path, round: u64) {
    let now = std::time::SystemTime::now();
    let then = now - std::time::Duration::from_secs(3600) + std::time::Duration::from_secs(round);
    for e in walkdir::WalkDir::new(root.join("content")) {
        let e = e.unwrap();
        let fresh = e
            .metadata()
            .unwrap()
            .modified()
            .unwrap()
            .elapsed()
            .unwrap_or_default()
            < std::time::Duration::from_secs(60);
        if e.file_type().is_file() && fresh {
            let f = std::fs::File::options().write(true).open(e.path()).unwrap();
            f.set_modified(then).unwrap();
        }
    }
}

/// The first 24 bytes of a PNG: all that is read for its size.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    b.extend_from_slice(&width.to_be_bytes());
    b.extend_from_slice(&height.to_be_bytes());
    b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    b
}

pub fn fixture_theme() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/theme")
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn copy_dir(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let target = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Every file under `dir`, relative, sorted, with its bytes.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path()
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The site-check tools' home (installed by `.ci/run`).
pub fn site_check_home() -> PathBuf {
    std::env::var_os("SITE_CHECK_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/site-check"))
}

/// The shared validators' folder, next to the repository.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("HERALD_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared"))
}

/// Fails with advice when a validator is not installed.
pub fn require_tools() {
    let py = site_check_home().join("venv/bin/python");
    assert!(
        py.exists() && shared_dir().join("site-check/check-site.sh").exists(),
        "the validators are not installed ({} missing): run `bash .ci/run` once, which installs them into ~/.cache",
        py.display()
    );
}
