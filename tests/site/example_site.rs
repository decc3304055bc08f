//! The repository's own example site passes the shared validators.

use crate::support::*;
use std::process::Command;

/// Builds the example site (the repository root) into a temporary folder.
fn build_example() -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let mut o = herald::commands::BuildOptions::new(repo_root());
    o.output_dir = Some(out.path().join("public"));
    o.now = chrono::DateTime::parse_from_rfc3339("2026-11-28T00:00:00Z").unwrap();
    herald::commands::build(&o).unwrap_or_else(|e| panic!("the example site must build:\n{e}"));
    out
}

#[test]
fn example_site_has_what_the_issue_promises() {
    let out = build_example();
    let p = out.path().join("public");
    let pages = walkdir::WalkDir::new(&p)
        .into_iter()
        .filter(|e| e.as_ref().unwrap().file_name() == "index.html")
        .count();
    assert!(pages > 40, "{pages} pages");
    assert!(
        p.join("news/new-dispatch-board/board.png").exists(),
        "bundle image"
    );
    let board = std::fs::read_to_string(p.join("news/new-dispatch-board/index.html")).unwrap();
    assert!(
        board.contains(r#"src="board.png""#) && board.contains(r#"width="800" height="450""#),
        "the bundle image carries its size, read from the PNG"
    );
    assert!(
        !p.join("news/introducing-van-stock").exists(),
        "scheduled entry is not published"
    );
    assert!(
        !p.join("news/simpler-pricing-for-2027").exists(),
        "draft is not published"
    );
    assert!(
        p.join("blog/2025/10/multi-day-routing/index.html").exists(),
        "alias"
    );
    for f in [
        "atom.xml",
        "rss.xml",
        "feed.json",
        "sitemap.xml",
        "robots.txt",
        "404.html",
        "tags/index.html",
    ] {
        assert!(p.join(f).exists(), "{f}");
    }
}

#[test]
fn example_site_passes_feed_sitemap_and_link_checks() {
    require_tools();
    let out = build_example();
    let report = out.path().join("report");
    let res = Command::new("bash")
        .arg(shared_dir().join("site-check/check-site.sh"))
        .arg(out.path().join("public"))
        .args(["--only", "feeds,sitemap,links-internal", "--out"])
        .arg(&report)
        .env("SITE_CHECK_HOME", site_check_home())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(
        res.status.success(),
        "site-check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&res.stderr)
    );
    assert!(
        stdout.contains("RESULT: PASS (3 checks passed, 3 skipped)"),
        "{stdout}"
    );
}
