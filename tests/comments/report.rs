//! `herald report` (issue 7) over a history built by real `herald comments`
//! runs against the Mastodon and Discourse fakes, on two days with counts
//! that changed in between: exact figures in CSV and JSON, the charts in the
//! HTML, and screenshots in Chromium (into target/screenshots/).

use crate::fetch::setup;
use crate::support::{repo, Site};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

fn fetch_at(site: &Site, at: &str) {
    let mut o = herald::comments::FetchOptions::new(site.root());
    o.now = chrono::DateTime::parse_from_rfc3339(at).unwrap().to_utc();
    let r = herald::comments::fetch_all(&o, &herald::comments::Quiet).unwrap();
    assert!(r.failed.is_empty(), "{:?}", r.failed);
}

fn herald(site: &Site, args: &[&str]) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--root")
        .arg(site.root())
        .args(args)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    assert!(
        out.status.success(),
        "herald {args:?} failed:\n{stdout}\n{stderr}"
    );
    (stdout, stderr)
}

/// A site with two days of history: on the second, the Mastodon post has 3
/// more favourites, 2 more boosts and the account 10 more followers.
fn two_days() -> (Site, crate::fetch::Fakes) {
    let (site, f) = setup("comments-report", Duration::ZERO);
    site.write(
        "content/news/launch.md",
        "+++\ntitle = \"We launched\"\ndate = 2026-05-30\n[taxonomies]\ntags = [\"product\", \"launch\"]\n+++\nThe launch post.\n",
    );
    let config = site.read("site.toml");
    site.write(
        "site.toml",
        &format!("{config}\n[[taxonomies]]\nname = \"tags\"\n"),
    );
    fetch_at(&site, "2026-06-01T09:00:00Z");
    {
        let mut st = f.m_state.lock().unwrap();
        let root = st.statuses.get_mut("100").unwrap();
        root["favourites_count"] = json!(60);
        root["reblogs_count"] = json!(25);
        root["account"]["followers_count"] = json!(3420);
    }
    fetch_at(&site, "2026-06-02T09:00:00Z");
    (site, f)
}

#[test]
fn csv_and_json_carry_the_exact_figures() {
    let (site, _f) = two_days();
    let (csv, _) = herald(&site, &["report", "--format", "csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "entry,title,url,published,network,kind,post_url,likes,reposts,quotes,replies,total,gained,followers,fetched_at,period"
    );
    // Mastodon: 60 + 25 + 2 quotes + 70 replies.
    assert_eq!(
        lines[1],
        "news/launch.md,We launched,https://news.example.com/news/launch/,2026-05-30,mastodon,mastodon,https://mastodon.example/@fernhill/100,60,25,2,70,157,157,3420,2026-06-02T09:00:00Z,.."
    );
    assert!(lines[2].starts_with("news/launch.md,We launched,https://news.example.com/news/launch/,2026-05-30,forum,discourse,"), "{csv}");
    assert_eq!(lines.len(), 3, "{csv}");

    let (json, _) = herald(
        &site,
        &["report", "--format", "json", "--since", "2026-06-02"],
    );
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["since"], "2026-06-02");
    assert_eq!(v["last_fetched"], "2026-06-02T09:00:00Z");
    let m = &v["rows"][0];
    assert_eq!(
        (
            m["network"].as_str(),
            m["total"].as_u64(),
            m["gained"].as_u64()
        ),
        (Some("mastodon"), Some(157), Some(5))
    );
    let nets = v["networks"].as_array().unwrap();
    let mastodon = nets.iter().find(|n| n["network"] == "mastodon").unwrap();
    assert_eq!(
        (
            mastodon["followers_start"].as_u64(),
            mastodon["followers_end"].as_u64()
        ),
        (Some(3420), Some(3420)),
        "only the period's snapshots"
    );
    let (json, _) = herald(&site, &["report", "--format", "json"]);
    let v: Value = serde_json::from_str(&json).unwrap();
    let mastodon = v["networks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["network"] == "mastodon")
        .unwrap()
        .clone();
    assert_eq!(
        (
            mastodon["followers_start"].as_u64(),
            mastodon["followers_end"].as_u64()
        ),
        (Some(3410), Some(3420))
    );
    let series = v["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["network"] == "mastodon")
        .unwrap()
        .clone();
    assert_eq!(
        series["points"],
        json!([[2.38, 152], [3.38, 157]]),
        "days since 2026-05-30"
    );
    let tags: Vec<&str> = v["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tag"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["launch", "product"]);
    assert_eq!(v["top_entries"][0]["title"], "We launched");

    // To a file instead of standard output.
    let (out, _) = herald(
        &site,
        &["report", "--format", "csv", "--output", "figures.csv"],
    );
    assert!(out.is_empty());
    assert_eq!(site.read("figures.csv"), csv);
}

#[test]
fn the_summary_and_the_html_report_with_its_charts() {
    let (site, _f) = two_days();
    let (summary, stderr) = herald(&site, &["report"]);
    assert!(
        summary.contains("Engagement, all time (last fetched 2026-06-02T09:00:00Z)"),
        "{summary}"
    );
    assert!(summary.contains("  1.    "), "{summary}");
    assert!(
        summary.contains("3420 (+10)"),
        "the follower change:\n{summary}"
    );
    assert!(stderr.contains("report/index.html"), "{stderr}");
    assert!(
        !site.root().join("public/report").exists(),
        "the report stays out of public/"
    );
    let html = site.read("report/index.html");
    assert_eq!(
        html.matches("<svg").count(),
        4,
        "top entries, tags, followers, the entry"
    );
    assert!(html.contains(r#"aria-label="We launched: engagement over its first days""#));
    for series in [
        r#"data-series="mastodon""#,
        r#"data-series="forum""#,
        r##"data-series="#launch""##,
        r#"data-series="We launched""#,
    ] {
        assert!(html.contains(series), "{series}");
    }
    assert!(html.contains(">days since publication</text>") && html.contains(">followers</text>"));

    // A real browser: no outside request, the table sorts, screenshots.
    let nm = std::env::var_os("SITE_CHECK_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/site-check"))
        .join("node/node_modules");
    assert!(
        nm.join("playwright-core").exists(),
        "playwright-core is not installed: run `bash .ci/run` once"
    );
    let out_dir = repo().join("target/screenshots");
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = Command::new("node")
        .arg(repo().join("tests/comments/report_shot.mjs"))
        .args([
            "--page",
            site.root().join("report/index.html").to_str().unwrap(),
        ])
        .args(["--out", out_dir.to_str().unwrap()])
        .args(["--node-modules", nm.to_str().unwrap()])
        .output()
        .expect("node runs (installed by .ci/run)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["requests"], json!([]), "the report loads nothing");
    assert_eq!(v["charts"], 4);
    assert_eq!(v["rows"], 2);
    let sorted: Vec<u64> = serde_json::from_value(v["sorted"].clone()).unwrap();
    assert!(
        sorted.windows(2).all(|w| w[0] <= w[1]) && sorted.contains(&60),
        "{sorted:?}"
    );
    for shot in v["shots"].as_array().unwrap() {
        assert!(std::fs::metadata(shot.as_str().unwrap()).unwrap().len() > 10_000);
    }
}

#[test]
fn no_history_and_a_reversed_period_are_explained() {
    let site = Site::new("");
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--root")
        .arg(site.root())
        .arg("report")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("data/comments/history.jsonl") && err.contains("herald comments"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["report", "--since", "2026-06-02", "--until", "2026-06-01"])
        .arg("--root")
        .arg(site.root())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--since 2026-06-02 is after --until 2026-06-01"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(["report", "--since", "June"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`June` is not a day: write it as YYYY-MM-DD"),
        "{err}"
    );
}
