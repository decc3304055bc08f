//! Feeds: content, ids, limits, and what a real feed parser makes of them.

use crate::support::*;
use std::process::Command;

fn feed_site() -> TestSite {
    let site = TestSite::with(&[
        ("content/news/_index.md", &page("title = \"News\"", "")),
        (
            "content/news/2026-01-10-launch/index.md",
            &page(
                "title = \"Launch & <more>\"\ndescription = \"We launched\"\nauthors = [\"Ana\"]\n[taxonomies]\ntags = [\"launch\"]",
                "Hello ![pic](pic.png) [about](/about/) [top](#top) [ext](https://ext.example/x).\n\n## Top\n",
            ),
        ),
        ("content/news/2026-01-10-launch/pic.png", "PNG"),
        ("content/news/2026-02-01-second.md", &page("title = \"Second\"\nupdated = 2026-03-01", "Two.")),
        ("content/about.md", &page("title = \"About\"", "Undated.")),
    ]);
    site.write("site.toml", format!("{BASE_CONFIG}\n[feeds]\nlimit = 5\n"));
    site
}

#[test]
fn feeds_carry_full_content_with_absolute_urls() {
    let site = feed_site();
    site.build_ok();
    let atom = site.read("atom.xml");
    assert!(
        atom.contains("src=&quot;https://example.com/news/launch/pic.png&quot;"),
        "{atom}"
    );
    assert!(atom.contains("href=&quot;https://example.com/about/&quot;"));
    assert!(atom.contains("href=&quot;https://example.com/news/launch/#top&quot;"));
    assert!(atom.contains("<title>Launch &amp; &lt;more&gt;</title>"));
    assert!(atom.contains("<id>https://example.com/news/launch/</id>"));
    assert!(
        atom.contains("<updated>2026-03-01T00:00:00+00:00</updated>"),
        "feed updated = newest change"
    );
    assert!(!atom.contains("About"), "undated pages stay out of feeds");
    let json: serde_json::Value = serde_json::from_str(&site.read("feed.json")).unwrap();
    assert_eq!(json["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(json["items"][0]["id"], "https://example.com/news/second/");
    assert_eq!(json["items"][1]["authors"][0]["name"], "Ana");
    assert!(json["items"][1]["content_html"]
        .as_str()
        .unwrap()
        .contains("https://example.com/news/launch/pic.png"));
    let rss = site.read("rss.xml");
    assert!(
        rss.contains("<pubDate>Sat, 10 Jan 2026 00:00:00 +0000</pubDate>"),
        "{rss}"
    );
    assert!(
        rss.contains("<guid>https://example.com/news/launch/</guid>"),
        "{rss}"
    );
}

#[test]
fn each_section_and_term_has_its_feeds_and_the_limit_holds() {
    let site = feed_site();
    site.write(
        "site.toml",
        format!("{BASE_CONFIG}\n[feeds]\nlimit = 1\nformats = [\"atom\", \"json\"]\n"),
    );
    site.build_ok();
    for f in [
        "atom.xml",
        "feed.json",
        "news/atom.xml",
        "news/feed.json",
        "tags/launch/atom.xml",
    ] {
        assert!(site.exists(f), "{f}");
    }
    assert!(!site.exists("rss.xml"), "only the formats asked for");
    let json: serde_json::Value = serde_json::from_str(&site.read("feed.json")).unwrap();
    assert_eq!(json["items"].as_array().unwrap().len(), 1);
    assert!(site
        .read("tags/launch/atom.xml")
        .contains("<id>https://example.com/news/launch/</id>"));
    let section_page = site.read("news/index.html");
    assert!(section_page.contains(r#"<link rel="alternate" type="application/atom+xml" title="News — Test News (Atom)" href="https://example.com/news/atom.xml">"#), "{section_page}");
}

#[test]
fn feedparser_reads_every_feed_without_complaint() {
    require_tools();
    let site = feed_site();
    site.build_ok();
    let script = r#"
import sys, feedparser
for path in sys.argv[1:]:
    d = feedparser.parse(path)
    assert not d.bozo, (path, d.bozo_exception)
    assert d.version in ("atom10", "rss20"), (path, d.version)
    titles = [e.title for e in d.entries]
    links = [e.link for e in d.entries]
    print(path.rsplit("/", 1)[-1], "|".join(titles), "|".join(links), d.entries[1].content[0].value.count("https://example.com/news/launch/pic.png") if d.version == "atom10" else d.entries[1].summary.count("https://example.com/news/launch/pic.png"))
"#;
    let out = Command::new(site_check_home().join("venv/bin/python"))
        .args(["-c", script])
        .arg(site.public("atom.xml"))
        .arg(site.public("rss.xml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "atom.xml Second|Launch & <more> https://example.com/news/second/|https://example.com/news/launch/ 1\n\
         rss.xml Second|Launch & <more> https://example.com/news/second/|https://example.com/news/launch/ 1\n"
    );
}
