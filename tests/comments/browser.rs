//! The sanitizer checked in a real browser: the entry page with hostile
//! comments is loaded in headless Chromium (playwright-core, installed by
//! `.ci/run` under ~/.cache/site-check), and no script may run. A control
//! page with the same payloads unsanitized proves they would have.

use crate::fetch::{setup, HOSTILE};
use std::path::PathBuf;
use std::time::Duration;

fn node_modules() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache")
        });
    std::env::var_os("SITE_CHECK_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache.join("site-check"))
        .join("node/node_modules")
}

#[test]
fn no_script_from_a_comment_runs_in_chromium() {
    let nm = node_modules();
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    for (what, p) in [
        ("playwright-core", nm.join("playwright-core")),
        ("Chromium", chromium.clone()),
    ] {
        assert!(p.exists(), "{what} is not installed ({} is missing): run `bash .ci/run` once, which installs the test tools into ~/.cache", p.display());
    }
    let (site, f) = setup("comments-browser", Duration::ZERO);
    let r = site.fetch();
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    drop(f);
    site.build_ok();
    let hostile = site.root().join("hostile.html");
    std::fs::write(&hostile, HOSTILE).unwrap();
    let script = crate::support::repo().join("tests/comments/browser.mjs");
    let out = std::process::Command::new("node")
        .arg(&script)
        .arg("--page")
        .arg(site.root().join("public/news/launch/index.html"))
        .arg("--hostile")
        .arg(&hostile)
        .arg("--node-modules")
        .arg(&nm)
        .arg("--chromium")
        .arg(&chromium)
        .output()
        .expect("node runs (installed by .ci/run)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "browser.mjs failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert!(
        !v["control"]["pwned"].is_null(),
        "the control page must run the payloads, or this test proves nothing: {v}"
    );
    let p = &v["page"];
    assert!(p["pwned"].is_null(), "a comment's script ran: {v}");
    assert_eq!(p["title"], p["titleAtLoad"], "{v}");
    assert!(!p["title"].as_str().unwrap().contains("pwned"), "{v}");
    assert_eq!(p["scripts"], 0, "{v}");
    assert_eq!(p["handlers"], 0, "{v}");
    assert_eq!(p["jsLinks"], 0, "{v}");
    assert_eq!(p["dialogs"].as_array().unwrap().len(), 0, "{v}");
    assert!(
        p["comments"].as_u64().unwrap() > 100,
        "the comments are on the page: {v}"
    );
}
