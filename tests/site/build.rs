//! What a successful build writes.

use crate::support::*;

fn news_site() -> TestSite {
    TestSite::with(&[
        (
            "content/_index.md",
            &page("title = \"Home\"", "Welcome *home*."),
        ),
        (
            "content/news/_index.md",
            &page("title = \"News\"\ndescription = \"All news\"", ""),
        ),
        (
            "content/news/2026-01-10-first.md",
            &page(
                "title = \"First\"\n[taxonomies]\ntags = [\"Launch\", \"API\"]",
                "One.",
            ),
        ),
        (
            "content/news/2026-02-10-second.md",
            &page("title = \"Second\"\n[taxonomies]\ntags = [\"api\"]", "Two."),
        ),
        (
            "content/news/third.md",
            &page("title = \"Third\"\ndate = 2026-03-10T09:30:00Z", "Three."),
        ),
        (
            "content/about.md",
            &page("title = \"About\"", "We make things."),
        ),
    ])
}

#[test]
fn pages_get_pretty_urls_from_file_names_and_dates() {
    let site = news_site();
    let r = site.build_ok();
    assert_eq!(r.pages, 4);
    let first = site.read("news/first/index.html");
    assert!(first.contains("<h1 class=\"p-name\">First</h1>"), "{first}");
    assert!(
        first.contains("datetime=\"2026-01-10T00:00:00Z\""),
        "{first}"
    );
    assert!(site.exists("news/third/index.html"));
    assert!(site.exists("about/index.html"));
}

#[test]
fn sections_list_newest_first_and_paginate() {
    let site = news_site();
    site.build_ok();
    let news = site.read("news/index.html");
    let order: Vec<usize> = ["Third", "Second"]
        .iter()
        .map(|t| news.find(&format!(">{t}</a>")).unwrap())
        .collect();
    assert!(order[0] < order[1], "newest first");
    assert!(!news.contains(">First</a>"), "page 1 holds two entries");
    assert!(news.contains("1/2 of 3"));
    assert!(news.contains(r#"<a rel="next" href="https://example.com/news/page/2/">"#));
    let page2 = site.read("news/page/2/index.html");
    assert!(page2.contains(">First</a>"));
    assert!(page2.contains(r#"<a rel="prev" href="https://example.com/news/">"#));
}

#[test]
fn home_lists_dated_entries_of_every_section_but_not_undated_pages() {
    let site = news_site();
    site.build_ok();
    let home = site.read("index.html");
    assert!(home.contains("<em>home</em>"));
    assert!(home.contains(">Third</a>"));
    assert!(!home.contains(">About</a>"));
    assert!(home.contains("1/2 of 3"));
}

#[test]
fn neighbours_follow_the_section_order() {
    let site = news_site();
    site.build_ok();
    let second = site.read("news/second/index.html");
    assert!(second.contains("newer: Third"));
    assert!(second.contains("older: First"));
    let first = site.read("news/first/index.html");
    assert!(!first.contains("older:"));
}

#[test]
fn taxonomies_get_list_and_term_pages_with_merged_spellings() {
    let site = news_site();
    site.build_ok();
    let list = site.read("tags/index.html");
    // A term is named as the newest entry spells it.
    assert!(
        list.contains(r#"<a href="https://example.com/tags/api/">api</a> (2)"#),
        "{list}"
    );
    assert!(list.contains(r#"<a href="https://example.com/tags/launch/">Launch</a> (1)"#));
    let api = site.read("tags/api/index.html");
    assert!(api.contains("tags: api"));
    assert!(api.contains(">Second</a>") && api.contains(">First</a>"));
    assert!(site.exists("tags/api/atom.xml"));
}

#[test]
fn undated_pages_sort_after_dated_ones() {
    let site = TestSite::with(&[
        ("content/docs/b.md", &page("title = \"B undated\"", "")),
        (
            "content/docs/a.md",
            &page("title = \"A dated\"\ndate = 2020-01-01", ""),
        ),
    ]);
    site.build_ok();
    let docs = site.read("docs/index.html");
    assert!(docs.find("A dated").unwrap() < docs.find("B undated").unwrap());
}

#[test]
fn sort_by_weight_and_title() {
    let site = TestSite::with(&[
        (
            "content/w/_index.md",
            &page("title = \"W\"\nsort_by = \"weight\"", ""),
        ),
        ("content/w/x.md", &page("title = \"X\"\nweight = 2", "")),
        ("content/w/y.md", &page("title = \"Y\"\nweight = 1", "")),
        (
            "content/t/_index.md",
            &page("title = \"T\"\nsort_by = \"title\"\npaginate_by = 0", ""),
        ),
        ("content/t/p.md", &page("title = \"beta\"", "")),
        ("content/t/q.md", &page("title = \"Alpha\"", "")),
        ("content/t/r.md", &page("title = \"gamma\"", "")),
    ]);
    site.build_ok();
    let w = site.read("w/index.html");
    assert!(w.find(">Y</a>").unwrap() < w.find(">X</a>").unwrap());
    let t = site.read("t/index.html");
    assert!(t.find(">Alpha</a>").unwrap() < t.find(">beta</a>").unwrap());
    assert!(t.find(">beta</a>").unwrap() < t.find(">gamma</a>").unwrap());
    assert!(
        !site.exists("t/page/2/index.html"),
        "paginate_by = 0 turns pagination off"
    );
}

#[test]
fn drafts_and_scheduled_entries_are_left_out_unless_asked() {
    let site = TestSite::with(&[
        (
            "content/news/draft.md",
            &page("title = \"Draft\"\ndraft = true", ""),
        ),
        (
            "content/news/2027-01-01-later.md",
            &page("title = \"Later\"", ""),
        ),
        (
            "content/news/2026-05-31-now.md",
            &page("title = \"Now\"", ""),
        ),
    ]);
    site.build_ok();
    assert!(site.exists("news/now/index.html"));
    assert!(!site.exists("news/draft/index.html"));
    assert!(!site.exists("news/later/index.html"));
    assert!(!site.read("atom.xml").contains("Later"));

    let mut o = site.options();
    o.drafts = true;
    o.future = true;
    herald::commands::build(&o).unwrap();
    assert!(site.exists("news/draft/index.html"));
    assert!(site.exists("news/later/index.html"));
}

#[test]
fn slug_and_path_override_the_address() {
    let site = TestSite::with(&[
        (
            "content/news/2026-01-01-long-name.md",
            &page("title = \"S\"\nslug = \"Short Name\"", ""),
        ),
        (
            "content/news/p.md",
            &page("title = \"P\"\npath = \"company/press\"", ""),
        ),
    ]);
    site.build_ok();
    assert!(site.exists("news/short-name/index.html"));
    assert!(site.exists("company/press/index.html"));
}

#[test]
fn aliases_become_redirect_pages() {
    let site = TestSite::with(&[(
        "content/news/a.md",
        &page(
            "title = \"A\"\naliases = [\"/old/a/\", \"blog/a.html\"]",
            "",
        ),
    )]);
    site.build_ok();
    for f in ["old/a/index.html", "blog/a.html"] {
        let html = site.read(f);
        assert!(
            html.contains(r#"<meta http-equiv="refresh" content="0; url=/news/a/">"#),
            "{html}"
        );
        assert!(html.contains(r#"<link rel="canonical" href="https://example.com/news/a/">"#));
    }
    // Under a base URL with a path, the refresh keeps that path.
    site.write(
        "site.toml",
        BASE_CONFIG.replace("https://example.com", "https://example.com/company"),
    );
    site.build_ok();
    let html = site.read("old/a/index.html");
    assert!(
        html.contains(r#"<meta http-equiv="refresh" content="0; url=/company/news/a/">"#),
        "{html}"
    );
}

#[test]
fn bundles_copy_their_assets_beside_the_page() {
    let site = TestSite::with(&[
        (
            "content/news/2026-02-02-launch/index.md",
            &page("title = \"Launch\"", "![Screen](shot.png)"),
        ),
        ("content/news/2026-02-02-launch/shot.png", "PNG"),
        ("content/news/2026-02-02-launch/files/spec.pdf", "PDF"),
        ("content/news/logo.svg", "<svg/>"),
    ]);
    site.build_ok();
    let html = site.read("news/launch/index.html");
    assert!(
        html.contains(r#"<img src="shot.png" alt="Screen" />"#),
        "{html}"
    );
    assert_eq!(site.read("news/launch/shot.png"), "PNG");
    assert_eq!(site.read("news/launch/files/spec.pdf"), "PDF");
    assert_eq!(site.read("news/logo.svg"), "<svg/>");
}

#[test]
fn a_section_without_index_still_works_and_nests() {
    let site = TestSite::with(&[
        (
            "content/releases/_index.md",
            &page("title = \"Releases\"", ""),
        ),
        (
            "content/releases/mobile/2026-01-01-app-2.md",
            &page("title = \"App 2\"", ""),
        ),
        (
            "content/releases/2026-02-01-web-5.md",
            &page("title = \"Web 5\"", ""),
        ),
    ]);
    site.build_ok();
    let mobile = site.read("releases/mobile/index.html");
    assert!(mobile.contains("<h1>Mobile</h1>"));
    let releases = site.read("releases/index.html");
    assert!(releases
        .contains(r#"<a class="sub" href="https://example.com/releases/mobile/">Mobile</a>"#));
    assert!(
        releases.contains(">App 2</a>"),
        "a section lists its subsections' entries too"
    );
    assert!(site.exists("releases/mobile/app-2/index.html"));
}

#[test]
fn markdown_features_toc_summary_and_reading_time() {
    let body = "Intro with \"quotes\" -- and a footnote[^n].\n\n<!-- more -->\n\n## Setup\n\n### Install\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n\n~~gone~~\n\n[^n]: The note.\n";
    let site = TestSite::with(&[(
        "content/news/m.md",
        &page("title = \"M\"\ndate = 2026-01-01", body),
    )]);
    site.build_ok();
    let html = site.read("news/m/index.html");
    assert!(
        html.contains("<h2 id=\"setup\">Setup <a class=\"anchor\" href=\"#setup\""),
        "{html}"
    );
    assert!(html.contains("<ol class=\"toc\"><li><a href=\"#setup\">Setup</a><ol><li><a href=\"#install\">Install</a>"));
    assert!(html.contains("\u{201c}quotes\u{201d} \u{2013} and"));
    assert!(
        html.contains("<table>") && html.contains("<del>gone</del>") && html.contains("checkbox")
    );
    assert!(html.contains("<div class=\"summary\"><p>Intro with"));
    assert!(html.contains("minutes=1 authors=Test Author"));
}

#[test]
fn internal_links_become_permalinks() {
    let site = TestSite::with(&[
        (
            "content/news/a.md",
            &page(
                "title = \"A\"",
                "See [B](@/news/2026-01-01-b.md#part) and [news](@/news/_index.md).",
            ),
        ),
        ("content/news/_index.md", &page("title = \"News\"", "")),
        (
            "content/news/2026-01-01-b.md",
            &page("title = \"B\"", "## Part"),
        ),
    ]);
    site.build_ok();
    let a = site.read("news/a/index.html");
    assert!(
        a.contains(r#"<a href="https://example.com/news/b/#part">B</a>"#),
        "{a}"
    );
    assert!(a.contains(r#"<a href="https://example.com/news/">news</a>"#));
}

#[test]
fn extra_reaches_templates() {
    let site = TestSite::with(&[(
        "content/a.md",
        &page(
            "title = \"A\"\n[extra]\nimage = \"x.png\"\nwhen = 2026-01-01",
            "",
        ),
    )]);
    site.build_ok();
    assert!(site
        .read("a/index.html")
        .contains(r#"extra={"image":"x.png","when":"2026-01-01"}"#));
}

#[test]
fn site_templates_and_static_override_the_theme_file_by_file() {
    let site = news_site();
    site.write("templates/404.html", "custom 404 for {{ site.title }}");
    site.write("static/style.css", "/* site */");
    site.write("static/robots-extra.txt", "x");
    site.build_ok();
    assert_eq!(site.read("404.html"), "custom 404 for Test News");
    assert_eq!(site.read("style.css"), "/* site */");
    assert!(
        site.read("news/first/index.html").contains("<article"),
        "other templates still come from the theme"
    );
}

#[test]
fn templates_have_teras_usual_filters_and_functions() {
    let site = news_site();
    site.write(
        "templates/404.html",
        concat!(
            "{{ \"2026-01-10T09:30:00Z\" | date(format=\"%d %b %H:%M %Z\", timezone=\"Europe/Paris\") }}|",
            "{{ site.title | slugify }}|{{ 1500000 | filesizeformat }}|",
            "{{ \"a b\" | urlencode }}|{{ get_random(end=1) }}|{{ now(timestamp=true) > 0 }}",
        ),
    );
    site.build_ok();
    assert_eq!(
        site.read("404.html"),
        "10 Jan 10:30 CET|test-news|1.43 MB|a%20b|0|true"
    );
}

#[test]
fn sitemap_and_robots() {
    let site = news_site();
    site.build_ok();
    let sitemap = site.read("sitemap.xml");
    assert!(sitemap
        .contains("<loc>https://example.com/news/first/</loc>\n    <lastmod>2026-01-10</lastmod>"));
    assert!(sitemap.contains("<loc>https://example.com/tags/api/</loc>"));
    assert!(
        sitemap.contains("<loc>https://example.com/news/page/2/</loc>"),
        "every pager is listed"
    );
    assert_eq!(
        site.read("robots.txt"),
        "User-agent: *\nAllow: /\n\nSitemap: https://example.com/sitemap.xml\n"
    );
    assert!(site.read("404.html").contains("Not found"));
}

#[test]
fn two_builds_are_byte_identical() {
    let site = news_site();
    site.build_ok();
    let a = snapshot(&site.public(""));
    site.build_ok();
    let b = snapshot(&site.public(""));
    assert_eq!(a.len(), b.len());
    assert!(
        a == b,
        "output differs between two builds of the same input"
    );
}

#[test]
fn a_failed_build_leaves_the_previous_site_untouched() {
    let site = news_site();
    site.build_ok();
    let before = snapshot(&site.public(""));
    site.write("content/news/broken.md", "+++\ntitle = \n+++\n");
    site.build_err();
    assert!(before == snapshot(&site.public("")));
    let leftovers: Vec<_> = std::fs::read_dir(site.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".public"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Every list shows each entry's summary exactly as the page's own
/// template got it, without the fields only a page has (a page's summary is
/// lent to its page and to each list, not copied), and each page gets its
/// own HTML (handed from the load to the page, not kept).
#[test]
fn lists_and_pages_see_the_summaries_and_html_they_should() {
    let site = news_site();
    site.write(
        "templates/section.html",
        "{{ paginator.pages | json_encode() | safe }}",
    );
    site.write(
        "templates/taxonomy_term.html",
        "{{ paginator.pages | json_encode() | safe }}",
    );
    site.write(
        "templates/page.html",
        "{{ page.content | safe }}|{{ page.slug }}|{{ page.title }}|{{ page.toc | length }}",
    );
    site.build_ok();
    let page_only = [
        "content",
        "toc",
        "slug",
        "newer",
        "older",
        "assets",
        "syndication",
        "comments",
        "lang",
    ];
    let mut seen = 0;
    for list in [
        "news/index.html",
        "news/page/2/index.html",
        "tags/api/index.html",
    ] {
        let json: serde_json::Value = serde_json::from_str(&site.read(list)).unwrap();
        for summary in json.as_array().unwrap() {
            let summary = summary.as_object().unwrap();
            for field in page_only {
                assert!(
                    !summary.contains_key(field),
                    "{list}: `{field}` in {summary:?}"
                );
            }
            for field in ["title", "permalink", "summary", "word_count", "taxonomies"] {
                assert!(
                    summary.contains_key(field),
                    "{list}: no `{field}` in {summary:?}"
                );
            }
            seen += 1;
        }
    }
    assert_eq!(seen, 5, "news lists 3 pages by 2, tag `api` 2");
    assert_eq!(
        site.read("news/first/index.html"),
        "<p>One.</p>\n|first|First|0"
    );
    assert_eq!(
        site.read("news/third/index.html"),
        "<p>Three.</p>\n|third|Third|0"
    );
}

#[test]
fn a_section_with_a_limit_lists_only_its_first_pages() {
    let site = news_site();
    site.write(
        "content/_index.md",
        page(
            "title = \"Home\"\nlimit = 2\npaginate_by = 0",
            "Welcome *home*.",
        ),
    );
    site.build_ok();
    let home = site.read("index.html");
    assert!(home.contains(">Third</a>") && home.contains(">Second</a>"));
    assert!(
        !home.contains(">First</a>"),
        "the third newest is over the limit"
    );
    assert!(!site.exists("page/2/index.html"));
    assert!(!site.exists("page/1/index.html"), "not paginated");
    // The section it limits is the home page alone: the news section
    // still lists every entry.
    assert!(site.read("news/page/2/index.html").contains(">First</a>"));
    let sitemap = site.read("sitemap.xml");
    assert!(!sitemap.contains("https://example.com/page/"), "{sitemap}");
    assert!(sitemap.contains("https://example.com/news/page/2/"));

    // With pagination, the limit comes first: 2 entries, one pager.
    site.write(
        "content/_index.md",
        page("title = \"Home\"\nlimit = 2\npaginate_by = 1", ""),
    );
    site.build_ok();
    assert!(site.read("page/2/index.html").contains(">Second</a>"));
    assert!(!site.exists("page/3/index.html"));
}

#[test]
fn a_paginated_list_redirects_its_first_pager_to_itself() {
    let site = news_site();
    // A theme without a redirect template gets the built-in one.
    std::fs::remove_file(site.root().join("themes/default/templates/alias.html")).unwrap();
    site.write(
        "content/company/_index.md",
        page("title = \"Company\"\npaginate_by = 0", ""),
    );
    site.write("content/company/team.md", page("title = \"Team\"", ""));
    site.build_ok();
    for (from, to) in [
        ("news/page/1/index.html", "/news/"),
        ("page/1/index.html", "/"),
        ("tags/api/page/1/index.html", "/tags/api/"),
    ] {
        let html = site.read(from);
        assert!(
            html.contains(&format!(r#"content="0; url={to}""#)),
            "{from}: {html}"
        );
        assert!(html.contains(&format!(r#"href="https://example.com{to}""#)));
    }
    assert!(site.exists("company/index.html"));
    assert!(
        !site.exists("company/page/1/index.html"),
        "a list that is not paginated has no pagers"
    );
    assert!(!site.read("sitemap.xml").contains("/page/1/"));
}
