#![recursion_limit = "256"]
//! `herald report` (issue 7): a history built by running `herald comments`
//! against the Mastodon fake at several moments with changing counts, then
//! the report binary's CSV, JSON, HTML and summary checked figure by figure.

#[allow(dead_code)]
#[path = "comments/fakes.rs"]
mod fakes;
#[allow(dead_code)]
#[path = "comments/support.rs"]
mod support;

use fakes::{account, status};
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::Site;

fn herald(root: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--root")
        .arg(root)
        .arg("report")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// A site with one entry posted to the Mastodon fake, fetched three times
/// while its counts and the account's followers grow; the snapshots are
/// then dated one, two and four days after publication.
fn history() -> (Site, fakes::Fake) {
    let m_state = Arc::new(Mutex::new(fakes::Mastodon {
        statuses: Default::default(),
        replies: [("100".to_string(), vec![])].into(),
        public_cap: 60,
        token: "report-token-0123456789".into(),
    }));
    let mastodon = fakes::mastodon(m_state.clone(), Duration::ZERO);
    std::env::set_var("HERALD_TEST_REPORT_TOKEN", "report-token-0123456789");
    let site = Site::new(&format!(
        "[[taxonomies]]\nname = \"tags\"\n\n[networks.mastodon]\nkind = \"mastodon\"\ninstance = \"{}\"\ntoken_env = \"HERALD_TEST_REPORT_TOKEN\"\n",
        mastodon.url
    ));
    site.write(
        "content/news/launch.md",
        "+++\ntitle = \"We launched\"\ndate = 2026-05-30\n[taxonomies]\ntags = [\"product\"]\n+++\nThe launch post.\n",
    );
    site.write(
        "data/syndication.toml",
        "[\"news/launch.md\".mastodon]\nstatus = \"posted\"\nid = \"100\"\nurl = \"https://mastodon.example/@fernhill/100\"\nposted_at = \"2026-05-30T09:00:00Z\"\n",
    );
    let days = [
        "2026-05-31T00:00:00Z",
        "2026-06-01T00:00:00Z",
        "2026-06-03T12:00:00Z",
    ];
    let counts = [
        (3u64, 1u64, 0u64, 0u64, 3400u64),
        (10, 4, 1, 2, 3410),
        (12, 5, 1, 3, 3425),
    ];
    for (likes, reposts, quotes, replies, followers) in counts {
        let fern = account("1", "fernhill", None, "Fernhill", followers);
        let mut root = status(
            "100",
            None,
            &fern,
            "<p>We launched</p>",
            "2026-05-30T09:00:00.000Z",
            "public",
        );
        root["favourites_count"] = json!(likes);
        root["reblogs_count"] = json!(reposts);
        root["quotes_count"] = json!(quotes);
        root["replies_count"] = json!(replies);
        root["url"] = json!("https://mastodon.example/@fernhill/100");
        m_state.lock().unwrap().statuses = [("100".to_string(), root)].into();
        let r = site.fetch();
        assert!(r.failed.is_empty(), "{:?}", r.failed);
    }
    // The runs took place just now; date them as if days apart.
    let text = site.read("data/comments/history.jsonl");
    let mut lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    for (line, at) in lines.iter_mut().zip(days) {
        line["at"] = json!(at);
    }
    let mut out: String = lines.iter().map(|l| format!("{l}\n")).collect();
    out.push_str("{\"torn line\n");
    site.write("data/comments/history.jsonl", &out);
    (site, mastodon)
}

#[test]
fn csv_and_json_give_the_exact_figures() {
    let (site, _fake) = history();
    let (ok, csv, err) = herald(site.root(), &["--format", "csv"]);
    assert!(ok, "{err}");
    assert_eq!(
        csv,
        "entry,title,url,published,network,kind,post_url,likes,reposts,quotes,replies,total,gained,followers,fetched_at,period\n\
         news/launch.md,We launched,https://news.example.com/news/launch/,2026-05-30,mastodon,mastodon,https://mastodon.example/@fernhill/100,12,5,1,3,21,21,3425,2026-06-03T12:00:00Z,..\n"
    );
    let (ok, csv, err) = herald(
        site.root(),
        &[
            "--format",
            "csv",
            "--since",
            "2026-06-01",
            "--until",
            "2026-06-02",
        ],
    );
    assert!(ok, "{err}");
    assert!(
        csv.ends_with(",10,4,1,2,17,13,3410,2026-06-01T00:00:00Z,2026-06-01..2026-06-02\n"),
        "{csv}"
    );

    let (ok, json, err) = herald(site.root(), &["--format", "json"]);
    assert!(ok, "{err}");
    let j: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(j["last_fetched"], "2026-06-03T12:00:00Z");
    assert_eq!(j["rows"][0]["total"], 21);
    assert_eq!(j["networks"][0]["followers_start"], 3400);
    assert_eq!(j["networks"][0]["followers_end"], 3425);
    assert_eq!(
        j["tags"],
        json!([{"tag": "product", "entries": 1, "total": 21}])
    );
    assert_eq!(
        j["series"][0]["points"],
        json!([[1.0, 4], [2.0, 17], [4.5, 21]]),
        "days since publication, total"
    );
    assert_eq!(
        j["followers"][0]["points"],
        json!([
            ["2026-05-31T00:00:00Z", 3400],
            ["2026-06-01T00:00:00Z", 3410],
            ["2026-06-03T12:00:00Z", 3425]
        ])
    );
}

#[test]
fn the_default_run_prints_a_summary_and_writes_the_html_report() {
    let (site, _fake) = history();
    let (ok, out, err) = herald(site.root(), &[]);
    assert!(ok, "{err}");
    assert!(out.contains("We launched"), "{out}");
    assert!(out.contains("3425 (+25)"), "{out}");
    let html = site.read("report/index.html");
    assert!(html.contains(r#"data-series="mastodon""#), "{html}");
    assert!(html.contains(r#"aria-label="Followers of each account""#));
    assert!(html.contains(r##"data-series="#product""##));
    assert!(!html.contains("src=\"http"), "no outside request");
    assert!(!site.root().join("public/report").exists());
    if let Some(dir) = std::env::var_os("HERALD_REPORT_KEEP") {
        std::fs::copy(
            site.root().join("report/index.html"),
            Path::new(&dir).join("report.html"),
        )
        .unwrap();
    }
}

#[test]
fn bad_input_is_explained() {
    let site = Site::new("");
    let (ok, _, err) = herald(site.root(), &[]);
    assert!(!ok);
    assert!(
        err.contains("data/comments/history.jsonl") && err.contains("herald comments"),
        "{err}"
    );
    let (ok, _, err) = herald(
        site.root(),
        &["--since", "2026-06-02", "--until", "2026-06-01"],
    );
    assert!(!ok && err.contains("swap them"), "{err}");
    let (ok, _, err) = herald(site.root(), &["--since", "June"]);
    assert!(!ok && err.contains("YYYY-MM-DD"), "{err}");
    let (ok, _, err) = herald(site.root(), &["--format", "pdf"]);
    assert!(!ok && err.contains("csv"), "{err}");
}

fn node_modules() -> std::path::PathBuf {
    let home = std::env::var_os("SITE_CHECK_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| Path::new(&std::env::var_os("HOME").unwrap()).join(".cache"));
            cache.join("site-check")
        });
    home.join("node/node_modules")
}

/// The report opened from disk in headless Chromium, light and dark: no
/// outside request, no axe-core violation, screenshots in target/screenshots/.
#[test]
fn the_report_works_offline_in_a_browser_and_is_screenshotted() {
    let modules = node_modules();
    let chromium = std::env::var_os("CHROMIUM").unwrap_or_else(|| "/usr/bin/chromium".into());
    for (what, p) in [
        ("Chromium", Path::new(&chromium).to_path_buf()),
        (
            "playwright-core",
            modules.join("playwright-core/package.json"),
        ),
        ("axe-core", modules.join("axe-core/axe.min.js")),
    ] {
        assert!(
            p.exists(),
            "{what} is not installed ({} is missing): run `bash .ci/run` once, which installs the test tools into ~/.cache",
            p.display()
        );
    }
    let (site, _fake) = history();
    // A second entry, gone from content/, so the charts have two series.
    let mut h = site.read("data/comments/history.jsonl");
    h.push_str("\n{\"at\":\"2026-06-02T00:00:00Z\",\"entry\":\"news/removed.md\",\"network\":\"bluesky\",\"kind\":\"bluesky\",\"likes\":4,\"reposts\":2,\"quotes\":0,\"replies\":1,\"comments\":1,\"followers\":800}\n");
    site.write("data/comments/history.jsonl", &h);
    let (ok, _, err) = herald(site.root(), &["--format", "html"]);
    assert!(ok, "{err}");
    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    let out = Command::new("node")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/report/browser.mjs"))
        .arg("--file")
        .arg(site.root().join("report/index.html"))
        .arg("--node-modules")
        .arg(&modules)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .expect("node runs (run `bash .ci/run` once)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for scheme in ["light", "dark"] {
        assert!(out_dir
            .join(format!("report-offline-1280-{scheme}.png"))
            .exists());
    }
}
